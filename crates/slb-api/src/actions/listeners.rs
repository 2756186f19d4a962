//! Listeners of the four protocols (create / set / describe), their life cycle (start / stop / delete) and
//! their access control (white list).

use crate::action::{Validate, ValidationError, action, comma_joined};
use crate::check::{self, Check};
use crate::lenient;
use crate::model::Acknowledged;
use crate::types::{
    AccessControlStatus, HealthCheckHttpCode, HealthCheckType, ListenerStatus, OnOff, Scheduler,
    StickySessionType, SynProxy,
};
use serde::{Deserialize, Serialize, Serializer};

/// Serializes `HealthCheckHttpCode` values as one comma-separated parameter (`http_2xx,http_3xx`).
fn http_codes<S: Serializer>(
    codes: &[HealthCheckHttpCode],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let joined: Vec<&str> = codes.iter().map(|code| code.as_str()).collect();
    serializer.serialize_str(&joined.join(","))
}

/// The identity of a listener: instance and front-end port.
fn listener(load_balancer_id: &str, listener_port: u16) -> Check {
    check::required("LoadBalancerId", load_balancer_id)?;
    check::port("ListenerPort", listener_port)
}

/// The optional health-check fields every protocol validates the same way.
struct HealthCheckFields<'a> {
    domain: Option<&'a Option<String>>,
    uri: &'a Option<String>,
    connect_port: Option<i32>,
    healthy_threshold: Option<u32>,
    unhealthy_threshold: Option<u32>,
    timeout: Option<u32>,
    interval: Option<u32>,
}

impl HealthCheckFields<'_> {
    fn validate(&self, allow_backend_port: bool) -> Check {
        if let Some(domain) = self.domain {
            check::health_check_domain(domain)?;
        }
        if let Some(uri) = self.uri {
            check::uri("HealthCheckURI", uri, true)?;
        }
        check::health_check_connect_port(self.connect_port, allow_backend_port)?;
        check::health_check_timing(
            self.healthy_threshold,
            self.unhealthy_threshold,
            self.timeout,
            self.interval,
        )
    }

    /// HTTP and HTTPS listeners: with `HealthCheck=on`, the URI, thresholds, timeout and interval are
    /// required (and on create the port too).
    fn require_when_on(&self, health_check: OnOff, port_required: bool) -> Check {
        if !health_check.is_on() {
            return Ok(());
        }
        let when = "HealthCheck is on";
        check::present("HealthCheckURI", self.uri, when)?;
        if port_required {
            check::present("HealthCheckConnectPort", &self.connect_port, when)?;
        }
        check::present("HealthyThreshold", &self.healthy_threshold, when)?;
        check::present("UnhealthyThreshold", &self.unhealthy_threshold, when)?;
        check::present("HealthCheckTimeout", &self.timeout, when)?;
        check::present("HealthCheckInterval", &self.interval, when)
    }
}

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

/// `CreateLoadBalancerHTTPListener`. The new listener is `stopped`; start it with `StartLoadBalancerListener`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerHTTPListenerRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub backend_server_port: u16,
    /// `-1` (unlimited, pay-by-traffic only) or 1–1000 Mbps.
    pub bandwidth: i32,
    /// Forced `on` by the service since 2015-05-15; kept for compatibility.
    #[serde(rename = "XForwardedFor")]
    pub x_forwarded_for: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBIP")]
    pub x_forwarded_for_slb_ip: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBID")]
    pub x_forwarded_for_slb_id: Option<OnOff>,
    #[serde(rename = "XForwardedFor_proto")]
    pub x_forwarded_for_proto: Option<OnOff>,
    pub scheduler: Option<Scheduler>,
    pub sticky_session: OnOff,
    /// Required when `sticky_session` is on.
    pub sticky_session_type: Option<StickySessionType>,
    /// 1–86400 s; required for `insert`.
    pub cookie_timeout: Option<u32>,
    /// 1–200 ASCII letters and digits, not starting with `$`; required for `server`.
    pub cookie: Option<String>,
    pub health_check: OnOff,
    /// `$_ip`, empty, or 1–80 characters of letters, digits, `-`, `.`.
    pub health_check_domain: Option<String>,
    /// Starts with `/`; required when `health_check` is on.
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    /// 1–65535, or `-520` for the backend port; required when `health_check` is on.
    pub health_check_connect_port: Option<i32>,
    /// 1–10; required when `health_check` is on.
    pub healthy_threshold: Option<u32>,
    /// 1–10; required when `health_check` is on.
    pub unhealthy_threshold: Option<u32>,
    /// 1–50 s; required when `health_check` is on.
    pub health_check_timeout: Option<u32>,
    /// 1–5 s; required when `health_check` is on.
    pub health_check_interval: Option<u32>,
    /// Default `http_2xx`.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "http_codes")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    pub v_server_group_id: Option<String>,
    /// Default `on`.
    pub gzip: Option<OnOff>,
}

