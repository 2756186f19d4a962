//! Create and Set of TCP and UDP listeners.

use super::listener;
use super::params::{HealthCheckTiming, HttpHealthCheck, ServerGroupIds, ServerGroupSwitches};
use crate::action::{Validate, ValidationError, action};
use crate::check::{self, Check};
use crate::model::Acknowledged;
use crate::types::{HealthCheckType, Scheduler, SynProxy};
use serde::Serialize;

/// `HealthCheckReq` / `HealthCheckExp` of UDP listeners: letters and digits, at most 500.
fn udp_probe(name: &str, value: &Option<String>) -> Check {
    let Some(value) = value else { return Ok(()) };
    check::length(name, value, 1, 500)?;
    if value.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!("{name} may contain only letters and digits").into())
    }
}

/// `CreateLoadBalancerTCPListener`. Health checking is always on for TCP; the new listener is `stopped`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerTCPListenerRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub backend_server_port: u16,
    /// `-1` (unlimited, pay-by-traffic only) or 1–1000 Mbps.
    pub bandwidth: i32,
    pub scheduler: Option<Scheduler>,
    /// 0–3600 s, 0 = off.
    pub persistence_timeout: Option<u32>,
    /// Default `tcp`.
    pub health_check_type: Option<HealthCheckType>,
    #[serde(flatten)]
    pub http_health_check: HttpHealthCheck,
    /// 1–65535; the backend port when omitted.
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
    #[serde(flatten)]
    pub server_groups: ServerGroupIds,
    /// 10–900 s, default 900 (idle timeout).
    pub established_timeout: Option<u32>,
}

impl Validate for CreateLoadBalancerTCPListenerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::port("BackendServerPort", self.backend_server_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::opt_range("PersistenceTimeout", self.persistence_timeout, 0, 3600)?;
        check::opt_range("EstablishedTimeout", self.established_timeout, 10, 900)?;
        self.server_groups.validate()?;
        self.http_health_check.validate()?;
        check::health_check_connect_port(self.health_check_connect_port, false)?;
        self.health_check_timing.validate()
    }
}

action!(CreateLoadBalancerTCPListenerRequest => CreateLoadBalancerTCPListenerResponse = Acknowledged, "CreateLoadBalancerTCPListener", idempotent = false);

/// `CreateLoadBalancerUDPListener`. Health checking is always on for UDP; the new listener is `stopped`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerUDPListenerRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub backend_server_port: u16,
    /// Optional for UDP only: `-1` or 1–1000 Mbps.
    pub bandwidth: Option<i32>,
    pub scheduler: Option<Scheduler>,
    /// 0–3600 s, 0 = off.
    pub persistence_timeout: Option<u32>,
    /// 1–65535; the backend port when omitted.
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
    #[serde(flatten)]
    pub server_groups: ServerGroupIds,
    /// Probe request: letters and digits, at most 500.
    pub health_check_req: Option<String>,
    /// Expected probe response: letters and digits, at most 500.
    pub health_check_exp: Option<String>,
}

impl Validate for CreateLoadBalancerUDPListenerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::port("BackendServerPort", self.backend_server_port)?;
        self.bandwidth.map_or(Ok(()), check::listener_bandwidth)?;
        check::opt_range("PersistenceTimeout", self.persistence_timeout, 0, 3600)?;
        self.server_groups.validate()?;
        udp_probe("HealthCheckReq", &self.health_check_req)?;
        udp_probe("HealthCheckExp", &self.health_check_exp)?;
        check::health_check_connect_port(self.health_check_connect_port, false)?;
        self.health_check_timing.validate()
    }
}

action!(CreateLoadBalancerUDPListenerRequest => CreateLoadBalancerUDPListenerResponse = Acknowledged, "CreateLoadBalancerUDPListener", idempotent = false);

/// `SetLoadBalancerTCPListenerAttribute`. Optional parameters left `None` are not sent (unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerTCPListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub bandwidth: i32,
    pub syn_proxy: Option<SynProxy>,
    pub scheduler: Option<Scheduler>,
    pub persistence_timeout: Option<u32>,
    pub health_check_type: Option<HealthCheckType>,
    #[serde(flatten)]
    pub http_health_check: HttpHealthCheck,
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
    #[serde(flatten)]
    pub server_groups: ServerGroupSwitches,
    /// Not in the reference's table for this action (it is for Create); the official SDK sends it.
    pub established_timeout: Option<u32>,
}

impl Validate for SetLoadBalancerTCPListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::opt_range("PersistenceTimeout", self.persistence_timeout, 0, 3600)?;
        check::opt_range("EstablishedTimeout", self.established_timeout, 10, 900)?;
        self.server_groups.validate()?;
        self.http_health_check.validate()?;
        check::health_check_connect_port(self.health_check_connect_port, false)?;
        self.health_check_timing.validate()
    }
}

action!(SetLoadBalancerTCPListenerAttributeRequest => SetLoadBalancerTCPListenerAttributeResponse = Acknowledged, "SetLoadBalancerTCPListenerAttribute");

/// `SetLoadBalancerUDPListenerAttribute`. Optional parameters left `None` are not sent (unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerUDPListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub bandwidth: i32,
    pub scheduler: Option<Scheduler>,
    pub persistence_timeout: Option<u32>,
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
    #[serde(flatten)]
    pub server_groups: ServerGroupSwitches,
}

impl Validate for SetLoadBalancerUDPListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::opt_range("PersistenceTimeout", self.persistence_timeout, 0, 3600)?;
        self.server_groups.validate()?;
        check::health_check_connect_port(self.health_check_connect_port, false)?;
        self.health_check_timing.validate()
    }
}

action!(SetLoadBalancerUDPListenerAttributeRequest => SetLoadBalancerUDPListenerAttributeResponse = Acknowledged, "SetLoadBalancerUDPListenerAttribute");
