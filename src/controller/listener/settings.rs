//! The settings of a listener in one canonical form, built from the spec or from what SLB reports,
//! so that comparing them says whether a call is needed (pure).

use slb_api::{
    HealthCheckAttribute, HealthCheckHttpCode, HealthCheckType, HttpListenerAttribute,
    Layer4ListenerAttribute, OnOff, Scheduler, StickySessionType,
};

use crate::crd::{self, HttpCode, ListenerProtocol, SlbListenerSpec};

pub(super) const DEFAULT_BANDWIDTH: i32 = -1;
const DEFAULT_THRESHOLD: u32 = 3;
const DEFAULT_TIMEOUT_SECONDS: u32 = 5;
const DEFAULT_INTERVAL_SECONDS: u32 = 2;
const DEFAULT_URI: &str = "/";
const DEFAULT_ESTABLISHED_TIMEOUT: u32 = 900;
/// The API's spelling of "the backend's private IP" as the Host of HTTP health checks.
pub(super) const BACKEND_IP_DOMAIN: &str = "$_ip";

/// What the spec's references resolved to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
    pub server_certificate_id: Option<String>,
    pub ca_certificate_id: Option<String>,
}

/// Session persistence, as compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stickiness {
    Off,
    Insert { cookie_timeout: Option<u32> },
    Server { cookie: Option<String> },
}

/// Health check settings, as compared. When `enabled` is false every other field is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HealthSettings {
    pub enabled: bool,
    /// TCP only.
    pub check_type: Option<HealthCheckType>,
    /// `None` stands for the backend's IP (`$_ip`).
    pub domain: Option<String>,
    pub uri: Option<String>,
    pub connect_port: Option<i32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub timeout: Option<u32>,
    pub interval: Option<u32>,
    pub http_codes: Vec<HealthCheckHttpCode>,
}

/// The extra headers of an HTTP or HTTPS listener, as compared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForwardedHeaders {
    pub slb_ip: bool,
    pub slb_id: bool,
    pub proto: bool,
}

/// The settings of a listener in one canonical form, built from the spec or from a describe, so
/// that `==` means "no call needed". X-Forwarded-For is left out: the API forces it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `None` when the describe does not report it; it cannot be changed in place.
    pub backend_port: Option<u16>,
    pub bandwidth: Option<i32>,
    pub scheduler: Option<Scheduler>,
    /// TCP and UDP.
    pub persistence_timeout: Option<u32>,
    /// HTTP and HTTPS.
    pub stickiness: Option<Stickiness>,
    /// HTTP and HTTPS.
    pub gzip: Option<OnOff>,
    /// HTTP and HTTPS; `None` from a describe that does not report them (the reference's does not).
    pub forwarded_headers: Option<ForwardedHeaders>,
    /// TCP; `None` from a describe that does not report it (the reference's does not).
    pub established_timeout: Option<u32>,
    pub health: HealthSettings,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
    pub server_certificate_id: Option<String>,
    pub ca_certificate_id: Option<String>,
}

impl Settings {
    /// Applies the protocol's rules, so that values the API ignores or defaults compare equal.
    fn canonical(mut self, protocol: ListenerProtocol) -> Self {
        let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
        self.v_server_group_id = non_empty(self.v_server_group_id);
        self.master_slave_server_group_id = non_empty(self.master_slave_server_group_id);
        self.server_certificate_id = non_empty(self.server_certificate_id);
        self.ca_certificate_id = non_empty(self.ca_certificate_id);
        if protocol != ListenerProtocol::Https {
            self.server_certificate_id = None;
            self.ca_certificate_id = None;
        }
        let health = &mut self.health;
        health.domain = health
            .domain
            .take()
            .filter(|d| !d.is_empty() && d != BACKEND_IP_DOMAIN);
        if protocol.is_layer7() {
            self.persistence_timeout = None;
            self.master_slave_server_group_id = None;
            self.stickiness = Some(self.stickiness.unwrap_or(Stickiness::Off));
            self.gzip = Some(self.gzip.unwrap_or(OnOff::On));
            self.established_timeout = None;
            health.check_type = None;
        } else {
            self.stickiness = None;
            self.gzip = None;
            self.forwarded_headers = None;
            if protocol != ListenerProtocol::Tcp {
                self.established_timeout = None;
            }
            self.persistence_timeout = Some(self.persistence_timeout.unwrap_or(0));
            // TCP and UDP listeners always health-check.
            health.enabled = true;
            health.check_type = match protocol {
                ListenerProtocol::Tcp => Some(health.check_type.unwrap_or(HealthCheckType::Tcp)),
                _ => None,
            };
        }
        let http_check = match protocol {
            ListenerProtocol::Http | ListenerProtocol::Https => true,
            ListenerProtocol::Tcp => health.check_type == Some(HealthCheckType::Http),
            ListenerProtocol::Udp => false,
        };
        if !http_check {
            health.domain = None;
            health.uri = None;
            health.http_codes.clear();
        } else if health.http_codes.is_empty() {
            health.http_codes.push(HealthCheckHttpCode::Http2xx);
        }
        health.http_codes.sort_by_key(|code| code.as_str());
        health.http_codes.dedup();
        if !health.enabled {
            *health = HealthSettings::default();
        }
        self
    }
}

