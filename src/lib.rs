//! slb-operator: a Kubernetes operator for Alibaba Cloud classic Server Load Balancer.

pub mod cli;
pub mod conditions;
pub mod crd;