impl Validate for CreateLoadBalancerHTTPListenerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::port("BackendServerPort", self.backend_server_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::sticky_session(
            self.sticky_session,
            self.sticky_session_type,
            self.cookie_timeout,
            &self.cookie,
        )?;
        let health = HealthCheckFields {
            domain: Some(&self.health_check_domain),
            uri: &self.health_check_uri,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        };
        health.require_when_on(self.health_check, true)?;
        health.validate(true)
    }
}

pub type CreateLoadBalancerHTTPListenerResponse = Acknowledged;
action!(CreateLoadBalancerHTTPListenerRequest => CreateLoadBalancerHTTPListenerResponse, "CreateLoadBalancerHTTPListener", Listener, idempotent = false);

/// `CreateLoadBalancerHTTPSListener`. The new listener is `stopped`; start it with `StartLoadBalancerListener`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerHTTPSListenerRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub backend_server_port: u16,
    /// `-1` (unlimited, pay-by-traffic only) or 1–1000 Mbps.
    pub bandwidth: i32,
    #[serde(rename = "XForwardedFor")]
    pub x_forwarded_for: Option<OnOff>,
    /// Not in the reference's table for this action (it is for the Set action); the official SDK sends it.
    #[serde(rename = "XForwardedFor_SLBIP")]
    pub x_forwarded_for_slb_ip: Option<OnOff>,
    /// As `x_forwarded_for_slb_ip`.
    #[serde(rename = "XForwardedFor_SLBID")]
    pub x_forwarded_for_slb_id: Option<OnOff>,
    /// As `x_forwarded_for_slb_ip`.
    #[serde(rename = "XForwardedFor_proto")]
    pub x_forwarded_for_proto: Option<OnOff>,
    pub scheduler: Option<Scheduler>,
    pub sticky_session: OnOff,
    pub sticky_session_type: Option<StickySessionType>,
    pub cookie_timeout: Option<u32>,
    pub cookie: Option<String>,
    pub health_check: OnOff,
    pub health_check_domain: Option<String>,
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    pub health_check_connect_port: Option<i32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub health_check_timeout: Option<u32>,
    pub health_check_interval: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "http_codes")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    pub server_certificate_id: String,
    /// With a CA certificate the listener authenticates clients (mutual TLS).
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: Option<String>,
    pub v_server_group_id: Option<String>,
    pub gzip: Option<OnOff>,
}

impl Validate for CreateLoadBalancerHTTPSListenerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::port("BackendServerPort", self.backend_server_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::required("ServerCertificateId", &self.server_certificate_id)?;
        check::sticky_session(
            self.sticky_session,
            self.sticky_session_type,
            self.cookie_timeout,
            &self.cookie,
        )?;
        let health = HealthCheckFields {
            domain: Some(&self.health_check_domain),
            uri: &self.health_check_uri,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        };
        health.require_when_on(self.health_check, true)?;
        health.validate(true)
    }
}

