//! Listeners of the four protocols, their state machine, and access control.
//!
//! Attributes are data-driven: each has one validation rule and one error, and each protocol lists the
//! attributes it takes. Conditional rules (sticky sessions, HTTP health checks, groups, bandwidth) are checked
//! on the merged result, so that a Set call that leaves an attribute out keeps the current value.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::{Ctx, Response, ensure_settled, response};
use crate::error::{self, ApiError};
use crate::params::{Params, is_valid_health_check_domain, is_valid_uri};
use crate::state::{Listener, ListenerStatus, LoadBalancer, Protocol};

const MAX_LISTENERS: usize = 50;
const MAX_WHITE_LIST_ITEMS: usize = 300;

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

const LAYER7: &[&str] = &[
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
    "HealthCheckConnectPort",
    "HealthyThreshold",
    "UnhealthyThreshold",
    "HealthCheckTimeout",
    "HealthCheckInterval",
    "HealthCheckHttpCode",
    "VServerGroupId",
    "Gzip",
];
const HTTPS_ONLY: &[&str] = &["ServerCertificateId", "CACertificateId"];
const TCP: &[&str] = &[
    "BackendServerPort",
    "Bandwidth",
    "Scheduler",
    "PersistenceTimeout",
    "HealthCheckType",
    "HealthCheckDomain",
    "HealthCheckURI",
    "HealthCheckConnectPort",
    "HealthyThreshold",
    "UnhealthyThreshold",
    "HealthCheckTimeout",
    "HealthCheckInterval",
    "HealthCheckHttpCode",
    "VServerGroupId",
    "MasterSlaveServerGroupId",
    "EstablishedTimeout",
    "SynProxy",
];
const UDP: &[&str] = &[
    "BackendServerPort",
    "Bandwidth",
    "Scheduler",
    "PersistenceTimeout",
    "HealthCheckConnectPort",
    "HealthyThreshold",
    "UnhealthyThreshold",
    "HealthCheckTimeout",
    "HealthCheckInterval",
    "VServerGroupId",
    "MasterSlaveServerGroupId",
    "HealthCheckReq",
    "HealthCheckExp",
];
/// Parameters of an HTTP(S) health check: required when HealthCheck=on, ignored when off.
const HTTP_HEALTH_CHECK: &[&str] = &[
    "HealthCheckURI",
    "HealthCheckConnectPort",
    "HealthyThreshold",
    "UnhealthyThreshold",
    "HealthCheckTimeout",
    "HealthCheckInterval",
];

fn attributes_of(protocol: Protocol) -> impl Iterator<Item = &'static str> {
    let (base, extra): (&[&str], &[&str]) = match protocol {
        Protocol::Http => (LAYER7, &[]),
        Protocol::Https => (LAYER7, HTTPS_ONLY),
        Protocol::Tcp => (TCP, &[]),
        Protocol::Udp => (UDP, &[]),
    };
    base.iter().chain(extra.iter()).copied()
}

