//! The listener settings of a Service, read from its annotations once and applied to each of its
//! listeners, and its white list (`loadBalancerSourceRanges`, `acl-status`, `acl-type`).

use k8s_openapi::api::core::v1::Service;

use super::annotations::{Annotations, COOKIE, DOMAIN, Errors, ID, Ignored, URI};
use super::operator_annotations;
use super::plan::ANNOTATION_PREFIX;
use crate::crd::{
    AccessControl, CertificateSource, ForwardedHeaders, HealthCheck, HealthCheckType, HttpCode,
    ListenerProtocol, LocalObjectReference, SlbListenerSpec, StickySession, StickySessionType,
};

/// The most items the API keeps in one listener's white list.
const MAX_WHITE_LIST_ITEMS: usize = 300;

/// `spec.loadBalancerSourceRanges` as the white list of every listener, with the cloud controller
/// manager's `acl-status` and `acl-type` where API 2014-05-15 can follow them. No ranges, or a
/// range of every address, closes the list (the API refuses `0.0.0.0/0` as an item).
pub(super) fn access_control(
    annotations: &Annotations,
    source_ranges: &[String],
    errors: &mut Errors,
) -> AccessControl {
    let mut items = Vec::new();
    let mut everyone = false;
    for range in source_ranges.iter().map(|r| r.trim()) {
        match ipv4_range(range) {
            Some((_, 0)) => everyone = true,
            Some(_) => {
                if !items.iter().any(|i| i == range) {
                    items.push(range.to_owned());
                }
            }
            None => errors.push(format!(
                "spec.loadBalancerSourceRanges: {range:?} is not an IPv4 address or CIDR range such as 203.0.113.0/24"
            )),
        }
    }
    if items.len() > MAX_WHITE_LIST_ITEMS {
        errors.push(format!(
            "spec.loadBalancerSourceRanges: at most {MAX_WHITE_LIST_ITEMS} ranges fit a listener's white list"
        ));
    }
    let restricted = !everyone && !items.is_empty();
    if annotations
        .get("acl-type")
        .is_some_and(|t| !t.eq_ignore_ascii_case("white"))
    {
        errors.push(format!(
            "{ANNOTATION_PREFIX}acl-type: API 2014-05-15 has white lists only; use white (or leave it out)"
        ));
    }
    match annotations.on_off("acl-status", errors, "on", "off") {
        Some(true) if !restricted => errors.push(format!(
            "{ANNOTATION_PREFIX}acl-status: on needs the white list in spec.loadBalancerSourceRanges (acl-id is not available with API 2014-05-15)"
        )),
        Some(false) if restricted => errors.push(format!(
            "{ANNOTATION_PREFIX}acl-status: off contradicts spec.loadBalancerSourceRanges; remove one of them"
        )),
        _ => {}
    }
    items.sort();
    AccessControl {
        enabled: restricted,
        source_items: if restricted { items } else { Vec::new() },
    }
}

/// An IPv4 address or CIDR range, as its address and prefix length.
fn ipv4_range(range: &str) -> Option<(std::net::Ipv4Addr, u8)> {
    let (address, prefix) = match range.split_once('/') {
        Some((address, prefix)) => (address, prefix.parse::<u8>().ok().filter(|p| *p <= 32)?),
        None => (range, 32),
    };
    Some((address.parse().ok()?, prefix))
}

/// The listener annotations, read once and applied to every listener whose protocol takes them
/// (as the cloud controller manager does: a TCP-only setting is not an error on an HTTP port).
pub(super) struct ListenerSettings {
    server_certificate: Option<CertificateSource>,
    scheduler: Option<crate::crd::Scheduler>,
    persistence_timeout: Option<i32>,
    health_check_enabled: Option<bool>,
    health_check_type: Option<HealthCheckType>,
    health_check_connect_port: Option<i32>,
    healthy_threshold: Option<i32>,
    unhealthy_threshold: Option<i32>,
    health_check_interval: Option<i32>,
    /// `health-check-connect-timeout`, the TCP and UDP name.
    connect_timeout: Option<i32>,
    /// `health-check-timeout`, the HTTP and HTTPS name.
    http_timeout: Option<i32>,
    health_check_uri: Option<String>,
    health_check_domain: Option<String>,
    health_check_http_codes: Option<Vec<HttpCode>>,
    sticky_session: Option<StickySession>,
    /// TCP.
    established_timeout: Option<i32>,
    /// HTTP and HTTPS.
    forwarded_headers: Option<ForwardedHeaders>,
    pub(super) access_control: AccessControl,
}

