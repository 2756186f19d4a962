//! Backend servers of a load balancer, their health, VServer groups and master-slave groups.

use serde_json::{Value, json};

use super::{Ctx, Response, list, response};
use crate::error::{self, ApiError};
use crate::health::HealthOverride;
use crate::params::{Params, json_field_int, json_field_str};
use crate::state::{
    BackendServer, GroupServer, Listener, ListenerStatus, LoadBalancer, MasterSlaveGroup,
    VServerGroup,
};

const MAX_SERVERS_PER_CALL: usize = 20;

/// One entry of a BackendServers-style JSON list.
struct Entry {
    server_id: String,
    port: Option<u16>,
    weight: Option<i64>,
    server_type: Option<String>,
}

/// Parses a backend list: objects with ServerId/Port/Weight (or bare ServerId strings when `bare_ids`).
fn parse_entries(p: &Params, name: &str, bare_ids: bool) -> Result<Option<Vec<Entry>>, ApiError> {
    let Some(items) = p.json_list(name, error::INVALID_BACKEND_SERVERS)? else {
        return Ok(None);
    };
    if items.len() > MAX_SERVERS_PER_CALL {
        return Err(error::TOO_MANY_BACKEND_SERVERS);
    }
    let mut entries = Vec::with_capacity(items.len());
    for item in &items {
        if bare_ids && let Value::String(id) = item {
            let id = id.trim();
            if id.is_empty() {
                return Err(error::INVALID_BACKEND_SERVERS);
            }
            entries.push(Entry {
                server_id: id.to_string(),
                port: None,
                weight: None,
                server_type: None,
            });
            continue;
        }
        if !item.is_object() {
            return Err(error::INVALID_BACKEND_SERVERS);
        }
        let server_id = json_field_str(item, "ServerId").ok_or(error::INVALID_BACKEND_SERVERS)?;
        let port = match json_field_int(item, "Port").map_err(|_| error::PORT_NOT_INTEGER)? {
            None => None,
            Some(n) => Some(
                u16::try_from(n)
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or(error::INVALID_PORT)?,
            ),
        };
        let weight = json_field_int(item, "Weight").map_err(|_| error::INVALID_WEIGHT)?;
        if weight.is_some_and(|w| !(0..=100).contains(&w)) {
            return Err(error::INVALID_WEIGHT);
        }
        entries.push(Entry {
            server_id,
            port,
            weight,
            server_type: json_field_str(item, "ServerType"),
        });
    }
    Ok(Some(entries))
}

fn required_entries(p: &Params, name: &str, bare_ids: bool) -> Result<Vec<Entry>, ApiError> {
    parse_entries(p, name, bare_ids)?.ok_or_else(|| ApiError::missing(name))
}

/// Group entries need a port.
fn group_servers(
    ctx: &Ctx<'_>,
    entries: Vec<Entry>,
    region_id: &str,
    check: bool,
) -> Result<Vec<GroupServer>, ApiError> {
    let mut servers: Vec<GroupServer> = Vec::with_capacity(entries.len());
    for entry in entries {
        let port = entry.port.ok_or_else(|| ApiError::missing("Port"))?;
        if check {
            ctx.check_server(&entry.server_id, region_id)?;
        }
        // Repeated entries in one call: the first wins.
        if !servers
            .iter()
            .any(|s| s.server_id == entry.server_id && s.port == port)
        {
            servers.push(GroupServer {
                server_id: entry.server_id,
                port,
                weight: entry.weight.unwrap_or(100),
                server_type: entry.server_type.unwrap_or_default(),
            });
        }
    }
    Ok(servers)
}

fn backend_list(lb: &LoadBalancer) -> Value {
    let items = lb
        .backend_servers
        .iter()
        .map(|b| json!({"ServerId": b.server_id, "Weight": b.weight, "Type": "ecs"}))
        .collect();
    list("BackendServer", items)
}

fn lb_backends_response(lb: &LoadBalancer) -> Response {
    response(vec![
        ("LoadBalancerId", json!(lb.id)),
        ("BackendServers", backend_list(lb)),
    ])
}