fn defaults(protocol: Protocol) -> Vec<(&'static str, Value)> {
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

fn required_on(protocol: Protocol, creating: bool) -> Vec<&'static str> {
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
fn parse_attributes(
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
fn apply_conditionals(
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
            if let Some(missing) = HTTP_HEALTH_CHECK.iter().find(|n| !attrs.contains_key(**n)) {
                return Err(ApiError::missing(missing));
            }
            attrs
                .entry("HealthCheckHttpCode".to_string())
                .or_insert(json!("http_2xx"));
        } else {
            for ignored in HTTP_HEALTH_CHECK
                .iter()
                .chain(&["HealthCheckHttpCode", "HealthCheckDomain"])
            {
                attrs.remove(*ignored);
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
fn apply_group_switches(
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

/// Groups, certificates and bandwidth must agree with the rest of the account.
fn check_references(
    ctx: &Ctx<'_>,
    lb: &LoadBalancer,
    port: u16,
    attrs: &BTreeMap<String, Value>,
) -> Result<(), ApiError> {
    let text = |name: &str| attrs.get(name).and_then(Value::as_str);
    if let Some(id) = text("VServerGroupId")
        && !lb.vserver_groups.contains_key(id)
    {
        return Err(error::GROUP_NOT_FOUND);
    }
    if let Some(id) = text("MasterSlaveServerGroupId")
        && !lb.master_slave_groups.contains_key(id)
    {
        return Err(error::GROUP_NOT_FOUND);
    }
    if let Some(id) = text("ServerCertificateId")
        && ctx
            .state
            .server_certificates
            .get(id)
            .is_none_or(|c| c.region_id != lb.region_id)
    {
        return Err(error::CERTIFICATE_NOT_FOUND);
    }
    if let Some(id) = text("CACertificateId")
        && ctx
            .state
            .ca_certificates
            .get(id)
            .is_none_or(|c| c.region_id != lb.region_id)
    {
        return Err(error::CERTIFICATE_NOT_FOUND);
    }
    let bandwidth = attrs.get("Bandwidth").and_then(Value::as_i64).unwrap_or(-1);
    if lb.address_type == "internet" && lb.internet_charge_type == "paybybandwidth" {
        if bandwidth == -1 {
            return Err(error::INVALID_LISTENER_BANDWIDTH);
        }
        let others: i64 = lb
            .listeners
            .values()
            .filter(|l| l.port != port)
            .filter_map(|l| l.attribute_int("Bandwidth"))
            .filter(|b| *b > 0)
            .sum();
        if others + bandwidth > lb.bandwidth {
            return Err(error::BANDWIDTH_OVER_TOTAL);
        }
    }
    Ok(())
}

pub fn create(ctx: &mut Ctx<'_>, p: &Params, protocol: Protocol) -> Result<Response, ApiError> {
    let lb_id = ctx.lb_param(p)?.id.clone();
    let port = p.required_port("ListenerPort")?;
    let mut attrs = parse_attributes(p, protocol, true)?;
    if let Some(missing) = required_on(protocol, true)
        .into_iter()
        .find(|n| !attrs.contains_key(*n))
    {
        return Err(ApiError::missing(missing));
    }
    for (name, value) in defaults(protocol) {
        attrs.entry(name.to_string()).or_insert(value);
    }
    apply_conditionals(protocol, &mut attrs, true)?;
    let lb = ctx.lb(&lb_id)?.clone();
    if lb.listeners.contains_key(&port) {
        return Err(error::LISTENER_EXISTS);
    }
    if lb.listeners.len() >= MAX_LISTENERS {
        return Err(error::TOO_MANY_LISTENERS);
    }
    check_references(ctx, &lb, port, &attrs)?;
    let listener = Listener {
        port,
        protocol,
        status: ListenerStatus::Stopped,
        transition: None,
        attributes: attrs,
        access_control_status: "close".to_string(),
        white_list: Vec::new(),
    };
    ctx.lb(&lb_id)?.listeners.insert(port, listener);
    Ok(Response::new())
}

/// The listener at the request's port, which must be of `protocol`.
fn listener_of(
    lb: &mut LoadBalancer,
    port: u16,
    protocol: Protocol,
) -> Result<&mut Listener, ApiError> {
    let listener = lb
        .listeners
        .get_mut(&port)
        .ok_or(error::LISTENER_NOT_FOUND)?;
    if listener.protocol == protocol {
        Ok(listener)
    } else {
        Err(error::WRONG_PROTOCOL)
    }
}

/// Marks a changed listener: a running listener reconfigures, then runs again.
fn reconfigure(listener: &mut Listener, now_ms: u64, delay_ms: u64) {
    if listener.status == ListenerStatus::Running {
        listener.begin(
            ListenerStatus::Configuring,
            ListenerStatus::Running,
            now_ms + delay_ms,
        );
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub fn set(ctx: &mut Ctx<'_>, p: &Params, protocol: Protocol) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let (lb, port) = ctx.listener_param(p)?;
    let lb_id = lb.id.clone();
    let current = listener_of(lb, port, protocol)?;
    ensure_settled(current, now)?;
    let given = parse_attributes(p, protocol, false)?;
    if let Some(missing) = required_on(protocol, false)
        .into_iter()
        .find(|n| !given.contains_key(*n))
    {
        return Err(ApiError::missing(missing));
    }
    let mut attrs = current.attributes.clone();
    attrs.extend(given);
    apply_group_switches(p, protocol, &mut attrs)?;
    apply_conditionals(protocol, &mut attrs, false)?;
    let lb = ctx.lb(&lb_id)?.clone();
    check_references(ctx, &lb, port, &attrs)?;
    let delay = millis(ctx.delays.configure);
    let listener = listener_of(ctx.lb(&lb_id)?, port, protocol)?;
    listener.attributes = attrs;
    reconfigure(listener, now, delay);
    Ok(Response::new())
}

pub fn describe(ctx: &mut Ctx<'_>, p: &Params, protocol: Protocol) -> Result<Response, ApiError> {
    let (lb, port) = ctx.listener_param(p)?;
    let listener = listener_of(lb, port, protocol)?;
    let mut body: Response = listener.attributes.clone().into_iter().collect();
    body.insert("ListenerPort".into(), json!(port));
    body.insert("Status".into(), json!(listener.status.as_str()));
    if !protocol.is_layer7() {
        // The reference's response tables spell these two differently from the requests.
        if let Some(id) = listener.attributes.get("MasterSlaveServerGroupId") {
            body.insert("MaterSlaveServerGroupId".into(), id.clone());
        }
        if let Some(timeout) = listener.attributes.get("HealthCheckTimeout") {
            body.insert("HealthCheckConnectTimeout".into(), timeout.clone());
        }
    }
    Ok(body)
}

pub fn delete(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let (lb, port) = ctx.listener_param(p)?;
    if let Some(listener) = lb.listeners.get(&port) {
        ensure_settled(listener, now)?;
    }
    lb.listeners.remove(&port);
    let rules: Vec<String> = lb
        .rules
        .values()
        .filter(|r| r.listener_port == port)
        .map(|r| r.id.clone())
        .collect();
    lb.rules.retain(|_, r| r.listener_port != port);
    ctx.state.unindex(&rules);
    Ok(Response::new())
}

pub fn start(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let delay = millis(ctx.delays.start);
    let (lb, port) = ctx.listener_param(p)?;
    if lb.status == "locked" {
        return Err(error::ACTION_NOT_ALLOWED);
    }
    let listener = lb
        .listeners
        .get_mut(&port)
        .ok_or(error::LISTENER_NOT_FOUND)?;
    match listener.status {
        ListenerStatus::Stopped => listener.begin(
            ListenerStatus::Starting,
            ListenerStatus::Running,
            now + delay,
        ),
        ListenerStatus::Running => {}
        _ => return Err(error::LB_CONFIGURING),
    }
    Ok(Response::new())
}

pub fn stop(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let delay = millis(ctx.delays.stop);
    let (lb, port) = ctx.listener_param(p)?;
    if lb.status == "locked" {
        return Err(error::ACTION_NOT_ALLOWED);
    }
    let listener = lb
        .listeners
        .get_mut(&port)
        .ok_or(error::LISTENER_NOT_FOUND)?;
    match listener.status {
        ListenerStatus::Running => listener.begin(
            ListenerStatus::Stopping,
            ListenerStatus::Stopped,
            now + delay,
        ),
        ListenerStatus::Stopped => {}
        _ => return Err(error::LB_CONFIGURING),
    }
    Ok(Response::new())
}

pub fn set_access_control(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let status = p
        .choice(
            "AccessControlStatus",
            &["open_white_list", "close"],
            error::INVALID_ACCESS_CONTROL_STATUS,
        )?
        .ok_or_else(|| ApiError::missing("AccessControlStatus"))?;
    let now = ctx.now_ms;
    let delay = millis(ctx.delays.configure);
    let (lb, port) = ctx.listener_param(p)?;
    let listener = lb
        .listeners
        .get_mut(&port)
        .ok_or(error::LISTENER_NOT_FOUND)?;
    ensure_settled(listener, now)?;
    if listener.access_control_status != status {
        listener.access_control_status = status;
        reconfigure(listener, now, delay);
    }
    Ok(Response::new())
}

/// An IPv4 address or CIDR block; "allow everything" (0.0.0.0, /0) is refused, as the reference says.
fn parse_source_item(item: &str) -> Option<String> {
    let (address, prefix) = match item.split_once('/') {
        Some((a, p)) => (
            a,
            Some(p.parse::<u8>().ok().filter(|p| (1..=32).contains(p))?),
        ),
        None => (item, None),
    };
    let ip: Ipv4Addr = address.parse().ok()?;
    if ip.is_unspecified() {
        return None;
    }
    Some(prefix.map_or_else(|| ip.to_string(), |p| format!("{ip}/{p}")))
}

fn source_items(p: &Params) -> Result<Vec<String>, ApiError> {
    let raw = p.required("SourceItems")?;
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse_source_item(s).ok_or(error::INVALID_SOURCE_ITEMS))
        .collect()
}

fn change_white_list(ctx: &mut Ctx<'_>, p: &Params, add: bool) -> Result<Response, ApiError> {
    let items = source_items(p)?;
    let now = ctx.now_ms;
    let delay = millis(ctx.delays.configure);
    let (lb, port) = ctx.listener_param(p)?;
    let listener = lb
        .listeners
        .get_mut(&port)
        .ok_or(error::LISTENER_NOT_FOUND)?;
    ensure_settled(listener, now)?;
    let mut list = listener.white_list.clone();
    if add {
        for item in items {
            if !list.contains(&item) {
                list.push(item);
            }
        }
        if list.len() > MAX_WHITE_LIST_ITEMS {
            return Err(error::SOURCE_LIST_OVER_LIMIT);
        }
    } else {
        list.retain(|i| !items.contains(i));
    }
    if list != listener.white_list {
        listener.white_list = list;
        reconfigure(listener, now, delay);
    }
    Ok(Response::new())
}

pub fn add_white_list(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    change_white_list(ctx, p, true)
}

pub fn remove_white_list(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    change_white_list(ctx, p, false)
}

pub fn describe_access_control(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let (lb, port) = ctx.listener_param(p)?;
    let listener = lb.listeners.get(&port).ok_or(error::LISTENER_NOT_FOUND)?;
    Ok(response(vec![
        ("AccessControlStatus", json!(listener.access_control_status)),
        ("SourceItems", json!(listener.white_list.join(","))),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_items() {
        assert_eq!(parse_source_item("1.1.1.1"), Some("1.1.1.1".into()));
        assert_eq!(parse_source_item("1.1.1.0/21"), Some("1.1.1.0/21".into()));
        assert_eq!(parse_source_item("0.0.0.0"), None);
        assert_eq!(parse_source_item("10.0.0.0/0"), None);
        assert_eq!(parse_source_item("nope"), None);
    }
}
