//! A faithful, stateful emulator of the Alibaba Cloud Server Load Balancer API, version 2014-05-15.
