//! The parameter groups the Create and Set listener requests share, each flattened into the request and
//! validating its own rules.

use crate::action::{Validate, ValidationError};
use crate::check::{self, Check};
use crate::types::{HealthCheckHttpCode, OnOff, StickySessionType};
use serde::{Serialize, Serializer};

/// Serializes `HealthCheckHttpCode` values as one comma-separated parameter (`http_2xx,http_3xx`).
fn http_codes<S: Serializer>(
    codes: &[HealthCheckHttpCode],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let joined: Vec<&str> = codes.iter().map(|code| code.as_str()).collect();
    serializer.serialize_str(&joined.join(","))
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
pub(super) fn layer7_health_check(
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
        check::switched_id(
            "VServerGroup",
            self.v_server_group,
            "VServerGroupId",
            &self.v_server_group_id,
        )?;
        check::switched_id(
            "MasterSlaveServerGroup",
            self.master_slave_server_group,
            "MasterSlaveServerGroupId",
            &self.master_slave_server_group_id,
        )
    }
}
