//! Listeners of the four protocols: create, set, describe, delete, and their state machine (start, stop,
//! configuring). Attributes are in `listener_attributes`, access control in `access_control`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::listener_attributes::{
    apply_conditionals, apply_group_switches, defaults, parse_attributes, required_on,
};
use super::{Ctx, Response, ensure_settled};
use crate::error::{self, ApiError};
use crate::params::Params;
use crate::state::{Listener, ListenerStatus, LoadBalancer, Protocol};

const MAX_LISTENERS: usize = 50;

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
    let certificates = [
        ("ServerCertificateId", &ctx.state.server_certificates),
        ("CACertificateId", &ctx.state.ca_certificates),
    ];
    for (name, known) in certificates {
        if let Some(id) = text(name)
            && known.get(id).is_none_or(|c| c.region_id != lb.region_id)
        {
            return Err(error::CERTIFICATE_NOT_FOUND);
        }
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
pub(super) fn reconfigure(listener: &mut Listener, now_ms: u64, delay_ms: u64) {
    if listener.status == ListenerStatus::Running {
        listener.begin(
            ListenerStatus::Configuring,
            ListenerStatus::Running,
            now_ms + delay_ms,
        );
    }
}

pub(super) fn millis(d: std::time::Duration) -> u64 {
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

/// The states a start or a stop moves a listener from, through and to.
struct StatusMove {
    from: ListenerStatus,
    via: ListenerStatus,
    to: ListenerStatus,
}

const START: StatusMove = StatusMove {
    from: ListenerStatus::Stopped,
    via: ListenerStatus::Starting,
    to: ListenerStatus::Running,
};

const STOP: StatusMove = StatusMove {
    from: ListenerStatus::Running,
    via: ListenerStatus::Stopping,
    to: ListenerStatus::Stopped,
};

pub fn start(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let delay = millis(ctx.delays.start);
    move_status(ctx, p, &START, delay)
}

pub fn stop(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let delay = millis(ctx.delays.stop);
    move_status(ctx, p, &STOP, delay)
}

/// A listener already where the move ends stays there; one neither there nor where it starts is still
/// configuring.
fn move_status(
    ctx: &mut Ctx<'_>,
    p: &Params,
    step: &StatusMove,
    delay_ms: u64,
) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let (lb, port) = ctx.listener_param(p)?;
    if lb.status == "locked" {
        return Err(error::ACTION_NOT_ALLOWED);
    }
    let listener = lb
        .listeners
        .get_mut(&port)
        .ok_or(error::LISTENER_NOT_FOUND)?;
    if listener.status == step.from {
        listener.begin(step.via, step.to, now + delay_ms);
    } else if listener.status != step.to {
        return Err(error::LB_CONFIGURING);
    }
    Ok(Response::new())
}
