//! Create and Set of HTTP and HTTPS listeners.

use super::listener;
use super::params::{
    HealthCheckTiming, HttpHealthCheck, StickySession, XForwardedFor, layer7_health_check,
};
use crate::action::{Validate, ValidationError, action};
use crate::check;
use crate::model::Acknowledged;
use crate::types::{OnOff, Scheduler};
use serde::Serialize;

/// What HTTP and HTTPS listeners are configured with, in their Create and Set requests alike.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpListenerSettings {
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
    /// 1–65535. The Create actions require it when `health_check` is on and take `-520` for the
    /// backend port; the Set actions use the backend port when it is omitted.
    pub health_check_connect_port: Option<i32>,
    #[serde(flatten)]
    pub health_check_timing: HealthCheckTiming,
    /// Default `on`.
    pub gzip: Option<OnOff>,
}

impl HttpListenerSettings {
    /// The rules of a Create action (`on_create`) or of a Set action.
    fn validate(&self, on_create: bool) -> Result<(), ValidationError> {
        check::listener_bandwidth(self.bandwidth)?;
        self.sticky_session.validate()?;
        layer7_health_check(
            self.health_check,
            &self.http_health_check,
            self.health_check_connect_port,
            &self.health_check_timing,
            on_create,
        )
    }
}

/// `CreateLoadBalancerHTTPListener`. The new listener is `stopped`; start it with `StartLoadBalancerListener`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerHTTPListenerRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub backend_server_port: u16,
    #[serde(flatten)]
    pub settings: HttpListenerSettings,
    pub v_server_group_id: Option<String>,
}

impl Validate for CreateLoadBalancerHTTPListenerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::port("BackendServerPort", self.backend_server_port)?;
        self.settings.validate(true)
    }
}

action!(CreateLoadBalancerHTTPListenerRequest => CreateLoadBalancerHTTPListenerResponse = Acknowledged, "CreateLoadBalancerHTTPListener", idempotent = false);

/// `CreateLoadBalancerHTTPSListener`. The new listener is `stopped`; start it with `StartLoadBalancerListener`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerHTTPSListenerRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub backend_server_port: u16,
    /// Of the X-Forwarded-For switches, only `XForwardedFor` itself is in the reference's table for this
    /// action (the others are for the Set action); the official SDK sends them all.
    #[serde(flatten)]
    pub settings: HttpListenerSettings,
    pub server_certificate_id: String,
    /// With a CA certificate the listener authenticates clients (mutual TLS).
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: Option<String>,
    pub v_server_group_id: Option<String>,
}

impl Validate for CreateLoadBalancerHTTPSListenerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::port("BackendServerPort", self.backend_server_port)?;
        check::required("ServerCertificateId", &self.server_certificate_id)?;
        self.settings.validate(true)
    }
}

action!(CreateLoadBalancerHTTPSListenerRequest => CreateLoadBalancerHTTPSListenerResponse = Acknowledged, "CreateLoadBalancerHTTPSListener", idempotent = false);

/// `SetLoadBalancerHTTPListenerAttribute`. Optional parameters left `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerHTTPListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    #[serde(flatten)]
    pub settings: HttpListenerSettings,
    /// Whether `v_server_group_id` is used.
    #[serde(rename = "VServerGroup")]
    pub v_server_group: Option<OnOff>,
    pub v_server_group_id: Option<String>,
}

impl Validate for SetLoadBalancerHTTPListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        self.settings.validate(false)?;
        check::switched_id(
            "VServerGroup",
            self.v_server_group,
            "VServerGroupId",
            &self.v_server_group_id,
        )
    }
}

action!(SetLoadBalancerHTTPListenerAttributeRequest => SetLoadBalancerHTTPListenerAttributeResponse = Acknowledged, "SetLoadBalancerHTTPListenerAttribute");

/// `SetLoadBalancerHTTPSListenerAttribute`. Optional parameters left `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerHTTPSListenerAttributeRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    #[serde(flatten)]
    pub settings: HttpListenerSettings,
    pub server_certificate_id: String,
    /// Empty for one-way TLS.
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: Option<String>,
    /// Not in the reference's table for this action (it is for HTTP); the official SDK sends it.
    #[serde(rename = "VServerGroup")]
    pub v_server_group: Option<OnOff>,
    /// As `v_server_group`.
    pub v_server_group_id: Option<String>,
}

impl Validate for SetLoadBalancerHTTPSListenerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        check::required("ServerCertificateId", &self.server_certificate_id)?;
        self.settings.validate(false)?;
        check::switched_id(
            "VServerGroup",
            self.v_server_group,
            "VServerGroupId",
            &self.v_server_group_id,
        )
    }
}

action!(SetLoadBalancerHTTPSListenerAttributeRequest => SetLoadBalancerHTTPSListenerAttributeResponse = Acknowledged, "SetLoadBalancerHTTPSListenerAttribute");