/// The settings the spec asks for, with the operator's defaults for what it leaves out.
pub fn desired_settings(
    spec: &SlbListenerSpec,
    backend_port: u16,
    resolved: &Resolved,
) -> Settings {
    let protocol = spec.protocol;
    let check = spec.health_check.clone().unwrap_or_default();
    let enabled = !protocol.is_layer7() || check.enabled.unwrap_or(true);
    let http_codes = check
        .http_codes
        .unwrap_or_default()
        .into_iter()
        .map(to_api_http_code)
        .collect();
    let health = HealthSettings {
        enabled,
        check_type: check.check_type.map(|t| match t {
            crd::HealthCheckType::Tcp => HealthCheckType::Tcp,
            crd::HealthCheckType::Http => HealthCheckType::Http,
        }),
        domain: check.domain,
        uri: Some(check.uri.unwrap_or_else(|| DEFAULT_URI.to_owned())),
        connect_port: Some(check.connect_port.unwrap_or(i32::from(backend_port))),
        healthy_threshold: Some(to_u32(check.healthy_threshold, DEFAULT_THRESHOLD)),
        unhealthy_threshold: Some(to_u32(check.unhealthy_threshold, DEFAULT_THRESHOLD)),
        timeout: Some(to_u32(check.timeout_seconds, DEFAULT_TIMEOUT_SECONDS)),
        interval: Some(to_u32(check.interval_seconds, DEFAULT_INTERVAL_SECONDS)),
        http_codes,
    };
    Settings {
        backend_port: Some(backend_port),
        bandwidth: Some(spec.bandwidth.unwrap_or(DEFAULT_BANDWIDTH)),
        scheduler: Some(match spec.scheduler {
            Some(crd::Scheduler::Wlc) => Scheduler::WeightedLeastConnections,
            Some(crd::Scheduler::Wrr) | None => Scheduler::WeightedRoundRobin,
        }),
        persistence_timeout: spec.persistence_timeout.and_then(|t| u32::try_from(t).ok()),
        stickiness: spec.sticky_session.as_ref().map(stickiness),
        gzip: Some(OnOff::from_bool(spec.gzip.unwrap_or(true))),
        forwarded_headers: Some(forwarded_headers(spec.forwarded_headers.as_ref())),
        established_timeout: Some(to_u32(
            spec.established_timeout,
            DEFAULT_ESTABLISHED_TIMEOUT,
        )),
        health,
        v_server_group_id: resolved.v_server_group_id.clone(),
        master_slave_server_group_id: resolved.master_slave_server_group_id.clone(),
        server_certificate_id: resolved.server_certificate_id.clone(),
        ca_certificate_id: resolved.ca_certificate_id.clone(),
    }
    .canonical(protocol)
}

fn forwarded_headers(spec: Option<&crd::ForwardedHeaders>) -> ForwardedHeaders {
    let spec = spec.cloned().unwrap_or_default();
    ForwardedHeaders {
        slb_ip: spec.slb_ip.unwrap_or(false),
        slb_id: spec.slb_id.unwrap_or(false),
        proto: spec.proto.unwrap_or(false),
    }
}

