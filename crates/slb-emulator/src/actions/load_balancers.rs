//! Load-balancer instances, regions and zones, and tags.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Ctx, Response, list, response};
use crate::clock;
use crate::error::{self, ApiError};
use crate::ids::region_infix;
use crate::params::{COMMON_PARAMETERS, Params, is_valid_name, json_field_str};
use crate::state::{ClientTokenRecord, LoadBalancer, Tag};

const SPECS: &[&str] = &[
    "slb.s1.small",
    "slb.s2.small",
    "slb.s2.medium",
    "slb.s3.small",
    "slb.s3.medium",
    "slb.s3.large",
];
const MAX_TAGS_PER_CALL: usize = 5;
const MAX_TAGS_PER_INSTANCE: usize = 10;
const MAX_FILTER_VALUES: usize = 10;

/// The zones of a region: `<region>-a`, `-b`, `-c`.
pub fn zones(region_id: &str) -> Vec<String> {
    ["a", "b", "c"]
        .iter()
        .map(|z| format!("{region_id}-{z}"))
        .collect()
}

fn local_name(region_id: &str) -> &str {
    match region_id {
        "cn-hangzhou" => "华东 1",
        "cn-shanghai" => "华东 2",
        "cn-beijing" => "华北 2",
        "cn-shenzhen" => "华南 1",
        "ap-southeast-1" => "新加坡",
        "us-east-1" => "美国东部 1",
        "eu-central-1" => "德国",
        other => other,
    }
}

fn region_param(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    ctx.region
        .clone()
        .ok_or_else(|| ApiError::missing("RegionId"))
}

/// Hosts per range: third octets 0–127 (the lower half of each /16; the local cluster uses the upper half),
/// fourth octets 1–254 (never .0 or .255).
const HOSTS_PER_RANGE: u32 = 128 * 254;

/// The `n`th service address, from the benchmarking range (never routable, never connected to): 198.18.0.0/17
/// for internet instances, 198.19.0.0/17 for intranet ones, wrapping around when exhausted.
fn address(n: u32, internet: bool) -> String {
    let second = if internet { 18 } else { 19 };
    let host = n % HOSTS_PER_RANGE;
    format!("198.{second}.{}.{}", host / 254, host % 254 + 1)
}

fn allocate_address(ctx: &mut Ctx<'_>, internet: bool) -> String {
    let n = *ctx.next_address;
    *ctx.next_address = n.wrapping_add(1);
    address(n, internet)
}