pub type CreateLoadBalancerHTTPSListenerResponse = Acknowledged;
action!(CreateLoadBalancerHTTPSListenerRequest => CreateLoadBalancerHTTPSListenerResponse, "CreateLoadBalancerHTTPSListener", Listener, idempotent = false);

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
    pub health_check_domain: Option<String>,
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    /// 1–65535; the backend port when omitted.
    pub health_check_connect_port: Option<i32>,
    /// 1–10, default 3.
    pub healthy_threshold: Option<u32>,
    /// 1–10, default 3.
    pub unhealthy_threshold: Option<u32>,
    /// 1–50 s, default 5 (connection timeout).
    pub health_check_timeout: Option<u32>,
    /// 1–5 s, default 2.
    pub health_check_interval: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "http_codes")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    /// Exclusive with `master_slave_server_group_id`.
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
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
        check::exclusive(
            "VServerGroupId",
            self.v_server_group_id.is_some(),
            "MasterSlaveServerGroupId",
            self.master_slave_server_group_id.is_some(),
        )?;
        HealthCheckFields {
            domain: Some(&self.health_check_domain),
            uri: &self.health_check_uri,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        }
        .validate(false)
    }
}

pub type CreateLoadBalancerTCPListenerResponse = Acknowledged;
action!(CreateLoadBalancerTCPListenerRequest => CreateLoadBalancerTCPListenerResponse, "CreateLoadBalancerTCPListener", Listener, idempotent = false);

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
    pub health_check_connect_port: Option<i32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub health_check_timeout: Option<u32>,
    pub health_check_interval: Option<u32>,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
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
        check::exclusive(
            "VServerGroupId",
            self.v_server_group_id.is_some(),
            "MasterSlaveServerGroupId",
            self.master_slave_server_group_id.is_some(),
        )?;
        udp_probe("HealthCheckReq", &self.health_check_req)?;
        udp_probe("HealthCheckExp", &self.health_check_exp)?;
        HealthCheckFields {
            domain: None,
            uri: &None,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        }
        .validate(false)
    }
}

pub type CreateLoadBalancerUDPListenerResponse = Acknowledged;
action!(CreateLoadBalancerUDPListenerRequest => CreateLoadBalancerUDPListenerResponse, "CreateLoadBalancerUDPListener", Listener, idempotent = false);

/// `SetLoadBalancerHTTPListenerAttribute`. Optional parameters left `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerHTTPListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub bandwidth: i32,
    #[serde(rename = "XForwardedFor")]
    pub x_forwarded_for: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBIP")]
    pub x_forwarded_for_slb_ip: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBID")]
    pub x_forwarded_for_slb_id: Option<OnOff>,
    #[serde(rename = "XForwardedFor_proto")]
    pub x_forwarded_for_proto: Option<OnOff>,
    pub scheduler: Option<Scheduler>,
    pub sticky_session: OnOff,
    pub sticky_session_type: Option<StickySessionType>,
    pub cookie_timeout: Option<u32>,
    pub cookie: Option<String>,
    pub health_check: OnOff,
    pub health_check_domain: Option<String>,
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    /// 1–65535; the backend port when omitted.
    pub health_check_connect_port: Option<i32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub health_check_timeout: Option<u32>,
    pub health_check_interval: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "http_codes")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    /// Whether `v_server_group_id` is used.
    #[serde(rename = "VServerGroup")]
    pub v_server_group: Option<OnOff>,
    pub v_server_group_id: Option<String>,
    pub gzip: Option<OnOff>,
}

impl Validate for SetLoadBalancerHTTPListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::sticky_session(
            self.sticky_session,
            self.sticky_session_type,
            self.cookie_timeout,
            &self.cookie,
        )?;
        let health = HealthCheckFields {
            domain: Some(&self.health_check_domain),
            uri: &self.health_check_uri,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        };
        health.require_when_on(self.health_check, false)?;
        health.validate(false)?;
        if self.v_server_group == Some(OnOff::On) {
            check::present(
                "VServerGroupId",
                &self.v_server_group_id,
                "VServerGroup is on",
            )?;
        }
        Ok(())
    }
}

