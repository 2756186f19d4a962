//! Forwarding rules (domain / URL → VServer group) of HTTP and HTTPS listeners.

use crate::action::{Validate, ValidationError, action};
use crate::check;
use crate::lenient;
use crate::model::Acknowledged;
use serde::{Deserialize, Serialize};

/// Rules in one request: at most 10.
const MAX_RULES: usize = 10;

/// A rule to create: a unique name, a domain and/or URL, and the target group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewRule {
    /// 1–80 characters of letters, digits, `-/._`; unique within the listener.
    pub rule_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// 1–80 characters of letters, digits, `-/.%?#&`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(rename = "VServerGroupId", skip_serializing_if = "Option::is_none")]
    pub v_server_group_id: Option<String>,
}

/// `CreateRules`: adds up to 10 rules to a listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRulesRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    /// A JSON list on the wire.
    pub rule_list: Vec<NewRule>,
}

impl Validate for CreateRulesRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        check::port("ListenerPort", self.listener_port)?;
        check::count("RuleList", self.rule_list.len(), MAX_RULES)?;
        for rule in &self.rule_list {
            check::name("RuleName", &rule.rule_name)?;
            if rule.domain.as_deref().unwrap_or_default().is_empty()
                && rule.url.as_deref().unwrap_or_default().is_empty()
            {
                return Err(format!("rule {:?} needs a Domain or a Url", rule.rule_name).into());
            }
            if let Some(url) = &rule.url {
                check::uri("Url", url, false)?;
            }
        }
        Ok(())
    }
}

/// A rule's ID and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RuleIdentity {
    #[serde(deserialize_with = "lenient::string")]
    pub rule_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub rule_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateRulesResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `Rules.Rule[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub rules: Vec<RuleIdentity>,
}

action!(CreateRulesRequest => CreateRulesResponse, "CreateRules", idempotent = false);

/// `DeleteRules`: deletes up to 10 rules by ID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRulesRequest {
    /// A JSON list of strings on the wire.
    pub rule_ids: Vec<String>,
}

impl Validate for DeleteRulesRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::ids("RuleIds", &self.rule_ids, MAX_RULES)
    }
}

action!(DeleteRulesRequest => DeleteRulesResponse = Acknowledged, "DeleteRules");

/// `SetRule`: changes a rule's target group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetRuleRequest {
    pub rule_id: String,
    #[serde(rename = "VServerGroupId")]
    pub v_server_group_id: Option<String>,
}

impl Validate for SetRuleRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("RuleId", &self.rule_id)
    }
}

action!(SetRuleRequest => SetRuleResponse = Acknowledged, "SetRule");

/// `DescribeRuleAttribute`: one rule (the response does not echo its ID).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRuleAttributeRequest {
    pub rule_id: String,
}

impl Validate for DescribeRuleAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("RuleId", &self.rule_id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRuleAttributeResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub rule_name: String,
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_id: String,
    /// A string in the reference's JSON example.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub listener_port: Option<u16>,
    pub domain: Option<String>,
    pub url: Option<String>,
    #[serde(rename = "VServerGroupId")]
    pub v_server_group_id: Option<String>,
}

action!(DescribeRuleAttributeRequest => DescribeRuleAttributeResponse, "DescribeRuleAttribute");

/// `DescribeRules`: the rules of a listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRulesRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
}

impl Validate for DescribeRulesRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        check::port("ListenerPort", self.listener_port)
    }
}

/// A rule of a listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Rule {
    #[serde(deserialize_with = "lenient::string")]
    pub rule_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub rule_name: String,
    pub domain: Option<String>,
    pub url: Option<String>,
    #[serde(rename = "VServerGroupId")]
    pub v_server_group_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "DescribeRulesWire")]
pub struct DescribeRulesResponse {
    pub request_id: String,
    pub rules: Vec<Rule>,
}

/// The list is `RuleList` (a bare list or `RuleList.Rule[]`) in the reference and `Rules.Rule[]` in the
/// official SDK; a service may send both.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeRulesWire {
    #[serde(deserialize_with = "lenient::string")]
    request_id: String,
    #[serde(deserialize_with = "lenient::list")]
    rule_list: Vec<Rule>,
    #[serde(deserialize_with = "lenient::list")]
    rules: Vec<Rule>,
}

impl From<DescribeRulesWire> for DescribeRulesResponse {
    fn from(wire: DescribeRulesWire) -> Self {
        let rules = if wire.rule_list.is_empty() {
            wire.rules
        } else {
            wire.rule_list
        };
        DescribeRulesResponse {
            request_id: wire.request_id,
            rules,
        }
    }
}

action!(DescribeRulesRequest => DescribeRulesResponse, "DescribeRules");
