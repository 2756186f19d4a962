//! Listener attributes, data-driven: each has one validation rule and one error, and each protocol lists the
//! attributes it takes. Conditional rules (sticky sessions, HTTP health checks, groups, bandwidth) are checked
//! on the merged result, so that a Set call that leaves an attribute out keeps the current value.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::{self, ApiError};
use crate::params::{Params, is_valid_health_check_domain, is_valid_uri};
use crate::state::Protocol;

#[derive(Clone, Copy)]
enum Rule {
    Int(i64, i64),
    OneOf(&'static [&'static str]),
    HealthCheckDomain,
    Uri,
    HttpCodes,
    Cookie,
    Alphanumeric(usize),
    Id,
}

struct Attribute {
    name: &'static str,
    /// Other spellings real clients send (the SDK's TCP listener request uses `healthCheckInterval` and
    /// `HealthCheckConnectTimeout`).
    aliases: &'static [&'static str],
    rule: Rule,
    invalid: ApiError,
}

const ON_OFF: Rule = Rule::OneOf(&["on", "off"]);

const fn attr(name: &'static str, rule: Rule, invalid: ApiError) -> Attribute {
    Attribute {
        name,
        aliases: &[],
        rule,
        invalid,
    }
}

static ATTRIBUTES: &[Attribute] = &[
    attr(
        "BackendServerPort",
        Rule::Int(1, 65535),
        error::INVALID_PORT,
    ),
    attr("Bandwidth", Rule::Int(-1, 1000), error::INVALID_BANDWIDTH),
    attr(
        "Scheduler",
        Rule::OneOf(&["wrr", "wlc"]),
        error::INVALID_SCHEDULER,
    ),
    attr("XForwardedFor", ON_OFF, error::INVALID_X_FORWARDED_FOR),
    attr("XForwardedFor_SLBIP", ON_OFF, error::INVALID_PARAMETER),
    attr("XForwardedFor_SLBID", ON_OFF, error::INVALID_PARAMETER),
    attr("XForwardedFor_proto", ON_OFF, error::INVALID_PARAMETER),
    attr("Gzip", ON_OFF, error::INVALID_PARAMETER),
    attr("StickySession", ON_OFF, error::INVALID_PARAMETER),
    attr(
        "StickySessionType",
        Rule::OneOf(&["insert", "server"]),
        error::INVALID_STICKY_SESSION_TYPE,
    ),
    attr(
        "CookieTimeout",
        Rule::Int(1, 86400),
        error::INVALID_PARAMETER,
    ),
    attr("Cookie", Rule::Cookie, error::INVALID_PARAMETER),
    attr("HealthCheck", ON_OFF, error::INVALID_HEALTH_CHECK),
    attr(
        "HealthCheckType",
        Rule::OneOf(&["tcp", "http"]),
        error::INVALID_PARAMETER,
    ),
    attr(
        "HealthCheckDomain",
        Rule::HealthCheckDomain,
        error::INVALID_DOMAIN,
    ),
    attr("HealthCheckURI", Rule::Uri, error::INVALID_URI),
    attr(
        "HealthCheckConnectPort",
        Rule::Int(1, 65535),
        error::INVALID_CONNECT_PORT,
    ),
    attr(
        "HealthyThreshold",
        Rule::Int(1, 10),
        error::INVALID_HEALTHY_THRESHOLD,
    ),
    attr(
        "UnhealthyThreshold",
        Rule::Int(1, 10),
        error::INVALID_UNHEALTHY_THRESHOLD,
    ),
    Attribute {
        name: "HealthCheckTimeout",
        aliases: &["HealthCheckConnectTimeout"],
        rule: Rule::Int(1, 50),
        invalid: error::INVALID_CONNECT_TIMEOUT,
    },
    Attribute {
        name: "HealthCheckInterval",
        aliases: &["healthCheckInterval"],
        rule: Rule::Int(1, 5),
        invalid: error::INVALID_INTERVAL,
    },
    attr(
        "HealthCheckHttpCode",
        Rule::HttpCodes,
        error::INVALID_HTTP_CODE,
    ),
    attr(
        "PersistenceTimeout",
        Rule::Int(0, 3600),
        error::INVALID_PERSISTENCE_TIMEOUT,
    ),
    attr(
        "EstablishedTimeout",
        Rule::Int(10, 900),
        error::INVALID_PARAMETER,
    ),
    attr(
        "SynProxy",
        Rule::OneOf(&["enable", "disable"]),
        error::INVALID_PARAMETER,
    ),
    attr(
        "HealthCheckReq",
        Rule::Alphanumeric(500),
        error::INVALID_PARAMETER,
    ),
    attr(
        "HealthCheckExp",
        Rule::Alphanumeric(500),
        error::INVALID_PARAMETER,
    ),
    attr("ServerCertificateId", Rule::Id, error::INVALID_PARAMETER),
    attr("CACertificateId", Rule::Id, error::INVALID_PARAMETER),
    attr("VServerGroupId", Rule::Id, error::INVALID_PARAMETER),
    attr(
        "MasterSlaveServerGroupId",
        Rule::Id,
        error::INVALID_PARAMETER,
    ),
];