pub type SetLoadBalancerHTTPListenerAttributeResponse = Acknowledged;
action!(SetLoadBalancerHTTPListenerAttributeRequest => SetLoadBalancerHTTPListenerAttributeResponse, "SetLoadBalancerHTTPListenerAttribute", Listener);

/// `SetLoadBalancerHTTPSListenerAttribute`. Optional parameters left `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerHTTPSListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub bandwidth: i32,
    #[serde(rename = "XForwardedFor")]
    pub x_forwarded_for: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBIP")]
    pub x_forwarded_for_slb_ip: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBID")]
    pub x_forwarded_for_slb_id: Option<OnOff>,
    #[serde(rename = "XForwardedFor_proto")]
    pub x_forwarded_for_proto: Option<OnOff>,
    pub scheduler: Option<Scheduler>,
    pub sticky_session: OnOff,
    pub sticky_session_type: Option<StickySessionType>,
    pub cookie_timeout: Option<u32>,
    pub cookie: Option<String>,
    pub health_check: OnOff,
    pub health_check_domain: Option<String>,
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    pub health_check_connect_port: Option<i32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub health_check_timeout: Option<u32>,
    pub health_check_interval: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "http_codes")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    pub server_certificate_id: String,
    /// Empty for one-way TLS.
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: Option<String>,
    /// Not in the reference's table for this action (it is for HTTP); the official SDK sends it.
    #[serde(rename = "VServerGroup")]
    pub v_server_group: Option<OnOff>,
    /// As `v_server_group`.
    pub v_server_group_id: Option<String>,
    pub gzip: Option<OnOff>,
}

impl Validate for SetLoadBalancerHTTPSListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::required("ServerCertificateId", &self.server_certificate_id)?;
        check::sticky_session(
            self.sticky_session,
            self.sticky_session_type,
            self.cookie_timeout,
            &self.cookie,
        )?;
        let health = HealthCheckFields {
            domain: Some(&self.health_check_domain),
            uri: &self.health_check_uri,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        };
        health.require_when_on(self.health_check, false)?;
        health.validate(false)?;
        if self.v_server_group == Some(OnOff::On) {
            check::present(
                "VServerGroupId",
                &self.v_server_group_id,
                "VServerGroup is on",
            )?;
        }
        Ok(())
    }
}

pub type SetLoadBalancerHTTPSListenerAttributeResponse = Acknowledged;
action!(SetLoadBalancerHTTPSListenerAttributeRequest => SetLoadBalancerHTTPSListenerAttributeResponse, "SetLoadBalancerHTTPSListenerAttribute", Listener);

/// Server-group switches shared by the TCP and UDP Set actions: at most one of the two may be on, and an
/// `on` switch needs its ID.
fn server_group_switches(
    v_server_group: Option<OnOff>,
    v_server_group_id: &Option<String>,
    master_slave_server_group: Option<OnOff>,
    master_slave_server_group_id: &Option<String>,
) -> Check {
    let vsg_on = v_server_group == Some(OnOff::On);
    let mssg_on = master_slave_server_group == Some(OnOff::On);
    check::exclusive(
        "VServerGroup=on",
        vsg_on,
        "MasterSlaveServerGroup=on",
        mssg_on,
    )?;
    if vsg_on {
        check::present("VServerGroupId", v_server_group_id, "VServerGroup is on")?;
    }
    if mssg_on {
        check::present(
            "MasterSlaveServerGroupId",
            master_slave_server_group_id,
            "MasterSlaveServerGroup is on",
        )?;
    }
    Ok(())
}

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
    pub health_check_domain: Option<String>,
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    pub health_check_connect_port: Option<i32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub health_check_timeout: Option<u32>,
    pub health_check_interval: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "http_codes")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    #[serde(rename = "VServerGroup")]
    pub v_server_group: Option<OnOff>,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group: Option<OnOff>,
    pub master_slave_server_group_id: Option<String>,
    /// Not in the reference's table for this action (it is for Create); the official SDK sends it.
    pub established_timeout: Option<u32>,
}

impl Validate for SetLoadBalancerTCPListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::opt_range("PersistenceTimeout", self.persistence_timeout, 0, 3600)?;
        check::opt_range("EstablishedTimeout", self.established_timeout, 10, 900)?;
        server_group_switches(
            self.v_server_group,
            &self.v_server_group_id,
            self.master_slave_server_group,
            &self.master_slave_server_group_id,
        )?;
        HealthCheckFields {
            domain: Some(&self.health_check_domain),
            uri: &self.health_check_uri,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        }
        .validate(false)
    }
}

pub type SetLoadBalancerTCPListenerAttributeResponse = Acknowledged;
action!(SetLoadBalancerTCPListenerAttributeRequest => SetLoadBalancerTCPListenerAttributeResponse, "SetLoadBalancerTCPListenerAttribute", Listener);

/// `SetLoadBalancerUDPListenerAttribute`. Optional parameters left `None` are not sent (unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerUDPListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub bandwidth: i32,
    pub scheduler: Option<Scheduler>,
    pub persistence_timeout: Option<u32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub health_check_timeout: Option<u32>,
    pub health_check_connect_port: Option<i32>,
    pub health_check_interval: Option<u32>,
    #[serde(rename = "VServerGroup")]
    pub v_server_group: Option<OnOff>,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group: Option<OnOff>,
    pub master_slave_server_group_id: Option<String>,
}

impl Validate for SetLoadBalancerUDPListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        check::opt_range("PersistenceTimeout", self.persistence_timeout, 0, 3600)?;
        server_group_switches(
            self.v_server_group,
            &self.v_server_group_id,
            self.master_slave_server_group,
            &self.master_slave_server_group_id,
        )?;
        HealthCheckFields {
            domain: None,
            uri: &None,
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout: self.health_check_timeout,
            interval: self.health_check_interval,
        }
        .validate(false)
    }
}

pub type SetLoadBalancerUDPListenerAttributeResponse = Acknowledged;
action!(SetLoadBalancerUDPListenerAttributeRequest => SetLoadBalancerUDPListenerAttributeResponse, "SetLoadBalancerUDPListenerAttribute", Listener);

/// Declares a request that addresses one listener by instance and port.
macro_rules! listener_request {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            pub load_balancer_id: String,
            pub listener_port: u16,
        }

        impl Validate for $name {
            fn validate(&self) -> Result<(), ValidationError> {
                listener(&self.load_balancer_id, self.listener_port)
            }
        }
    };
}

listener_request!(
    /// `DescribeLoadBalancerHTTPListenerAttribute`.
    DescribeLoadBalancerHTTPListenerAttributeRequest
);
listener_request!(
    /// `DescribeLoadBalancerHTTPSListenerAttribute`.
    DescribeLoadBalancerHTTPSListenerAttributeRequest
);
listener_request!(
    /// `DescribeLoadBalancerTCPListenerAttribute`.
    DescribeLoadBalancerTCPListenerAttributeRequest
);
listener_request!(
    /// `DescribeLoadBalancerUDPListenerAttribute`.
    DescribeLoadBalancerUDPListenerAttributeRequest
);
listener_request!(
    /// `DeleteLoadBalancerListener`: allowed when the listener is `stopped` or `running`.
    DeleteLoadBalancerListenerRequest
);
listener_request!(
    /// `StartLoadBalancerListener`: allowed when the listener is `stopped`; it becomes `starting`.
    StartLoadBalancerListenerRequest
);
listener_request!(
    /// `StopLoadBalancerListener`: the listener becomes `stopping`, then `stopped`.
    StopLoadBalancerListenerRequest
);
listener_request!(
    /// `DescribeListenerAccessControlAttribute`.
    DescribeListenerAccessControlAttributeRequest
);

