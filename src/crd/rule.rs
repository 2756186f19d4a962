use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DeletionPolicy, LocalObjectReference, conditions_schema};

/// A forwarding rule of an HTTP or HTTPS SlbListener: requests matching domain and/or url go to
/// an SlbVServerGroup. Only the target group can change; SLB cannot modify the rest.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "slb.operator.dev",
    version = "v1alpha1",
    kind = "SlbRule",
    namespaced,
    selectable = ".spec.listenerRef.name",
    selectable = ".spec.vServerGroupRef.name",
    doc = "A forwarding rule of an HTTP or HTTPS SlbListener.",
    status = "SlbRuleStatus",
    shortname = "slbr",
    category = "slb",
    printcolumn(name = "ID", type_ = "string", json_path = ".status.ruleId"),
    printcolumn(
        name = "Listener",
        type_ = "string",
        json_path = ".spec.listenerRef.name"
    ),
    printcolumn(name = "Domain", type_ = "string", json_path = ".spec.domain"),
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.domain) || has(self.url)").message("set domain, url or both"),
    validation = Rule::new("has(self.domain) == has(oldSelf.domain) && has(self.url) == has(oldSelf.url) && has(self.name) == has(oldSelf.name)")
        .message("domain, url and name are immutable; only vServerGroupRef can change"),
)]
pub struct SlbRuleSpec {
    /// The HTTP or HTTPS SlbListener the rule belongs to, in the same namespace. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("listenerRef is immutable"))]
    pub listener_ref: LocalObjectReference,

    /// Name of the rule, unique within the listener. Defaults to `<namespace>/<name>`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^[A-Za-z0-9\-/._]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("name is immutable"))]
    pub name: Option<String>,

    /// Host to match, for example `www.example.com` or `*.example.com`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^(\*\.)?[A-Za-z0-9\-.]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("domain is immutable"))]
    pub domain: Option<String>,

    /// Path to match: 1–80 of letters, digits and `-/.%?#&`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^[A-Za-z0-9\-/.%?#&]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("url is immutable"))]
    pub url: Option<String>,

    /// The SlbVServerGroup matching requests go to, in the same namespace.
    pub v_server_group_ref: LocalObjectReference,

    /// Delete removes the SLB rule with this object; Orphan leaves it in place. Defaults to the
    /// listener's, else its instance's deletionPolicy, so an orphaned load balancer keeps its
    /// rules; Orphan also lets go of an object whose cleanup keeps failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// The observed state of an SlbRule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlbRuleStatus {
    /// ID of the rule, recorded as soon as it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The load balancer the rule was created on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_id: Option<String>,
    /// The region of that load balancer, recorded with it so that cleanup finds it without
    /// guessing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// The listener port the rule was created on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_port: Option<i32>,
    /// The name of the rule being created on that listener, recorded before CreateRules (which
    /// takes no ClientToken) and only when no rule had the name: after a create left unanswered, the
    /// rule with this name is the one it made. Cleared once the ID is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_create_name: Option<String>,
    /// Ready (and Synced) conditions.
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The metadata.generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