/// How a listener of any protocol paces its health checks.
const HEALTH_CHECK_TIMING: &[&str] = &[
    "HealthCheckConnectPort",
    "HealthyThreshold",
    "UnhealthyThreshold",
    "HealthCheckTimeout",
    "HealthCheckInterval",
];

/// Each protocol's attributes in the order they are validated (which decides the error of a call with several
/// bad values), as runs with the timing between them.
const LAYER7: [&[&str]; 3] = [
    &[
        "BackendServerPort",
        "Bandwidth",
        "XForwardedFor",
        "XForwardedFor_SLBIP",
        "XForwardedFor_SLBID",
        "XForwardedFor_proto",
        "Scheduler",
        "StickySession",
        "StickySessionType",
        "CookieTimeout",
        "Cookie",
        "HealthCheck",
        "HealthCheckDomain",
        "HealthCheckURI",
    ],
    HEALTH_CHECK_TIMING,
    &["HealthCheckHttpCode", "VServerGroupId", "Gzip"],
];
const HTTPS_ONLY: &[&str] = &["ServerCertificateId", "CACertificateId"];
const TCP: [&[&str]; 3] = [
    &[
        "BackendServerPort",
        "Bandwidth",
        "Scheduler",
        "PersistenceTimeout",
        "HealthCheckType",
        "HealthCheckDomain",
        "HealthCheckURI",
    ],
    HEALTH_CHECK_TIMING,
    &[
        "HealthCheckHttpCode",
        "VServerGroupId",
        "MasterSlaveServerGroupId",
        "EstablishedTimeout",
        "SynProxy",
    ],
];
const UDP: [&[&str]; 3] = [
    &[
        "BackendServerPort",
        "Bandwidth",
        "Scheduler",
        "PersistenceTimeout",
    ],
    HEALTH_CHECK_TIMING,
    &[
        "VServerGroupId",
        "MasterSlaveServerGroupId",
        "HealthCheckReq",
        "HealthCheckExp",
    ],
];

/// Parameters of an HTTP(S) health check: required when HealthCheck=on, ignored when off.
fn http_health_check() -> impl Iterator<Item = &'static str> {
    std::iter::once("HealthCheckURI").chain(HEALTH_CHECK_TIMING.iter().copied())
}

fn attributes_of(protocol: Protocol) -> impl Iterator<Item = &'static str> {
    let (runs, extra): ([&[&str]; 3], &[&str]) = match protocol {
        Protocol::Http => (LAYER7, &[]),
        Protocol::Https => (LAYER7, HTTPS_ONLY),
        Protocol::Tcp => (TCP, &[]),
        Protocol::Udp => (UDP, &[]),
    };
    runs.into_iter().flatten().chain(extra).copied()
}