/// The call's own parameters, for ClientToken comparison.
fn canonical_parameters(p: &Params) -> String {
    p.iter()
        .filter(|(k, _)| !COMMON_PARAMETERS.contains(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn create(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let region_id = region_param(ctx)?;
    let client_token = p.get("ClientToken").map(str::to_string);
    if let Some(token) = &client_token {
        if token.len() > 64 || !token.is_ascii() {
            return Err(error::INVALID_PARAMETER);
        }
        if let Some(record) = ctx.state.client_tokens.get(token) {
            return if record.parameters == canonical_parameters(p) {
                match &record.response {
                    Value::Object(body) => Ok(body.clone()),
                    _ => Err(error::INTERNAL_FAILURE),
                }
            } else {
                Err(error::IDEMPOTENT_MISMATCH)
            };
        }
    }
    let spec = p
        .choice("LoadBalancerSpec", SPECS, error::INVALID_LB_SPEC)?
        .unwrap_or_else(|| "slb.s1.small".to_string());
    let name = match p.get("LoadBalancerName") {
        Some(n) if is_valid_name(n) => n.to_string(),
        Some(_) => return Err(error::INVALID_LB_NAME),
        None => String::new(),
    };
    let address_type = p
        .choice(
            "AddressType",
            &["internet", "intranet"],
            error::INVALID_PARAMETER,
        )?
        .unwrap_or_else(|| "internet".to_string());
    let charge = p
        .choice(
            "InternetChargeType",
            &["paybybandwidth", "paybytraffic"],
            error::INVALID_PARAMETER,
        )?
        .unwrap_or_else(|| "paybytraffic".to_string());
    // Intranet instances are always billed by traffic.
    let charge = if address_type == "intranet" {
        "paybytraffic".to_string()
    } else {
        charge
    };
    let bandwidth = p
        .int("Bandwidth", 1, 1000, &[], error::INVALID_BANDWIDTH)?
        .unwrap_or(1);
    let region_zones = zones(&region_id);
    let master_zone = match p.get("MasterZoneId") {
        Some(z) if region_zones.iter().any(|r| r == z) => z.to_string(),
        Some(_) => return Err(error::INVALID_PARAMETER),
        None => region_zones[0].clone(),
    };
    let slave_zone = match p.get("SlaveZoneId") {
        Some(z) if region_zones.iter().any(|r| r == z) && z != master_zone => z.to_string(),
        Some(_) => return Err(error::INVALID_PARAMETER),
        None => region_zones
            .iter()
            .find(|z| **z != master_zone)
            .cloned()
            .unwrap_or_default(),
    };
    let vswitch_id = p
        .get_any(&["VSwitchId", "VswitchId"])
        .unwrap_or_default()
        .to_string();
    let (network_type, vpc_id) = if vswitch_id.is_empty() {
        ("classic", String::new())
    } else {
        (
            "vpc",
            p.get("VpcId")
                .map_or_else(|| ctx.new_id("vpc-", 20), str::to_string),
        )
    };
    let tags = creation_tags(p)?;
    let id = ctx.new_id(&format!("lb-{}", region_infix(&region_id)), 19);
    let address = allocate_address(ctx, address_type == "internet");
    let sequence = ctx.next_sequence();
    let lb = LoadBalancer {
        id: id.clone(),
        name: if name.is_empty() {
            format!("auto_named_slb_{}", &id[id.len() - 6..])
        } else {
            name
        },
        region_id,
        status: "active".to_string(),
        address,
        address_type,
        network_type: network_type.to_string(),
        vpc_id,
        vswitch_id,
        internet_charge_type: charge,
        bandwidth,
        spec,
        pay_type: "PayOnDemand".to_string(),
        master_zone_id: master_zone,
        slave_zone_id: slave_zone,
        resource_group_id: p.get("ResourceGroupId").unwrap_or_default().to_string(),
        created_ms: ctx.now_ms,
        sequence,
        backend_servers: Vec::new(),
        listeners: BTreeMap::new(),
        vserver_groups: BTreeMap::new(),
        master_slave_groups: BTreeMap::new(),
        rules: BTreeMap::new(),
        tags,
    };
    let body = response(vec![
        ("LoadBalancerId", json!(lb.id)),
        ("Address", json!(lb.address)),
        ("NetworkType", json!(lb.network_type)),
        ("VpcId", json!(lb.vpc_id)),
        ("VSwitchId", json!(lb.vswitch_id)),
        ("MasterZoneId", json!(lb.master_zone_id)),
        ("SlaveZoneId", json!(lb.slave_zone_id)),
        ("LoadBalancerName", json!(lb.name)),
        ("LoadBalancerSpec", json!(lb.spec)),
        ("AddressIPVersion", json!("ipv4")),
        ("ResourceGroupId", json!(lb.resource_group_id)),
    ]);
    ctx.state.dirty.load_balancers.insert(lb.id.clone());
    ctx.state.load_balancers.insert(lb.id.clone(), lb);
    if let Some(token) = client_token {
        let record = ClientTokenRecord {
            parameters: canonical_parameters(p),
            response: Value::Object(body.clone()),
        };
        ctx.state.dirty.client_tokens.insert(token.clone());
        ctx.state.client_tokens.insert(token, record);
    }
    Ok(body)
}

pub fn delete(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let id = ctx.lb_param(p)?.id.clone();
    // Listeners, groups, rules and tags live inside the load balancer and go with it.
    if let Some(lb) = ctx.state.load_balancers.remove(&id) {
        ctx.state.unindex(lb.child_ids());
    }
    Ok(Response::new())
}

pub fn set_status(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let status = p.required_choice(
        "LoadBalancerStatus",
        &["active", "inactive"],
        error::INVALID_PARAMETER,
    )?;
    let lb = ctx.lb_param(p)?;
    if lb.status == "locked" {
        return Err(error::ACTION_NOT_ALLOWED);
    }
    lb.status = status;
    Ok(Response::new())
}

pub fn set_name(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let name = p.required("LoadBalancerName")?;
    if !is_valid_name(name) {
        return Err(error::INVALID_LB_NAME);
    }
    ctx.lb_param(p)?.name = name.to_string();
    Ok(Response::new())
}

fn summary(lb: &LoadBalancer) -> serde_json::Map<String, Value> {
    response(vec![
        ("LoadBalancerId", json!(lb.id)),
        ("LoadBalancerName", json!(lb.name)),
        ("LoadBalancerStatus", json!(lb.status)),
        ("Address", json!(lb.address)),
        ("AddressType", json!(lb.address_type)),
        ("AddressIPVersion", json!("ipv4")),
        ("RegionId", json!(lb.region_id)),
        ("RegionIdAlias", json!(lb.region_id)),
        ("VSwitchId", json!(lb.vswitch_id)),
        ("VpcId", json!(lb.vpc_id)),
        ("NetworkType", json!(lb.network_type)),
        ("InternetChargeType", json!(lb.internet_charge_type)),
        ("Bandwidth", json!(lb.bandwidth)),
        ("LoadBalancerSpec", json!(lb.spec)),
        ("PayType", json!(lb.pay_type)),
        ("CreateTime", json!(clock::display_time(lb.created_ms))),
        ("CreateTimeStamp", json!(lb.created_ms)),
        ("MasterZoneId", json!(lb.master_zone_id)),
        ("SlaveZoneId", json!(lb.slave_zone_id)),
        ("ResourceGroupId", json!(lb.resource_group_id)),
        ("Tags", list("Tag", tag_values(&lb.tags))),
    ])
}

fn tag_values(tags: &[Tag]) -> Vec<Value> {
    tags.iter()
        .map(|t| json!({"TagKey": t.key, "TagValue": t.value}))
        .collect()
}

/// Comma-separated filter values (at most 10).
fn filter_values(p: &Params, names: &[&str]) -> Result<Option<Vec<String>>, ApiError> {
    let Some(raw) = p.get_any(names) else {
        return Ok(None);
    };
    let values: Vec<String> = raw
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if values.len() > MAX_FILTER_VALUES {
        return Err(error::INVALID_PARAMETER);
    }
    Ok(Some(values))
}

/// The `Tags` parameter as (key, optional value) pairs.
/// A tag filter or tag to set: the key and, when given, the value.
type TagSpec = (String, Option<String>);

fn parse_tags(
    p: &Params,
    max: usize,
    key_required: bool,
) -> Result<Option<Vec<TagSpec>>, ApiError> {
    let Some(items) = p.json_list("Tags", error::INVALID_PARAMETER)? else {
        return Ok(None);
    };
    if items.len() > max {
        return Err(error::INVALID_PARAMETER);
    }
    let mut tags = Vec::with_capacity(items.len());
    for item in &items {
        let key = json_field_str(item, "TagKey");
        let value = json_field_str(item, "TagValue");
        check_tag(key.as_deref(), value.as_deref(), key_required)?;
        tags.push((key.unwrap_or_default(), value));
    }
    Ok(Some(tags))
}

/// Keys 1–64 and values ≤ 128 characters, neither starting with `aliyun`; a value needs a key.
fn check_tag(key: Option<&str>, value: Option<&str>, key_required: bool) -> Result<(), ApiError> {
    let bad_key = key.is_some_and(|k| k.chars().count() > 64 || k.starts_with("aliyun"));
    let bad_value = value.is_some_and(|v| v.chars().count() > 128 || v.starts_with("aliyun"));
    if bad_key || bad_value || (key.is_none() && (key_required || value.is_some())) {
        return Err(error::INVALID_PARAMETER);
    }
    Ok(())
}

/// The tags CreateLoadBalancer applies: the newer SDKs' `Tag.N.Key` / `Tag.N.Value` (the reference has no
/// tags at creation), checked as AddTags checks its own, at most the instance's limit.
fn creation_tags(p: &Params) -> Result<Vec<Tag>, ApiError> {
    let tags = repeated_tags(p).unwrap_or_default();
    for (key, value) in &tags {
        check_tag(Some(key), value.as_deref(), true)?;
    }
    merge_tags(Vec::new(), tags)
}

/// `tags` set on `merged`: a known key takes the new value, a new key is added; more tags than an instance
/// may have are refused.
fn merge_tags(mut merged: Vec<Tag>, tags: Vec<TagSpec>) -> Result<Vec<Tag>, ApiError> {
    for (key, value) in tags {
        let value = value.unwrap_or_default();
        match merged.iter_mut().find(|t| t.key == key) {
            Some(existing) => existing.value = value,
            None => merged.push(Tag { key, value }),
        }
    }
    if merged.len() > MAX_TAGS_PER_INSTANCE {
        return Err(error::INVALID_PARAMETER);
    }
    Ok(merged)
}

/// The newer SDKs' `Tag.N.Key` / `Tag.N.Value` form of a tag filter.
fn repeated_tags(p: &Params) -> Option<Vec<TagSpec>> {
    let tags: Vec<TagSpec> = (1..=20)
        .filter_map(|n| {
            let key = p.get(&format!("Tag.{n}.Key"))?;
            Some((
                key.to_string(),
                p.get(&format!("Tag.{n}.Value")).map(str::to_string),
            ))
        })
        .collect();
    (!tags.is_empty()).then_some(tags)
}

/// Whether `tag` is the filter's: the same key and, when the filter names one, the same value.
fn matches_tag(tag: &Tag, key: &str, value: Option<&str>) -> bool {
    tag.key == key && value.is_none_or(|v| v == tag.value)
}

fn has_tag(lb: &LoadBalancer, key: &str, value: Option<&str>) -> bool {
    lb.tags.iter().any(|t| matches_tag(t, key, value))
}

fn attached_servers(lb: &LoadBalancer) -> impl Iterator<Item = &str> {
    lb.backend_servers
        .iter()
        .map(|b| b.server_id.as_str())
        .chain(
            lb.vserver_groups
                .values()
                .flat_map(|g| g.servers.iter().map(|s| s.server_id.as_str())),
        )
        .chain(
            lb.master_slave_groups
                .values()
                .flat_map(|g| g.servers.iter().map(|s| s.server_id.as_str())),
        )
}

/// The page a listing call asks for: PageNumber (from 1) and PageSize, each when given.
struct Paging {
    number: Option<i64>,
    size: Option<i64>,
}

impl Paging {
    fn of(p: &Params) -> Result<Self, ApiError> {
        let size = p.int("PageSize", 1, 100, &[], error::INVALID_PARAMETER)?;
        let number = p.int(
            "PageNumber",
            1,
            i64::from(u32::MAX),
            &[],
            error::INVALID_PARAMETER,
        )?;
        Ok(Self { number, size })
    }

    /// (page, size), page 1 and `default_size` where the call leaves them out.
    fn or_defaults(&self, default_size: usize) -> (usize, usize) {
        let page = self.number.and_then(|n| usize::try_from(n).ok());
        let size = self.size.and_then(|n| usize::try_from(n).ok());
        (page.unwrap_or(1), size.unwrap_or(default_size))
    }
}

fn page_of<I: Iterator>(items: I, page: usize, size: usize) -> impl Iterator<Item = I::Item> {
    items.skip((page - 1).saturating_mul(size)).take(size)
}

pub fn describe_all(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let region_id = region_param(ctx)?;
    let ids = filter_values(p, &["LoadBalancerId"])?;
    let names = filter_values(p, &["LoadBalancerName"])?;
    let intranet_addresses = filter_values(p, &["ServerIntranetAddress"])?;
    let tags = match parse_tags(p, 10, true)? {
        Some(tags) => Some(tags),
        None => repeated_tags(p),
    };
    let exact = |name: &str| p.get(name).map(str::to_string);
    let address_type = exact("AddressType");
    let network_type = exact("NetworkType");
    let vpc_id = exact("VpcId");
    let vswitch_id = p.get_any(&["VSwitchId", "VswitchId"]).map(str::to_string);
    let address = exact("Address");
    let charge = exact("InternetChargeType");
    let server_id = exact("ServerId");
    let master_zone = exact("MasterZoneId");
    let slave_zone = exact("SlaveZoneId");
    let status = exact("LoadBalancerStatus");
    // Filters only the newer SDKs send (not in the reference): exact matches too.
    let pay_type = exact("PayType");
    let ip_version = exact("AddressIPVersion");
    let resource_group = exact("ResourceGroupId");
    let paging = Paging::of(p)?;

    let eq = |filter: &Option<String>, value: &str| filter.as_deref().is_none_or(|f| f == value);
    let fuzzy = |filter: &Option<Vec<String>>, value: &str| {
        filter
            .as_ref()
            .is_none_or(|fs| fs.iter().any(|f| value.contains(f.as_str())))
    };
    let mut matching: Vec<&LoadBalancer> = ctx
        .state
        .load_balancers
        .values()
        .filter(|lb| lb.region_id == region_id)
        .filter(|lb| fuzzy(&ids, &lb.id) && fuzzy(&names, &lb.name))
        .filter(|lb| eq(&address_type, &lb.address_type) && eq(&network_type, &lb.network_type))
        .filter(|lb| {
            eq(&vpc_id, &lb.vpc_id) && eq(&vswitch_id, &lb.vswitch_id) && eq(&address, &lb.address)
        })
        .filter(|lb| eq(&charge, &lb.internet_charge_type) && eq(&status, &lb.status))
        .filter(|lb| eq(&master_zone, &lb.master_zone_id) && eq(&slave_zone, &lb.slave_zone_id))
        .filter(|lb| {
            eq(&pay_type, &lb.pay_type)
                && eq(&ip_version, "ipv4")
                && eq(&resource_group, &lb.resource_group_id)
        })
        .filter(|lb| {
            server_id
                .as_deref()
                .is_none_or(|s| attached_servers(lb).any(|a| a == s))
        })
        .filter(|lb| {
            intranet_addresses.as_ref().is_none_or(|wanted| {
                attached_servers(lb)
                    .filter_map(|s| ctx.private_ip_of(s))
                    .any(|ip| wanted.iter().any(|w| ip.contains(w.as_str())))
            })
        })
        .filter(|lb| {
            tags.as_ref()
                .is_none_or(|ts| ts.iter().all(|(k, v)| has_tag(lb, k, v.as_deref())))
        })
        .collect();
    matching.sort_by_key(|lb| lb.sequence);
    let total = matching.len();
    // Without paging parameters every match is returned, as the reference describes the action.
    let (page, size) = if paging.number.is_none() && paging.size.is_none() {
        (1, total.max(1))
    } else {
        paging.or_defaults(10)
    };
    let items: Vec<Value> = page_of(matching.iter(), page, size)
        .map(|lb| Value::Object(summary(lb)))
        .collect();
    Ok(response(vec![
        ("LoadBalancers", list("LoadBalancer", items)),
        ("TotalCount", json!(total)),
        ("PageNumber", json!(page)),
        ("PageSize", json!(size)),
    ]))
}

pub fn describe(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let id = p.required("LoadBalancerId")?.to_string();
    let lb = ctx.lb(&id)?;
    lb.listeners.values_mut().for_each(|l| l.settle(now));
    let lb = ctx.lb(&id)?.clone();
    let mut body = summary(&lb);
    body.insert("VswitchId".into(), json!(lb.vswitch_id));
    let ports: Vec<Value> = lb.listeners.keys().map(|p| json!(p)).collect();
    body.insert("ListenerPorts".into(), list("ListenerPort", ports));
    let ports_and_protocols: Vec<Value> = lb
        .listeners
        .values()
        .map(|l| json!({"ListenerPort": l.port, "ListenerProtocol": l.protocol.as_str()}))
        .collect();
    body.insert(
        "ListenerPortsAndProtocol".into(),
        list("ListenerPortAndProtocol", ports_and_protocols),
    );
    let backends: Vec<Value> = lb
        .backend_servers
        .iter()
        .map(|b| json!({"ServerId": b.server_id, "Weight": b.weight, "Type": "ecs"}))
        .collect();
    body.insert("BackendServers".into(), list("BackendServer", backends));
    Ok(body)
}

pub fn modify_internet_spec(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let charge = p.choice(
        "InternetChargeType",
        &["paybybandwidth", "paybytraffic"],
        error::INVALID_PARAMETER,
    )?;
    let bandwidth = p.int("Bandwidth", 1, 1000, &[], error::INVALID_BANDWIDTH)?;
    let lb = ctx.lb_param(p)?;
    if let Some(charge) = charge {
        if lb.address_type == "intranet" && charge != lb.internet_charge_type {
            return Err(error::UNSUPPORTED_FUNCTION);
        }
        lb.internet_charge_type = charge;
    }
    if let Some(bandwidth) = bandwidth {
        lb.bandwidth = bandwidth;
    }
    Ok(Response::new())
}

pub fn modify_instance_spec(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let spec = p.choice("LoadBalancerSpec", SPECS, error::INVALID_LB_SPEC)?;
    let lb = ctx.lb_param(p)?;
    if let Some(spec) = spec {
        lb.spec = spec;
    }
    Ok(Response::new())
}

pub fn modify_pay_type(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    p.required_choice("PayType", &["PrePay"], error::INVALID_PARAMETER)?;
    let cycle = p.required("PricingCycle")?.to_ascii_lowercase();
    let max = match cycle.as_str() {
        "month" => 9,
        "year" => 3,
        _ => return Err(error::INVALID_PARAMETER),
    };
    p.int("Duration", 1, max, &[], error::INVALID_PARAMETER)?
        .ok_or_else(|| ApiError::missing("Duration"))?;
    // Any case: aliyun-python-sdk-core sends a Python bool as "True".
    if let Some(auto_pay) = p.get("AutoPay")
        && !["true", "false"]
            .iter()
            .any(|word| auto_pay.eq_ignore_ascii_case(word))
    {
        return Err(error::INVALID_PARAMETER);
    }
    ctx.lb_param(p)?.pay_type = "PrePay".to_string();
    Ok(Response::new())
}

pub fn describe_regions(ctx: &mut Ctx<'_>) -> Result<Response, ApiError> {
    let regions: Vec<Value> = ctx
        .regions
        .iter()
        .map(|r| json!({"RegionId": r, "LocalName": local_name(r), "RegionEndpoint": "slb.aliyuncs.com"}))
        .collect();
    Ok(response(vec![("Regions", list("Region", regions))]))
}

pub fn describe_zones(ctx: &mut Ctx<'_>) -> Result<Response, ApiError> {
    let region_id = region_param(ctx)?;
    let all = zones(&region_id);
    let items: Vec<Value> = all
        .iter()
        .map(|zone| {
            let slaves: Vec<Value> = all
                .iter()
                .filter(|z| *z != zone)
                .map(|z| json!({"ZoneId": z, "LocalName": z}))
                .collect();
            json!({"ZoneId": zone, "LocalName": zone, "SlaveZones": list("SlaveZone", slaves)})
        })
        .collect();
    Ok(response(vec![("Zones", list("Zone", items))]))
}

pub fn add_tags(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let tags = parse_tags(p, MAX_TAGS_PER_CALL, true)?.ok_or_else(|| ApiError::missing("Tags"))?;
    let lb = ctx.lb_param(p)?;
    lb.tags = merge_tags(lb.tags.clone(), tags)?;
    Ok(Response::new())
}

pub fn remove_tags(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let tags = parse_tags(p, MAX_TAGS_PER_CALL, false)?;
    let lb = ctx.lb_param(p)?;
    match tags {
        None => lb.tags.clear(),
        Some(tags) => lb
            .tags
            .retain(|t| !tags.iter().any(|(k, v)| matches_tag(t, k, v.as_deref()))),
    }
    Ok(Response::new())
}

pub fn describe_tags(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let region_id = region_param(ctx)?;
    let filters = parse_tags(p, MAX_TAGS_PER_CALL, false)?.unwrap_or_default();
    let paging = Paging::of(p)?;
    let lb_id = p
        .get_any(&["LoadBalancerId", "LoadBalancerID"])
        .map(str::to_string);
    if let Some(id) = &lb_id {
        ctx.lb(id)?;
    }
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for lb in ctx.state.load_balancers.values() {
        if lb.region_id != region_id || lb_id.as_deref().is_some_and(|id| id != lb.id) {
            continue;
        }
        for tag in &lb.tags {
            let wanted = filters.is_empty()
                || filters
                    .iter()
                    .any(|(k, v)| matches_tag(tag, k, v.as_deref()));
            if wanted {
                *counts
                    .entry((tag.key.clone(), tag.value.clone()))
                    .or_default() += 1;
            }
        }
    }
    let (page, size) = paging.or_defaults(50);
    let items: Vec<Value> = page_of(counts.iter(), page, size)
        .map(|((k, v), n)| json!({"TagKey": k, "TagValue": v, "InstanceCount": n}))
        .collect();
    Ok(response(vec![
        ("TagSets", list("TagSet", items)),
        ("PageSize", json!(size)),
        ("PageNumber", json!(page)),
        ("TotalCount", json!(counts.len())),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    #[test]
    fn addresses_stay_in_the_lower_half_of_the_benchmarking_range() {
        for (internet, second) in [(true, 18), (false, 19)] {
            let mut seen = HashSet::new();
            for n in 0..HOSTS_PER_RANGE * 2 + 7 {
                let ip: Ipv4Addr = address(n, internet)
                    .parse()
                    .unwrap_or(Ipv4Addr::UNSPECIFIED);
                let [a, b, c, d] = ip.octets();
                assert_eq!((a, b), (198, second), "{ip}");
                assert!(c < 128, "{ip} is in the cluster's half");
                assert!(d != 0 && d != 255, "{ip}");
                seen.insert(ip);
            }
            // Every usable host of the /17 is handed out before any repeats.
            assert_eq!(seen.len(), HOSTS_PER_RANGE as usize);
        }
        assert_eq!(address(0, true), "198.18.0.1");
        assert_eq!(address(254, false), "198.19.1.1");
        assert_eq!(address(HOSTS_PER_RANGE - 1, true), "198.18.127.254");
        assert_eq!(address(HOSTS_PER_RANGE, true), "198.18.0.1");
        assert_eq!(
            address(u32::MAX, true),
            address(u32::MAX % HOSTS_PER_RANGE, true)
        );
    }
}