pub fn add_backends(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let entries = required_entries(p, "BackendServers", false)?;
    let lb = ctx.lb_param(p)?.clone();
    for entry in &entries {
        ctx.check_server(&entry.server_id, &lb.region_id)?;
    }
    let lb = ctx.lb(&lb.id)?;
    let mut seen: Vec<&str> = Vec::new();
    for entry in &entries {
        if seen.contains(&entry.server_id.as_str()) {
            continue;
        }
        seen.push(&entry.server_id);
        let weight = entry.weight.unwrap_or(100);
        match lb
            .backend_servers
            .iter_mut()
            .find(|b| b.server_id == entry.server_id)
        {
            Some(existing) => existing.weight = weight,
            None => lb.backend_servers.push(BackendServer {
                server_id: entry.server_id.clone(),
                weight,
            }),
        }
    }
    Ok(lb_backends_response(lb))
}

pub fn remove_backends(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let entries = required_entries(p, "BackendServers", true)?;
    let lb = ctx.lb_param(p)?;
    lb.backend_servers
        .retain(|b| !entries.iter().any(|e| e.server_id == b.server_id));
    Ok(lb_backends_response(lb))
}

pub fn set_backends(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let entries = required_entries(p, "BackendServers", false)?;
    let lb = ctx.lb_param(p)?;
    for entry in &entries {
        if let Some(existing) = lb
            .backend_servers
            .iter_mut()
            .find(|b| b.server_id == entry.server_id)
        {
            existing.weight = entry.weight.unwrap_or(100);
        }
    }
    Ok(lb_backends_response(lb))
}

/// The (server, port) pairs a listener sends traffic to.
fn listener_targets(lb: &LoadBalancer, listener: &Listener) -> Vec<(String, u16)> {
    let group_id = |name: &str| listener.attribute_str(name).map(str::to_string);
    if let Some(group) = group_id("VServerGroupId").and_then(|id| lb.vserver_groups.get(&id)) {
        return group
            .servers
            .iter()
            .map(|s| (s.server_id.clone(), s.port))
            .collect();
    }
    if let Some(group) =
        group_id("MasterSlaveServerGroupId").and_then(|id| lb.master_slave_groups.get(&id))
    {
        return group
            .servers
            .iter()
            .map(|s| (s.server_id.clone(), s.port))
            .collect();
    }
    let port = listener
        .attribute_int("BackendServerPort")
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(listener.port);
    lb.backend_servers
        .iter()
        .map(|b| (b.server_id.clone(), port))
        .collect()
}

/// Health by default: normal once the listener runs (and health checking is on), unavailable otherwise.
fn health_of(
    overrides: &[HealthOverride],
    lb: &LoadBalancer,
    listener: &Listener,
    server_id: &str,
    port: u16,
    now_ms: u64,
) -> String {
    if let Some(o) = overrides
        .iter()
        .rev()
        .find(|o| o.applies_to(&lb.id, server_id, port, listener.port))
    {
        return o.status.clone();
    }
    let checking = listener.attribute_str("HealthCheck") != Some("off");
    let running = listener.status_at(now_ms) == ListenerStatus::Running;
    if checking && running && lb.status == "active" {
        "normal".to_string()
    } else {
        "unavailable".to_string()
    }
}

pub fn describe_health(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let port = p.port("ListenerPort")?;
    let lb = ctx.lb_param(p)?.clone();
    let listeners: Vec<&Listener> = match port {
        Some(port) => vec![lb.listeners.get(&port).ok_or(error::LISTENER_NOT_FOUND)?],
        None => lb.listeners.values().collect(),
    };
    let mut items = Vec::new();
    for listener in listeners {
        for (server_id, backend_port) in listener_targets(&lb, listener) {
            let status = health_of(ctx.health, &lb, listener, &server_id, backend_port, now);
            items.push(json!({
                "ServerId": server_id,
                "Port": backend_port,
                "ListenerPort": listener.port,
                "Protocol": listener.protocol.as_str(),
                "ServerHealthStatus": status,
                "ServerIp": ctx.private_ip_of(&server_id).unwrap_or_default(),
            }));
        }
    }
    Ok(response(vec![(
        "BackendServers",
        list("BackendServer", items),
    )]))
}

fn group_list(servers: &[GroupServer], item: &str, with_type: bool) -> Value {
    let items = servers
        .iter()
        .map(|s| {
            let mut v =
                json!({"ServerId": s.server_id, "Port": s.port, "Weight": s.weight, "Type": "ecs"});
            if with_type {
                v["ServerType"] = json!(s.server_type);
            }
            v
        })
        .collect();
    list(item, items)
}

