//! Describing a listener of each protocol, and starting, stopping and deleting it.

use super::listener;
use crate::action::{Validate, ValidationError, action};
use crate::lenient;
use crate::model::Acknowledged;
use crate::types::{
    HealthCheckHttpCode, HealthCheckType, ListenerStatus, OnOff, Scheduler, StickySessionType,
    SynProxy,
};
use serde::{Deserialize, Serialize};

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

/// The health check a listener describe reports, for every protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthCheckAttribute {
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
}

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
    #[serde(flatten)]
    pub health: HealthCheckAttribute,
    pub v_server_group_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub gzip: Option<OnOff>,
    /// HTTPS only.
    pub server_certificate_id: Option<String>,
    /// HTTPS only.
    #[serde(rename = "CACertificateId")]
    pub ca_certificate_id: Option<String>,
}

action!(DescribeLoadBalancerHTTPListenerAttributeRequest => DescribeLoadBalancerHTTPListenerAttributeResponse = HttpListenerAttribute, "DescribeLoadBalancerHTTPListenerAttribute");
action!(DescribeLoadBalancerHTTPSListenerAttributeRequest => DescribeLoadBalancerHTTPSListenerAttributeResponse = HttpListenerAttribute, "DescribeLoadBalancerHTTPSListenerAttribute");

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
    /// Domain, URI and HTTP codes: TCP with the `http` check type only.
    #[serde(flatten)]
    pub health: HealthCheckAttribute,
    /// UDP only.
    pub health_check_req: Option<String>,
    /// UDP only.
    pub health_check_exp: Option<String>,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
}

action!(DescribeLoadBalancerTCPListenerAttributeRequest => DescribeLoadBalancerTCPListenerAttributeResponse = Layer4ListenerAttribute, "DescribeLoadBalancerTCPListenerAttribute");
action!(DescribeLoadBalancerUDPListenerAttributeRequest => DescribeLoadBalancerUDPListenerAttributeResponse = Layer4ListenerAttribute, "DescribeLoadBalancerUDPListenerAttribute");

action!(DeleteLoadBalancerListenerRequest => DeleteLoadBalancerListenerResponse = Acknowledged, "DeleteLoadBalancerListener");
action!(StartLoadBalancerListenerRequest => StartLoadBalancerListenerResponse = Acknowledged, "StartLoadBalancerListener");
action!(StopLoadBalancerListenerRequest => StopLoadBalancerListenerResponse = Acknowledged, "StopLoadBalancerListener");