impl ListenerSettings {
    pub(super) fn read(service: &Service, annotations: &Annotations, errors: &mut Errors) -> Self {
        // The cloud controller manager's default `rr` is not in API 2014-05-15: `wrr` is round robin
        // with the backends' weights (docs/api-decisions.md).
        let scheduler = match annotations.get("scheduler") {
            Some(rr) if rr.eq_ignore_ascii_case("rr") => Some(crate::crd::Scheduler::Wrr),
            _ => annotations.one_of("scheduler", errors, "rr, wrr, wlc"),
        };
        if annotations
            .on_off("health-check-switch", errors, "on", "off")
            .is_some_and(|on| !on)
        {
            errors.push(format!(
                "{ANNOTATION_PREFIX}health-check-switch: off is not possible; TCP and UDP listeners always health-check with API 2014-05-15"
            ));
        }
        let forwarded_headers = ForwardedHeaders {
            slb_ip: annotations.on_off("xforwardedfor-slbip", errors, "on", "off"),
            slb_id: annotations.on_off("xforwardedfor-slbid", errors, "on", "off"),
            proto: annotations.on_off("xforwardedfor-proto", errors, "on", "off"),
        };
        let health_check_uri = annotations.string("health-check-uri", errors, 80, URI);
        if health_check_uri
            .as_ref()
            .is_some_and(|uri| !uri.starts_with('/'))
        {
            errors.push(format!(
                "{ANNOTATION_PREFIX}health-check-uri must start with /"
            ));
        }
        let health_check_domain = annotations.string("health-check-domain", errors, 80, DOMAIN);
        Self {
            server_certificate: operator_annotations::server_certificate(
                service,
                annotations.string("cert-id", errors, 128, ID).as_ref(),
                errors,
            ),
            scheduler,
            persistence_timeout: annotations.int("persistence-timeout", errors, 0, 3600),
            health_check_enabled: annotations.on_off("health-check-flag", errors, "on", "off"),
            health_check_type: annotations.one_of("health-check-type", errors, "tcp, http"),
            health_check_connect_port: annotations.int(
                "health-check-connect-port",
                errors,
                1,
                65535,
            ),
            healthy_threshold: annotations.int("healthy-threshold", errors, 1, 10),
            unhealthy_threshold: annotations.int("unhealthy-threshold", errors, 1, 10),
            health_check_interval: annotations.int("health-check-interval", errors, 1, 5),
            connect_timeout: annotations.int("health-check-connect-timeout", errors, 1, 50),
            http_timeout: annotations.int("health-check-timeout", errors, 1, 50),
            health_check_uri,
            health_check_domain,
            health_check_http_codes: http_codes(annotations, errors),
            sticky_session: sticky_session(annotations, errors),
            established_timeout: annotations.int("established-timeout", errors, 10, 900),
            forwarded_headers: Some(forwarded_headers)
                .filter(|h| *h != ForwardedHeaders::default()),
            access_control: AccessControl {
                enabled: false,
                source_items: Vec::new(),
            },
        }
    }

    pub(super) fn listener(
        &self,
        instance: &str,
        group: &str,
        port: i32,
        node_port: i32,
        protocol: ListenerProtocol,
        errors: &mut Errors,
    ) -> SlbListenerSpec {
        let layer7 = protocol.is_layer7();
        let server_certificate = match (protocol, &self.server_certificate) {
            (ListenerProtocol::Https, Some(source)) => Some(source.clone()),
            (ListenerProtocol::Https, None) => {
                errors.push(format!(
                    "port {port} is https, which needs {ANNOTATION_PREFIX}cert-id or {}",
                    operator_annotations::TLS_SECRET_ANNOTATION
                ));
                None
            }
            _ => None,
        };
        SlbListenerSpec {
            instance_ref: LocalObjectReference {
                name: instance.to_owned(),
            },
            listener_port: port,
            protocol,
            backend_server_port: node_port,
            bandwidth: None,
            scheduler: self.scheduler,
            persistence_timeout: self.persistence_timeout.filter(|_| !layer7),
            health_check: self.health_check(protocol),
            sticky_session: self.sticky_session.clone().filter(|_| layer7),
            established_timeout: self
                .established_timeout
                .filter(|_| protocol == ListenerProtocol::Tcp),
            forwarded_headers: self.forwarded_headers.clone().filter(|_| layer7),
            x_forwarded_for: None,
            gzip: None,
            server_certificate,
            ca_certificate: None,
            v_server_group_ref: Some(LocalObjectReference {
                name: group.to_owned(),
            }),
            master_slave_server_group_ref: None,
            // Always declared, so that ranges removed from the Service close the list.
            access_control: Some(self.access_control.clone()),
            started: None,
            deletion_policy: None,
        }
    }

    /// The health check settings that `protocol` takes; `None` when no annotation applies.
    fn health_check(&self, protocol: ListenerProtocol) -> Option<HealthCheck> {
        let layer7 = protocol.is_layer7();
        let check_type = self
            .health_check_type
            .filter(|_| protocol == ListenerProtocol::Tcp);
        let http_checks = layer7 || check_type == Some(HealthCheckType::Http);
        let health_check = HealthCheck {
            enabled: self.health_check_enabled.filter(|_| layer7),
            check_type,
            domain: self.health_check_domain.clone().filter(|_| http_checks),
            uri: self.health_check_uri.clone().filter(|_| http_checks),
            connect_port: self.health_check_connect_port,
            healthy_threshold: self.healthy_threshold,
            unhealthy_threshold: self.unhealthy_threshold,
            timeout_seconds: if layer7 {
                self.http_timeout
            } else {
                self.connect_timeout
            },
            interval_seconds: self.health_check_interval,
            http_codes: self.health_check_http_codes.clone().filter(|_| http_checks),
        };
        Some(health_check).filter(|h| *h != HealthCheck::default())
    }
}