pub(super) fn defaults(protocol: Protocol) -> Vec<(&'static str, Value)> {
    match protocol {
        Protocol::Http | Protocol::Https => vec![
            ("XForwardedFor", json!("on")),
            ("XForwardedFor_SLBIP", json!("off")),
            ("XForwardedFor_SLBID", json!("off")),
            ("XForwardedFor_proto", json!("off")),
            ("Scheduler", json!("wrr")),
            ("Gzip", json!("on")),
        ],
        Protocol::Tcp => vec![
            ("Scheduler", json!("wrr")),
            ("PersistenceTimeout", json!(0)),
            ("HealthCheckType", json!("tcp")),
            ("HealthyThreshold", json!(3)),
            ("UnhealthyThreshold", json!(3)),
            ("HealthCheckTimeout", json!(5)),
            ("HealthCheckInterval", json!(2)),
            ("HealthCheckHttpCode", json!("http_2xx")),
            ("EstablishedTimeout", json!(900)),
            ("SynProxy", json!("disable")),
        ],
        Protocol::Udp => vec![
            ("Bandwidth", json!(-1)),
            ("Scheduler", json!("wrr")),
            ("PersistenceTimeout", json!(0)),
            ("HealthyThreshold", json!(3)),
            ("UnhealthyThreshold", json!(3)),
            ("HealthCheckTimeout", json!(5)),
            ("HealthCheckInterval", json!(2)),
        ],
    }
}

pub(super) fn required_on(protocol: Protocol, creating: bool) -> Vec<&'static str> {
    let mut required = Vec::new();
    if creating {
        required.push("BackendServerPort");
    }
    // UDP creation is the one place the reference makes Bandwidth optional.
    if !(creating && protocol == Protocol::Udp) {
        required.push("Bandwidth");
    }
    if protocol.is_layer7() {
        required.extend(["StickySession", "HealthCheck"]);
    }
    if protocol == Protocol::Https {
        required.push("ServerCertificateId");
    }
    required
}

fn validate(
    attribute: &Attribute,
    raw: &str,
    creating: bool,
    protocol: Protocol,
) -> Result<Value, ApiError> {
    let invalid = || attribute.invalid.clone();
    match attribute.rule {
        Rule::Int(min, max) => {
            let n: i64 = raw.trim().parse().map_err(|_| {
                if attribute.name == "BackendServerPort" {
                    error::PORT_NOT_INTEGER
                } else {
                    invalid()
                }
            })?;
            // -520 ("use the backend port") is documented for creating HTTP/HTTPS listeners only.
            let use_backend_port = attribute.name == "HealthCheckConnectPort"
                && n == -520
                && creating
                && protocol.is_layer7();
            let bandwidth_zero = attribute.name == "Bandwidth" && n == 0;
            if ((min..=max).contains(&n) && !bandwidth_zero) || use_backend_port {
                Ok(json!(n))
            } else {
                Err(invalid())
            }
        }
        Rule::OneOf(allowed) if allowed.contains(&raw) => Ok(json!(raw)),
        Rule::OneOf(_) => Err(invalid()),
        Rule::HealthCheckDomain if is_valid_health_check_domain(raw) => Ok(json!(raw)),
        Rule::Uri if is_valid_uri(raw) => Ok(json!(raw)),
        Rule::HttpCodes => {
            let codes: Vec<&str> = raw.split(',').map(str::trim).collect();
            let known = ["http_2xx", "http_3xx", "http_4xx", "http_5xx"];
            if codes.iter().all(|c| known.contains(c)) {
                Ok(json!(codes.join(",")))
            } else {
                Err(invalid())
            }
        }
        Rule::Cookie
            if (1..=200).contains(&raw.len())
                && !raw.starts_with('$')
                && raw
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !",;".contains(c)) =>
        {
            Ok(json!(raw))
        }
        Rule::Alphanumeric(max)
            if raw.len() <= max && raw.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Ok(json!(raw))
        }
        Rule::Id => Ok(json!(raw)),
        _ => Err(invalid()),
    }
}

/// The given attributes of `protocol`, validated, in API naming.
pub(super) fn parse_attributes(
    p: &Params,
    protocol: Protocol,
    creating: bool,
) -> Result<BTreeMap<String, Value>, ApiError> {
    let mut given = BTreeMap::new();
    for name in attributes_of(protocol) {
        if !creating && name == "BackendServerPort" {
            continue;
        }
        let Some(attribute) = ATTRIBUTES.iter().find(|a| a.name == name) else {
            continue;
        };
        let mut spellings = vec![attribute.name];
        spellings.extend_from_slice(attribute.aliases);
        if let Some(raw) = p.get_any(&spellings) {
            given.insert(
                name.to_string(),
                validate(attribute, raw, creating, protocol)?,
            );
        }
    }
    Ok(given)
}