fn group_response(lb: &LoadBalancer, group: &VServerGroup) -> Response {
    response(vec![
        ("VServerGroupId", json!(group.id)),
        ("VServerGroupName", json!(group.name)),
        ("LoadBalancerId", json!(lb.id)),
        (
            "BackendServers",
            group_list(&group.servers, "BackendServer", false),
        ),
    ])
}

/// The load balancer of the request's region that holds a group, by the group's ID.
fn owner_in_region<'a>(
    ctx: &'a mut Ctx<'_>,
    group_id: &str,
    holds: impl Fn(&LoadBalancer) -> bool,
) -> Result<&'a mut LoadBalancer, ApiError> {
    let region = ctx.region.clone();
    ctx.state
        .owner_of(group_id, |lb| {
            holds(lb) && region.as_deref().is_none_or(|r| r == lb.region_id)
        })
        .ok_or(error::GROUP_NOT_FOUND)
}

/// The load balancer holding a VServer group, by the group's ID.
fn group_owner<'a>(ctx: &'a mut Ctx<'_>, group_id: &str) -> Result<&'a mut LoadBalancer, ApiError> {
    owner_in_region(ctx, group_id, |lb| lb.vserver_groups.contains_key(group_id))
}

pub fn create_group(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let lb = ctx.lb_param(p)?.clone();
    let name = p
        .get("VServerGroupName")
        .ok_or(error::GROUP_NAME_EMPTY)?
        .to_string();
    let entries = required_entries(p, "BackendServers", false)?;
    let servers = group_servers(ctx, entries, &lb.region_id, true)?;
    let group = VServerGroup {
        id: ctx.new_id("rsp-", 10),
        name,
        servers,
    };
    let body = group_response(&lb, &group);
    ctx.state.index_child(&group.id, &lb.id);
    ctx.lb(&lb.id)?
        .vserver_groups
        .insert(group.id.clone(), group);
    Ok(body)
}

pub fn set_group(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let group_id = p.required("VServerGroupId")?.to_string();
    let name = p.get("VServerGroupName").map(str::to_string);
    let entries = parse_entries(p, "BackendServers", false)?.unwrap_or_default();
    let lb = group_owner(ctx, &group_id)?;
    let group = lb
        .vserver_groups
        .get_mut(&group_id)
        .ok_or(error::GROUP_NOT_FOUND)?;
    if let Some(name) = name {
        group.name = name;
    }
    for entry in entries {
        let port = entry.port.ok_or_else(|| ApiError::missing("Port"))?;
        if let Some(s) = group
            .servers
            .iter_mut()
            .find(|s| s.server_id == entry.server_id && s.port == port)
        {
            s.weight = entry.weight.unwrap_or(100);
        }
    }
    let group = group.clone();
    Ok(group_response(lb, &group))
}

fn change_group_servers(
    ctx: &mut Ctx<'_>,
    p: &Params,
    remove: Option<&str>,
    add: Option<&str>,
) -> Result<Response, ApiError> {
    let group_id = p.required("VServerGroupId")?.to_string();
    let removed = match remove {
        Some(name) if add.is_none() => required_entries(p, name, false)?,
        Some(name) => parse_entries(p, name, false)?.unwrap_or_default(),
        None => Vec::new(),
    };
    let added = match add {
        Some(name) if remove.is_none() => required_entries(p, name, false)?,
        Some(name) => parse_entries(p, name, false)?.unwrap_or_default(),
        None => Vec::new(),
    };
    let region_id = group_owner(ctx, &group_id)?.region_id.clone();
    let added = group_servers(ctx, added, &region_id, true)?;
    let lb = group_owner(ctx, &group_id)?;
    let group = lb
        .vserver_groups
        .get_mut(&group_id)
        .ok_or(error::GROUP_NOT_FOUND)?;
    for entry in &removed {
        let port = entry.port.ok_or_else(|| ApiError::missing("Port"))?;
        group
            .servers
            .retain(|s| !(s.server_id == entry.server_id && s.port == port));
    }
    for server in added {
        match group
            .servers
            .iter_mut()
            .find(|s| s.server_id == server.server_id && s.port == server.port)
        {
            Some(existing) => existing.weight = server.weight,
            None => group.servers.push(server),
        }
    }
    let group = group.clone();
    let mut body = group_response(lb, &group);
    body.remove("VServerGroupName");
    Ok(body)
}

