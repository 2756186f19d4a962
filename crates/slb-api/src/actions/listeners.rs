//! Listeners of the four protocols (create / set / describe), their life cycle (start / stop / delete) and
//! their access control (white list).
//!
//! The Create and Set requests share groups of parameters ([`XForwardedFor`], [`StickySession`],
//! [`HttpHealthCheck`], [`HealthCheckTiming`], [`ServerGroupIds`], [`ServerGroupSwitches`]); each group is
//! flattened into the request's parameters and validates its own rules.

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

/// The X-Forwarded-For switches of HTTP and HTTPS listeners: which headers the backends receive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct XForwardedFor {
    /// `X-Forwarded-For` itself; forced `on` by the service since 2015-05-15, kept for compatibility.
    #[serde(rename = "XForwardedFor")]
    pub enabled: Option<OnOff>,
    /// `SLB-IP`: the load balancer's address.
    #[serde(rename = "XForwardedFor_SLBIP")]
    pub slb_ip: Option<OnOff>,
    /// `SLB-ID`: the load balancer's ID.
    #[serde(rename = "XForwardedFor_SLBID")]
    pub slb_id: Option<OnOff>,
    /// `X-Forwarded-Proto`: the listener's protocol.
    #[serde(rename = "XForwardedFor_proto")]
    pub proto: Option<OnOff>,
}

/// Session persistence of HTTP and HTTPS listeners.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StickySession {
    #[serde(rename = "StickySession")]
    pub enabled: OnOff,
    /// Required when `enabled` is on.
    #[serde(rename = "StickySessionType")]
    pub session_type: Option<StickySessionType>,
    /// 1–86400 s; required for `insert`.
    pub cookie_timeout: Option<u32>,
    /// 1–200 ASCII letters and digits, not starting with `$`; required for `server`.
    pub cookie: Option<String>,
}

impl Validate for StickySession {
    fn validate(&self) -> Result<(), ValidationError> {
        check::sticky_session(
            self.enabled,
            self.session_type,
            self.cookie_timeout,
            &self.cookie,
        )
    }
}

/// What an HTTP health check requests and accepts: HTTP and HTTPS listeners, and TCP listeners with
/// `HealthCheckType=http`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HttpHealthCheck {
    /// The Host header: `$_ip` (the backend's IP), empty, or 1–80 characters of letters, digits, `-`, `.`.
    #[serde(rename = "HealthCheckDomain")]
    pub domain: Option<String>,
    /// Starts with `/`; HTTP and HTTPS listeners require it when their health check is on.
    #[serde(rename = "HealthCheckURI")]
    pub uri: Option<String>,
    /// The status codes that count as healthy; default `http_2xx`.
    #[serde(
        rename = "HealthCheckHttpCode",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "http_codes"
    )]
    pub http_codes: Vec<HealthCheckHttpCode>,
}

impl Validate for HttpHealthCheck {
    fn validate(&self) -> Result<(), ValidationError> {
        check::health_check_domain(&self.domain)?;
        if let Some(uri) = &self.uri {
            check::uri("HealthCheckURI", uri, true)?;
        }
        Ok(())
    }
}

/// How often and how long health checks probe, and how many results in a row change a backend's state;
/// every protocol takes them. HTTP and HTTPS listeners require them when their health check is on; the
/// service's defaults otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthCheckTiming {
    /// 1–10, default 3.
    pub healthy_threshold: Option<u32>,
    /// 1–10, default 3.
    pub unhealthy_threshold: Option<u32>,
    /// 1–50 s, default 5: how long one probe waits for its answer.
    #[serde(rename = "HealthCheckTimeout")]
    pub timeout: Option<u32>,
    /// 1–5 s, default 2.
    #[serde(rename = "HealthCheckInterval")]
    pub interval: Option<u32>,
}

impl Validate for HealthCheckTiming {
    fn validate(&self) -> Result<(), ValidationError> {
        check::health_check_timing(
            self.healthy_threshold,
            self.unhealthy_threshold,
            self.timeout,
            self.interval,
        )
    }
}

/// The health check of an HTTP or HTTPS listener. With `HealthCheck=on` the URI, thresholds, timeout and
/// interval are required; the Create actions also require the port and take `-520` (the backend port)
/// for it, which the Set actions do not.
fn layer7_health_check(
    health_check: OnOff,
    http: &HttpHealthCheck,
    connect_port: Option<i32>,
    timing: &HealthCheckTiming,
    on_create: bool,
) -> Check {
    if health_check.is_on() {
        let when = "HealthCheck is on";
        check::present("HealthCheckURI", &http.uri, when)?;
        if on_create {
            check::present("HealthCheckConnectPort", &connect_port, when)?;
        }
        check::present("HealthyThreshold", &timing.healthy_threshold, when)?;
        check::present("UnhealthyThreshold", &timing.unhealthy_threshold, when)?;
        check::present("HealthCheckTimeout", &timing.timeout, when)?;
        check::present("HealthCheckInterval", &timing.interval, when)?;
    }
    http.validate()?;
    check::health_check_connect_port(connect_port, on_create)?;
    timing.validate()
}

