//! A typed client for the Alibaba Cloud Server Load Balancer API, version 2014-05-15.

pub mod signature;
