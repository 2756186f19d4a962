//! slb-operator: a Kubernetes operator for Alibaba Cloud classic Server Load Balancer.

pub mod admin;
pub mod cli;
pub mod conditions;
pub mod context;
pub mod controller;
pub mod crd;
pub mod error;
pub mod metered;
pub mod metrics;
pub mod operator;