/// Whether a listener takes an annotation.
type Takes = fn(&SlbListenerSpec) -> bool;

/// The listener annotations, grouped by the listeners that take them, and what is said when none of
/// the Service's listeners does (an HTTP-only Service with `established-timeout`, `cookie` without
/// `sticky-session: on`, an adopted load balancer without `force-override-listeners`): the value is
/// checked all the same, but applied nowhere.
const TAKEN_BY: [(&[&str], Takes, &str); 7] = [
    (
        &[
            "scheduler",
            "health-check-switch",
            "health-check-connect-port",
            "healthy-threshold",
            "unhealthy-threshold",
            "health-check-interval",
            "acl-status",
            "acl-type",
        ],
        |_| true,
        "the Service has no listener",
    ),
    (
        &["cert-id"],
        |l| l.protocol == ListenerProtocol::Https,
        "no HTTPS listener takes it",
    ),
    (
        &[
            "health-check-flag",
            "health-check-timeout",
            "sticky-session",
            "xforwardedfor-proto",
            "xforwardedfor-slbip",
            "xforwardedfor-slbid",
        ],
        |l| l.protocol.is_layer7(),
        "no HTTP or HTTPS listener takes it",
    ),
    (
        &["sticky-session-type", "cookie-timeout", "cookie"],
        |l| l.sticky_session.is_some(),
        "no HTTP or HTTPS listener with sticky-session: on takes it",
    ),
    (
        &[
            "health-check-uri",
            "health-check-domain",
            "health-check-httpcode",
        ],
        |l| {
            l.protocol.is_layer7()
                || l.health_check.as_ref().and_then(|h| h.check_type) == Some(HealthCheckType::Http)
        },
        "no listener checks health over HTTP",
    ),
    (
        &["persistence-timeout", "health-check-connect-timeout"],
        |l| !l.protocol.is_layer7(),
        "no TCP or UDP listener takes it",
    ),
    (
        &["established-timeout", "health-check-type"],
        |l| l.protocol == ListenerProtocol::Tcp,
        "no TCP listener takes it",
    ),
];

/// The listener annotations set on the Service that none of `listeners` takes, and why.
pub(super) fn not_taken<'a>(
    annotations: &Annotations,
    listeners: impl Iterator<Item = &'a SlbListenerSpec> + Clone,
) -> Vec<Ignored> {
    TAKEN_BY
        .iter()
        .filter(|(_, takes, _)| !listeners.clone().any(takes))
        .flat_map(|(names, _, why)| {
            names.iter().filter_map(|short_name| {
                Some(Ignored {
                    annotation: annotations.name_of(short_name)?.clone(),
                    why,
                })
            })
        })
        .collect()
}

/// `health-check-httpcode`: `http_2xx,http_3xx`.
fn http_codes(annotations: &Annotations, errors: &mut Errors) -> Option<Vec<HttpCode>> {
    let key = "health-check-httpcode";
    let value = annotations.get(key)?;
    let mut codes = Vec::new();
    for code in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        match serde_json::from_value::<HttpCode>(serde_json::Value::String(code.to_owned())) {
            Ok(parsed) if !codes.contains(&parsed) => codes.push(parsed),
            Ok(_) => {}
            Err(_) => errors.push(format!(
                "{ANNOTATION_PREFIX}{key}: {code:?} must be one of http_2xx, http_3xx, http_4xx, http_5xx"
            )),
        }
    }
    codes.sort();
    Some(codes).filter(|codes| !codes.is_empty())
}

/// `sticky-session: on` with `sticky-session-type` insert (and `cookie-timeout`) or server (and
/// `cookie`).
fn sticky_session(annotations: &Annotations, errors: &mut Errors) -> Option<StickySession> {
    // All read, also without sticky-session: on, so that a wrong value is never passed over.
    let enabled = annotations.on_off("sticky-session", errors, "on", "off");
    let session_type: Option<StickySessionType> =
        annotations.one_of("sticky-session-type", errors, "insert, server");
    let cookie_timeout = annotations.int("cookie-timeout", errors, 1, 86400);
    let cookie = annotations.string("cookie", errors, 200, COOKIE);
    if enabled != Some(true) {
        return None;
    }
    let session = match (session_type, cookie_timeout, cookie) {
        (Some(StickySessionType::Insert), Some(timeout), None) => StickySession {
            session_type: StickySessionType::Insert,
            cookie_timeout: Some(timeout),
            cookie: None,
        },
        (Some(StickySessionType::Server), None, Some(cookie)) => StickySession {
            session_type: StickySessionType::Server,
            cookie_timeout: None,
            cookie: Some(cookie),
        },
        _ => {
            errors.push(format!(
                "{ANNOTATION_PREFIX}sticky-session: on needs sticky-session-type insert with cookie-timeout, or sticky-session-type server with cookie"
            ));
            return None;
        }
    };
    Some(session)
}