/// The server group a new TCP or UDP listener forwards to: a VServer group or a master-slave server group,
/// not both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerGroupIds {
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
}

impl Validate for ServerGroupIds {
    fn validate(&self) -> Result<(), ValidationError> {
        check::exclusive(
            "VServerGroupId",
            self.v_server_group_id.is_some(),
            "MasterSlaveServerGroupId",
            self.master_slave_server_group_id.is_some(),
        )
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
    #[serde(flatten)]
    pub x_forwarded_for: XForwardedFor,
    pub scheduler: Option<Scheduler>,
    #[serde(flatten)]
    pub sticky_session: StickySession,
    pub health_check: OnOff,
    #[serde(flatten)]
    pub http_health_check: HttpHealthCheck,
    /// 1–65535, or `-520` for the backend port; required when `health_check` is on.
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
    pub v_server_group_id: Option<String>,
    /// Default `on`.
    pub gzip: Option<OnOff>,
}

impl Validate for CreateLoadBalancerHTTPListenerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::port("BackendServerPort", self.backend_server_port)?;
        check::listener_bandwidth(self.bandwidth)?;
        self.sticky_session.validate()?;
        layer7_health_check(
            self.health_check,
            &self.http_health_check,
            self.health_check_connect_port,
            &self.health_check_timing,
            true,
        )
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
    /// Only `XForwardedFor` itself is in the reference's table for this action (the others are for the
    /// Set action); the official SDK sends them all.
    #[serde(flatten)]
    pub x_forwarded_for: XForwardedFor,
    pub scheduler: Option<Scheduler>,
    #[serde(flatten)]
    pub sticky_session: StickySession,
    pub health_check: OnOff,
    #[serde(flatten)]
    pub http_health_check: HttpHealthCheck,
    /// 1–65535, or `-520` for the backend port; required when `health_check` is on.
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
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
        self.sticky_session.validate()?;
        layer7_health_check(
            self.health_check,
            &self.http_health_check,
            self.health_check_connect_port,
            &self.health_check_timing,
            true,
        )
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

pub type CreateLoadBalancerUDPListenerResponse = Acknowledged;
action!(CreateLoadBalancerUDPListenerRequest => CreateLoadBalancerUDPListenerResponse, "CreateLoadBalancerUDPListener", Listener, idempotent = false);

/// `SetLoadBalancerHTTPListenerAttribute`. Optional parameters left `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerHTTPListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub bandwidth: i32,
    #[serde(flatten)]
    pub x_forwarded_for: XForwardedFor,
    pub scheduler: Option<Scheduler>,
    #[serde(flatten)]
    pub sticky_session: StickySession,
    pub health_check: OnOff,
    #[serde(flatten)]
    pub http_health_check: HttpHealthCheck,
    /// 1–65535; the backend port when omitted.
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
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
        self.sticky_session.validate()?;
        layer7_health_check(
            self.health_check,
            &self.http_health_check,
            self.health_check_connect_port,
            &self.health_check_timing,
            false,
        )?;
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
    #[serde(flatten)]
    pub x_forwarded_for: XForwardedFor,
    pub scheduler: Option<Scheduler>,
    #[serde(flatten)]
    pub sticky_session: StickySession,
    pub health_check: OnOff,
    #[serde(flatten)]
    pub http_health_check: HttpHealthCheck,
    /// 1–65535; the backend port when omitted.
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
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
        self.sticky_session.validate()?;
        layer7_health_check(
            self.health_check,
            &self.http_health_check,
            self.health_check_connect_port,
            &self.health_check_timing,
            false,
        )?;
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

/// The server group a TCP or UDP listener forwards to, on the Set actions: each switch says whether its ID
/// is used. At most one switch may be on, and an `on` switch needs its ID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerGroupSwitches {
    #[serde(rename = "VServerGroup")]
    pub v_server_group: Option<OnOff>,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group: Option<OnOff>,
    pub master_slave_server_group_id: Option<String>,
}

impl Validate for ServerGroupSwitches {
    fn validate(&self) -> Result<(), ValidationError> {
        let vsg_on = self.v_server_group == Some(OnOff::On);
        let mssg_on = self.master_slave_server_group == Some(OnOff::On);
        check::exclusive(
            "VServerGroup=on",
            vsg_on,
            "MasterSlaveServerGroup=on",
            mssg_on,
        )?;
        if vsg_on {
            check::present(
                "VServerGroupId",
                &self.v_server_group_id,
                "VServerGroup is on",
            )?;
        }
        if mssg_on {
            check::present(
                "MasterSlaveServerGroupId",
                &self.master_slave_server_group_id,
                "MasterSlaveServerGroup is on",
            )?;
        }
        Ok(())
    }
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