pub fn add_group_servers(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    change_group_servers(ctx, p, None, Some("BackendServers"))
}

pub fn remove_group_servers(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    change_group_servers(ctx, p, Some("BackendServers"), None)
}

pub fn modify_group_servers(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    change_group_servers(ctx, p, Some("OldBackendServers"), Some("NewBackendServers"))
}

fn referenced_by_listener(lb: &LoadBalancer, attribute: &str, group_id: &str) -> bool {
    lb.listeners
        .values()
        .any(|l| l.attribute_str(attribute) == Some(group_id))
}

pub fn delete_group(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let group_id = p.required("VServerGroupId")?.to_string();
    let lb = group_owner(ctx, &group_id)?;
    let in_rules = lb.rules.values().any(|r| r.vserver_group_id == group_id);
    if in_rules || referenced_by_listener(lb, "VServerGroupId", &group_id) {
        return Err(error::ACTION_NOT_ALLOWED);
    }
    lb.vserver_groups.remove(&group_id);
    ctx.state.unindex([&group_id]);
    Ok(Response::new())
}

/// The newer SDKs' `IncludeListener` / `IncludeRule` switches (`true`/`false` in any case; absent → false).
fn include(p: &Params, name: &str) -> Result<bool, ApiError> {
    match p.get(name) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(error::INVALID_PARAMETER),
    }
}

/// `AssociatedObjects` of a group as the newer SDKs' models read it: the listeners whose `attribute` names the
/// group (`Listeners.Listener[]` of Port and Protocol) and, for VServer groups, the forwarding rules forwarding
/// to it (`Rules.Rule[]` of RuleId, RuleName, Domain, Url).
fn associated_objects(
    lb: &LoadBalancer,
    attribute: &str,
    group_id: &str,
    listeners: bool,
    rules: bool,
) -> Value {
    let mut objects = serde_json::Map::new();
    if listeners {
        let items = lb
            .listeners
            .values()
            .filter(|l| l.attribute_str(attribute) == Some(group_id))
            .map(|l| json!({"Port": l.port, "Protocol": l.protocol.as_str()}))
            .collect();
        objects.insert("Listeners".into(), list("Listener", items));
    }
    if rules {
        let items = lb
            .rules
            .values()
            .filter(|r| r.vserver_group_id == group_id)
            .map(|r| json!({"RuleId": r.id, "RuleName": r.name, "Domain": r.domain, "Url": r.url}))
            .collect();
        objects.insert("Rules".into(), list("Rule", items));
    }
    Value::Object(objects)
}

pub fn describe_groups(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let (listeners, rules) = (include(p, "IncludeListener")?, include(p, "IncludeRule")?);
    let lb = ctx.lb_param(p)?;
    let items = lb
        .vserver_groups
        .values()
        .map(|g| {
            let mut item = json!({
                "VServerGroupId": g.id,
                "VServerGroupName": g.name,
                "ServerCount": g.servers.len(),
            });
            if listeners || rules {
                item["AssociatedObjects"] =
                    associated_objects(lb, "VServerGroupId", &g.id, listeners, rules);
            }
            item
        })
        .collect();
    Ok(response(vec![(
        "VServerGroups",
        list("VServerGroup", items),
    )]))
}

pub fn describe_group(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let group_id = p.required("VServerGroupId")?.to_string();
    let lb = group_owner(ctx, &group_id)?;
    let group = lb
        .vserver_groups
        .get(&group_id)
        .ok_or(error::GROUP_NOT_FOUND)?;
    Ok(group_response(lb, group))
}

/// The two spellings of the master-slave actions answer with the matching field names.
#[derive(Clone, Copy)]
pub enum MsNames {
    /// `…MasterSlaveVServerGroup…`, as the reference names them.
    V,
    /// `…MasterSlaveServerGroup…`, as the SDKs name them.
    Plain,
}