fn to_u32(value: Option<i32>, default: u32) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(default)
}

fn stickiness(sticky: &crd::StickySession) -> Stickiness {
    match sticky.session_type {
        crd::StickySessionType::Insert => Stickiness::Insert {
            cookie_timeout: sticky.cookie_timeout.and_then(|t| u32::try_from(t).ok()),
        },
        crd::StickySessionType::Server => Stickiness::Server {
            cookie: sticky.cookie.clone(),
        },
    }
}

fn to_api_http_code(code: HttpCode) -> HealthCheckHttpCode {
    match code {
        HttpCode::Http2xx => HealthCheckHttpCode::Http2xx,
        HttpCode::Http3xx => HealthCheckHttpCode::Http3xx,
        HttpCode::Http4xx => HealthCheckHttpCode::Http4xx,
        HttpCode::Http5xx => HealthCheckHttpCode::Http5xx,
    }
}

/// What an HTTP or HTTPS describe reports, in canonical form.
pub fn observed_http(protocol: ListenerProtocol, attribute: &HttpListenerAttribute) -> Settings {
    let stickiness = match (attribute.sticky_session, attribute.sticky_session_type) {
        (Some(OnOff::On), Some(StickySessionType::Insert)) => Stickiness::Insert {
            cookie_timeout: attribute.cookie_timeout,
        },
        (Some(OnOff::On), Some(StickySessionType::Server)) => Stickiness::Server {
            cookie: attribute.cookie.clone(),
        },
        _ => Stickiness::Off,
    };
    Settings {
        backend_port: attribute.backend_server_port,
        bandwidth: attribute.bandwidth,
        scheduler: attribute.scheduler,
        persistence_timeout: None,
        stickiness: Some(stickiness),
        gzip: attribute.gzip,
        forwarded_headers: match (
            attribute.x_forwarded_for_slb_ip,
            attribute.x_forwarded_for_slb_id,
            attribute.x_forwarded_for_proto,
        ) {
            (None, None, None) => None,
            (slb_ip, slb_id, proto) => Some(ForwardedHeaders {
                slb_ip: slb_ip == Some(OnOff::On),
                slb_id: slb_id == Some(OnOff::On),
                proto: proto == Some(OnOff::On),
            }),
        },
        established_timeout: None,
        health: observed_health(&attribute.health, None),
        v_server_group_id: attribute.v_server_group_id.clone(),
        master_slave_server_group_id: None,
        server_certificate_id: attribute.server_certificate_id.clone(),
        ca_certificate_id: attribute.ca_certificate_id.clone(),
    }
    .canonical(protocol)
}

/// The health check a describe reports.
fn observed_health(
    health: &HealthCheckAttribute,
    check_type: Option<HealthCheckType>,
) -> HealthSettings {
    HealthSettings {
        enabled: health.health_check == Some(OnOff::On),
        check_type,
        domain: health.health_check_domain.clone(),
        uri: health.health_check_uri.clone(),
        connect_port: health.health_check_connect_port,
        healthy_threshold: health.healthy_threshold,
        unhealthy_threshold: health.unhealthy_threshold,
        timeout: health.health_check_timeout,
        interval: health.health_check_interval,
        http_codes: health.health_check_http_code.clone(),
    }
}

/// What a TCP or UDP describe reports, in canonical form.
pub fn observed_layer4(
    protocol: ListenerProtocol,
    attribute: &Layer4ListenerAttribute,
) -> Settings {
    Settings {
        backend_port: attribute.backend_server_port,
        bandwidth: attribute.bandwidth,
        scheduler: attribute.scheduler,
        persistence_timeout: attribute.persistence_timeout,
        stickiness: None,
        gzip: None,
        forwarded_headers: None,
        established_timeout: attribute.established_timeout,
        // TCP and UDP listeners always check.
        health: HealthSettings {
            enabled: true,
            ..observed_health(&attribute.health, attribute.health_check_type)
        },
        v_server_group_id: attribute.v_server_group_id.clone(),
        master_slave_server_group_id: attribute.master_slave_server_group_id.clone(),
        server_certificate_id: None,
        ca_certificate_id: None,
    }
    .canonical(protocol)
}