fn is_on(attributes: &BTreeMap<String, Value>, name: &str, on: &str) -> bool {
    attributes.get(name).and_then(Value::as_str) == Some(on)
}

/// Conditional rules of the reference, applied to the merged attributes; ignored parameters are dropped.
pub(super) fn apply_conditionals(
    protocol: Protocol,
    attrs: &mut BTreeMap<String, Value>,
    creating: bool,
) -> Result<(), ApiError> {
    if protocol.is_layer7() {
        // Forced on since 2015-05-15; the parameter is kept for compatibility only.
        attrs.insert("XForwardedFor".into(), json!("on"));
        if is_on(attrs, "StickySession", "on") {
            let kind = attrs
                .get("StickySessionType")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ApiError::missing("StickySessionType"))?;
            if kind == "insert" {
                attrs.remove("Cookie");
                if !attrs.contains_key("CookieTimeout") {
                    return Err(ApiError::missing("CookieTimeout"));
                }
            } else {
                attrs.remove("CookieTimeout");
                if !attrs.contains_key("Cookie") {
                    return Err(ApiError::missing("Cookie"));
                }
            }
        } else {
            for ignored in ["StickySessionType", "CookieTimeout", "Cookie"] {
                attrs.remove(ignored);
            }
        }
        if is_on(attrs, "HealthCheck", "on") {
            // On Set, an omitted health-check port means the backend port (the same cell also calls it required).
            if !creating && !attrs.contains_key("HealthCheckConnectPort") {
                let backend_port = attrs
                    .get("BackendServerPort")
                    .cloned()
                    .unwrap_or(Value::Null);
                attrs.insert("HealthCheckConnectPort".into(), backend_port);
            }
            if let Some(missing) = http_health_check().find(|n| !attrs.contains_key(*n)) {
                return Err(ApiError::missing(missing));
            }
            attrs
                .entry("HealthCheckHttpCode".to_string())
                .or_insert(json!("http_2xx"));
        } else {
            for ignored in http_health_check().chain(["HealthCheckHttpCode", "HealthCheckDomain"]) {
                attrs.remove(ignored);
            }
        }
    } else {
        // TCP and UDP listeners always health-check.
        attrs.insert("HealthCheck".into(), json!("on"));
    }
    if attrs.contains_key("VServerGroupId") && attrs.contains_key("MasterSlaveServerGroupId") {
        return Err(error::PARAMETER_COMBINATION);
    }
    Ok(())
}

/// The VServerGroup / MasterSlaveServerGroup switches of the Set actions (HTTP and HTTPS listeners have no
/// master-slave groups).
pub(super) fn apply_group_switches(
    p: &Params,
    protocol: Protocol,
    attrs: &mut BTreeMap<String, Value>,
) -> Result<(), ApiError> {
    let vserver = p.on_off("VServerGroup", error::INVALID_PARAMETER)?;
    let master_slave = if protocol.is_layer7() {
        None
    } else {
        p.on_off("MasterSlaveServerGroup", error::INVALID_PARAMETER)?
    };
    if vserver.as_deref() == Some("on") && master_slave.as_deref() == Some("on") {
        return Err(error::PARAMETER_COMBINATION);
    }
    for (switch, id_name, other) in [
        (&vserver, "VServerGroupId", "MasterSlaveServerGroupId"),
        (&master_slave, "MasterSlaveServerGroupId", "VServerGroupId"),
    ] {
        match switch.as_deref() {
            Some("on") => {
                let id = p.required(id_name)?;
                attrs.insert(id_name.to_string(), json!(id));
                attrs.remove(other);
            }
            Some(_) => {
                attrs.remove(id_name);
            }
            None => {
                if p.get(id_name).is_some() {
                    attrs.remove(other);
                }
            }
        }
    }
    Ok(())
}