/// `DescribeLoadBalancerHTTPListenerAttribute` / `…HTTPSListenerAttribute` response (HTTPS adds the
/// certificate IDs). Numbers may arrive as strings; `Schedule` is accepted for `Scheduler`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HttpListenerAttribute {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub listener_port: Option<u16>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub backend_server_port: Option<u16>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub bandwidth: Option<i32>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub status: Option<ListenerStatus>,
    #[serde(rename = "XForwardedFor", deserialize_with = "lenient::opt_enum")]
    pub x_forwarded_for: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBIP", deserialize_with = "lenient::opt_enum")]
    pub x_forwarded_for_slb_ip: Option<OnOff>,
    #[serde(rename = "XForwardedFor_SLBID", deserialize_with = "lenient::opt_enum")]
    pub x_forwarded_for_slb_id: Option<OnOff>,
    #[serde(rename = "XForwardedFor_proto", deserialize_with = "lenient::opt_enum")]
    pub x_forwarded_for_proto: Option<OnOff>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub scheduler: Option<Scheduler>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub sticky_session: Option<OnOff>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub sticky_session_type: Option<StickySessionType>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub cookie_timeout: Option<u32>,
    pub cookie: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub health_check: Option<OnOff>,
    pub health_check_domain: Option<String>,
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub health_check_connect_port: Option<i32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub healthy_threshold: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub unhealthy_threshold: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub health_check_timeout: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub health_check_interval: Option<u32>,
    #[serde(deserialize_with = "lenient::comma_separated_enums")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    pub v_server_group_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub gzip: Option<OnOff>,
    /// HTTPS only.
    pub server_certificate_id: Option<String>,
    /// HTTPS only.
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: Option<String>,
}

pub type DescribeLoadBalancerHTTPListenerAttributeResponse = HttpListenerAttribute;
pub type DescribeLoadBalancerHTTPSListenerAttributeResponse = HttpListenerAttribute;
action!(DescribeLoadBalancerHTTPListenerAttributeRequest => DescribeLoadBalancerHTTPListenerAttributeResponse, "DescribeLoadBalancerHTTPListenerAttribute", Listener);
action!(DescribeLoadBalancerHTTPSListenerAttributeRequest => DescribeLoadBalancerHTTPSListenerAttributeResponse, "DescribeLoadBalancerHTTPSListenerAttribute", Listener);

/// `DescribeLoadBalancerTCPListenerAttribute` / `…UDPListenerAttribute` response. `MaterSlaveServerGroupId`
/// and `HealthCheckConnectTimeout` are accepted for `MasterSlaveServerGroupId` and `HealthCheckTimeout`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Layer4ListenerAttribute {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub listener_port: Option<u16>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub backend_server_port: Option<u16>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub bandwidth: Option<i32>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub status: Option<ListenerStatus>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub scheduler: Option<Scheduler>,
    /// TCP only.
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub syn_proxy: Option<SynProxy>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub persistence_timeout: Option<u32>,
    /// TCP only.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub established_timeout: Option<u32>,
    /// TCP only.
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub health_check_type: Option<HealthCheckType>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub health_check: Option<OnOff>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub healthy_threshold: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub unhealthy_threshold: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub health_check_timeout: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub health_check_connect_port: Option<i32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub health_check_interval: Option<u32>,
    pub health_check_domain: Option<String>,
    #[serde(rename = "HealthCheckURI")]
    pub health_check_uri: Option<String>,
    #[serde(deserialize_with = "lenient::comma_separated_enums")]
    pub health_check_http_code: Vec<HealthCheckHttpCode>,
    /// UDP only.
    pub health_check_req: Option<String>,
    /// UDP only.
    pub health_check_exp: Option<String>,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
}