impl MsNames {
    fn id(self) -> &'static str {
        match self {
            MsNames::V => "MasterSlaveVServerGroupId",
            MsNames::Plain => "MasterSlaveServerGroupId",
        }
    }
    fn name(self) -> &'static str {
        match self {
            MsNames::V => "MasterSlaveVServerGroupName",
            MsNames::Plain => "MasterSlaveServerGroupName",
        }
    }
    fn list(self) -> (&'static str, &'static str) {
        match self {
            MsNames::V => ("MasterSlaveVServerGroups", "MasterSlaveVServerGroup"),
            MsNames::Plain => ("MasterSlaveServerGroups", "MasterSlaveServerGroup"),
        }
    }
    fn server_item(self) -> &'static str {
        match self {
            MsNames::V => "MasterSlaveBackendServers",
            MsNames::Plain => "MasterSlaveBackendServer",
        }
    }
}

fn ms_response(lb: &LoadBalancer, group: &MasterSlaveGroup, names: MsNames) -> Response {
    response(vec![
        (names.id(), json!(group.id)),
        (names.name(), json!(group.name)),
        ("LoadBalancerId", json!(lb.id)),
        (
            "MasterSlaveBackendServers",
            group_list(&group.servers, names.server_item(), true),
        ),
    ])
}

fn ms_group_id(p: &Params) -> Result<String, ApiError> {
    p.required_any(&["MasterSlaveServerGroupId", "MasterSlaveVServerGroupId"])
        .map(str::to_string)
}

fn ms_owner<'a>(ctx: &'a mut Ctx<'_>, group_id: &str) -> Result<&'a mut LoadBalancer, ApiError> {
    owner_in_region(ctx, group_id, |lb| {
        lb.master_slave_groups.contains_key(group_id)
    })
}

pub fn create_ms_group(
    ctx: &mut Ctx<'_>,
    p: &Params,
    names: MsNames,
) -> Result<Response, ApiError> {
    let lb = ctx.lb_param(p)?.clone();
    let name = p
        .required_any(&[names.name(), MsNames::V.name(), MsNames::Plain.name()])?
        .to_string();
    let entries = required_entries(p, "MasterSlaveBackendServers", false)?;
    let mut servers = group_servers(ctx, entries, &lb.region_id, true)?;
    for s in &mut servers {
        if s.server_type.is_empty() {
            s.server_type = "Master".to_string();
        }
    }
    let masters = servers.iter().filter(|s| s.server_type == "Master").count();
    let slaves = servers.iter().filter(|s| s.server_type == "Slave").count();
    if servers.len() != 2 || masters != 1 || slaves != 1 {
        return Err(error::PARAMETER_COMBINATION);
    }
    let group = MasterSlaveGroup {
        id: ctx.new_id("rsp-", 10),
        name,
        servers,
    };
    let body = ms_response(&lb, &group, names);
    ctx.state.index_child(&group.id, &lb.id);
    ctx.lb(&lb.id)?
        .master_slave_groups
        .insert(group.id.clone(), group);
    Ok(body)
}

pub fn delete_ms_group(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let group_id = ms_group_id(p)?;
    let lb = ms_owner(ctx, &group_id)?;
    if referenced_by_listener(lb, "MasterSlaveServerGroupId", &group_id) {
        return Err(error::ACTION_NOT_ALLOWED);
    }
    lb.master_slave_groups.remove(&group_id);
    ctx.state.unindex([&group_id]);
    Ok(Response::new())
}

pub fn describe_ms_group(
    ctx: &mut Ctx<'_>,
    p: &Params,
    names: MsNames,
) -> Result<Response, ApiError> {
    let group_id = ms_group_id(p)?;
    let lb = ms_owner(ctx, &group_id)?;
    let group = lb
        .master_slave_groups
        .get(&group_id)
        .ok_or(error::GROUP_NOT_FOUND)?;
    Ok(ms_response(lb, group, names))
}

pub fn describe_ms_groups(
    ctx: &mut Ctx<'_>,
    p: &Params,
    names: MsNames,
) -> Result<Response, ApiError> {
    let listeners = include(p, "IncludeListener")?;
    let lb = ctx.lb_param(p)?;
    let items = lb
        .master_slave_groups
        .values()
        .map(|g| {
            let mut item = serde_json::Map::new();
            item.insert(names.id().into(), json!(g.id));
            item.insert(names.name().into(), json!(g.name));
            if listeners {
                let objects =
                    associated_objects(lb, "MasterSlaveServerGroupId", &g.id, true, false);
                item.insert("AssociatedObjects".into(), objects);
            }
            Value::Object(item)
        })
        .collect();
    let (wrapper, item) = names.list();
    Ok(response(vec![(wrapper, list(item, items))]))
}
