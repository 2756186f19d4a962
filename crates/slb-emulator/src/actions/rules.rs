//! Forwarding rules of HTTP and HTTPS listeners.

use serde_json::{Value, json};

use super::{Ctx, Response, list, response};
use crate::error::{self, ApiError};
use crate::params::{Params, is_valid_name, is_valid_rule_domain, is_valid_uri, json_field_str};
use crate::state::{LoadBalancer, Rule};

const MAX_RULES_PER_CALL: usize = 10;

fn rule_owner<'a>(ctx: &'a mut Ctx<'_>, rule_id: &str) -> Result<&'a mut LoadBalancer, ApiError> {
    let region = ctx.region.clone();
    ctx.state
        .owner_of(rule_id, |lb| {
            lb.rules.contains_key(rule_id) && region.as_deref().is_none_or(|r| r == lb.region_id)
        })
        .ok_or(error::RESOURCE_NOT_FOUND)
}

fn rule_json(rule: &Rule) -> Value {
    json!({
        "RuleId": rule.id,
        "RuleName": rule.name,
        "Domain": rule.domain,
        "Url": rule.url,
        "VServerGroupId": rule.vserver_group_id,
    })
}

pub fn create(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let (lb, port) = ctx.listener_param(p)?;
    let lb = lb.clone();
    if lb
        .listeners
        .get(&port)
        .is_some_and(|l| !l.protocol.is_layer7())
    {
        return Err(error::WRONG_PROTOCOL);
    }
    let items = p
        .json_list("RuleList", error::INVALID_PARAMETER)?
        .ok_or_else(|| ApiError::missing("RuleList"))?;
    if items.is_empty() || items.len() > MAX_RULES_PER_CALL {
        return Err(error::INVALID_PARAMETER);
    }
    let mut existing: Vec<Rule> = lb
        .rules
        .values()
        .filter(|r| r.listener_port == port)
        .cloned()
        .collect();
    let mut created = Vec::new();
    for item in &items {
        let name = json_field_str(item, "RuleName").ok_or_else(|| ApiError::missing("RuleName"))?;
        if !is_valid_name(&name) {
            return Err(error::INVALID_PARAMETER);
        }
        let domain = json_field_str(item, "Domain").unwrap_or_default();
        let url = json_field_str(item, "Url").unwrap_or_default();
        if domain.is_empty() && url.is_empty() {
            return Err(error::PARAMETER_COMBINATION);
        }
        if !domain.is_empty() && !is_valid_rule_domain(&domain) {
            return Err(error::INVALID_DOMAIN);
        }
        if !url.is_empty() && !is_valid_uri(&url) {
            return Err(error::INVALID_URI);
        }
        let group = json_field_str(item, "VServerGroupId").unwrap_or_default();
        if !group.is_empty() && !lb.vserver_groups.contains_key(&group) {
            return Err(error::GROUP_NOT_FOUND);
        }
        if existing
            .iter()
            .any(|r| r.name == name || (r.domain == domain && r.url == url))
        {
            return Err(error::RESOURCE_EXISTS);
        }
        let rule = Rule {
            id: ctx.new_id("rule-", 10),
            name,
            listener_port: port,
            domain,
            url,
            vserver_group_id: group,
        };
        existing.push(rule.clone());
        created.push(rule);
    }
    let summaries = created
        .iter()
        .map(|r| json!({"RuleId": r.id, "RuleName": r.name}))
        .collect();
    for rule in &created {
        ctx.state.index_child(&rule.id, &lb.id);
    }
    let target = ctx.lb(&lb.id)?;
    for rule in created {
        target.rules.insert(rule.id.clone(), rule);
    }
    Ok(response(vec![("Rules", list("Rule", summaries))]))
}

pub fn delete(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let ids = p
        .json_list("RuleIds", error::INVALID_PARAMETER)?
        .ok_or_else(|| ApiError::missing("RuleIds"))?;
    if ids.len() > MAX_RULES_PER_CALL {
        return Err(error::INVALID_PARAMETER);
    }
    let ids: Vec<String> = ids
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or(error::INVALID_PARAMETER)
        })
        .collect::<Result<_, _>>()?;
    // All or nothing: an unknown ID fails the call before anything is deleted.
    for id in &ids {
        rule_owner(ctx, id)?;
    }
    for id in &ids {
        rule_owner(ctx, id)?.rules.remove(id);
    }
    ctx.state.unindex(&ids);
    Ok(Response::new())
}

pub fn set(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let rule_id = p.required("RuleId")?.to_string();
    let group = p.get("VServerGroupId").map(str::to_string);
    let lb = rule_owner(ctx, &rule_id)?;
    if let Some(group) = group {
        if !lb.vserver_groups.contains_key(&group) {
            return Err(error::GROUP_NOT_FOUND);
        }
        if let Some(rule) = lb.rules.get_mut(&rule_id) {
            rule.vserver_group_id = group;
        }
    }
    Ok(Response::new())
}

pub fn describe(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let rule_id = p.required("RuleId")?.to_string();
    let lb = rule_owner(ctx, &rule_id)?;
    let rule = lb.rules.get(&rule_id).ok_or(error::RESOURCE_NOT_FOUND)?;
    let Value::Object(mut body) = rule_json(rule) else {
        return Err(error::INTERNAL_FAILURE);
    };
    body.insert("LoadBalancerId".into(), json!(lb.id));
    body.insert("ListenerPort".into(), json!(rule.listener_port));
    Ok(body)
}

pub fn describe_all(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let (lb, port) = ctx.listener_param(p)?;
    let rules: Vec<Value> = lb
        .rules
        .values()
        .filter(|r| r.listener_port == port)
        .map(rule_json)
        .collect();
    // `Rules` is the SDKs' name, `RuleList` the reference's; both carry the same list.
    Ok(response(vec![
        ("Rules", list("Rule", rules.clone())),
        ("RuleList", list("Rule", rules)),
    ]))
}