pub type DescribeLoadBalancerTCPListenerAttributeResponse = Layer4ListenerAttribute;
pub type DescribeLoadBalancerUDPListenerAttributeResponse = Layer4ListenerAttribute;
action!(DescribeLoadBalancerTCPListenerAttributeRequest => DescribeLoadBalancerTCPListenerAttributeResponse, "DescribeLoadBalancerTCPListenerAttribute", Listener);
action!(DescribeLoadBalancerUDPListenerAttributeRequest => DescribeLoadBalancerUDPListenerAttributeResponse, "DescribeLoadBalancerUDPListenerAttribute", Listener);

pub type DeleteLoadBalancerListenerResponse = Acknowledged;
pub type StartLoadBalancerListenerResponse = Acknowledged;
pub type StopLoadBalancerListenerResponse = Acknowledged;
action!(DeleteLoadBalancerListenerRequest => DeleteLoadBalancerListenerResponse, "DeleteLoadBalancerListener", Listener);
action!(StartLoadBalancerListenerRequest => StartLoadBalancerListenerResponse, "StartLoadBalancerListener", Listener);
action!(StopLoadBalancerListenerRequest => StopLoadBalancerListenerResponse, "StopLoadBalancerListener", Listener);

/// `SetListenerAccessControlStatus`: turns the white list on or off (its items are kept either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetListenerAccessControlStatusRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub access_control_status: AccessControlStatus,
}

impl Validate for SetListenerAccessControlStatusRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)
    }
}

pub type SetListenerAccessControlStatusResponse = Acknowledged;
action!(SetListenerAccessControlStatusRequest => SetListenerAccessControlStatusResponse, "SetListenerAccessControlStatus", Listener);

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeListenerAccessControlAttributeResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub access_control_status: Option<AccessControlStatus>,
    /// IPs and CIDR ranges; one comma-separated string on the wire.
    #[serde(deserialize_with = "lenient::comma_separated")]
    pub source_items: Vec<String>,
}

action!(DescribeListenerAccessControlAttributeRequest => DescribeListenerAccessControlAttributeResponse, "DescribeListenerAccessControlAttribute", Listener);

fn validate_source_items(items: &[String]) -> Check {
    if items.is_empty() {
        return Err("SourceItems must not be empty".into());
    }
    for item in items {
        let address = item.split('/').next().unwrap_or_default().trim();
        if address.is_empty() || item.contains(',') {
            return Err(format!("SourceItems item {item:?} is not an IP address or range").into());
        }
        if address == "0.0.0.0" {
            return Err("SourceItems must not contain 0.0.0.0; set AccessControlStatus to close to allow all".into());
        }
    }
    Ok(())
}

/// `AddListenerWhiteListItem`: adds IPs or CIDR ranges to a listener's white list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddListenerWhiteListItemRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    #[serde(serialize_with = "comma_joined")]
    pub source_items: Vec<String>,
}

impl Validate for AddListenerWhiteListItemRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        validate_source_items(&self.source_items)
    }
}

pub type AddListenerWhiteListItemResponse = Acknowledged;
action!(AddListenerWhiteListItemRequest => AddListenerWhiteListItemResponse, "AddListenerWhiteListItem", Listener);

/// `RemoveListenerWhiteListItem`: removes IPs or CIDR ranges from a listener's white list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveListenerWhiteListItemRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    #[serde(serialize_with = "comma_joined")]
    pub source_items: Vec<String>,
}

impl Validate for RemoveListenerWhiteListItemRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        if self.source_items.is_empty() {
            return Err("SourceItems must not be empty".into());
        }
        Ok(())
    }
}

pub type RemoveListenerWhiteListItemResponse = Acknowledged;
action!(RemoveListenerWhiteListItemRequest => RemoveListenerWhiteListItemResponse, "RemoveListenerWhiteListItem", Listener);
