use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BackendServer, DeletionPolicy, LocalObjectReference, conditions_schema};

/// A virtual server group of an SlbInstance: explicit backends, or the nodes behind a Service.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "slb.operator.dev",
    version = "v1alpha1",
    kind = "SlbVServerGroup",
    namespaced,
    selectable = ".spec.instanceRef.name",
    doc = "A virtual server group of an SlbInstance.",
    status = "SlbVServerGroupStatus",
    shortname = "slbvsg",
    category = "slb",
    printcolumn(name = "ID", type_ = "string", json_path = ".status.vServerGroupId"),
    printcolumn(
        name = "Instance",
        type_ = "string",
        json_path = ".spec.instanceRef.name"
    ),
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
#[x_kube(validation = Rule::new("has(self.backends) != has(self.serviceRef)")
    .message("set exactly one of backends and serviceRef"))]
pub struct SlbVServerGroupSpec {
    /// The SlbInstance the group belongs to, in the same namespace. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("instanceRef is immutable"))]
    pub instance_ref: LocalObjectReference,

    /// Name of the group in SLB. Defaults to `<namespace>/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^[A-Za-z0-9\-/._]+$"))]
    pub name: Option<String>,

    /// An existing group of the load balancer to use instead of creating one; only on an
    /// SlbInstance that adopts its load balancer (`loadBalancerId`). The group is not ours: its name
    /// and the backends the spec does not declare are left as they are, and on deletion only the
    /// backends this object added are removed from it. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("vServerGroupId is immutable"))]
    pub v_server_group_id: Option<String>,

    /// Explicit backend servers; each serverId and port pair may appear only once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["serverId".into(), "port".into()]))]
    pub backends: Option<Vec<BackendServer>>,

    /// Backends that follow a Service: the nodes with ready endpoints, on the Service's NodePort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_ref: Option<ServiceBackendReference>,

    /// Delete removes the SLB group with this object; Orphan leaves it in place. Defaults to
    /// the instance's deletionPolicy, so an orphaned load balancer keeps its groups; Orphan
    /// also lets go of an object whose cleanup keeps failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// Backends taken from a Service of type NodePort or LoadBalancer in the same namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceBackendReference {
    /// Name of the Service.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// The Service port whose NodePort the backends use.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// How nodes are weighted: by the number of ready pods on them (the default) or equally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighting: Option<Weighting>,
    /// Seconds a node whose endpoints are terminating keeps weight 0 before it is removed (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub drain_seconds: Option<i32>,
    /// Only the nodes with all these labels become backends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Leave out nodes marked unschedulable (cordoned), as well as those not Ready, excluded by
    /// label, or being removed by the cluster autoscaler, which are always left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_unschedulable: Option<bool>,
    /// The sum of the backends' weights, 1–100, shared by the nodes in proportion to their ready
    /// pods (each at least 1), so that several Services' groups can be weighed against each other
    /// (the cloud controller manager's `weight`). Unset: the weighting alone decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub total_weight: Option<i32>,
    /// The weight of the nodes with the most ready pods (of every node with weighting Equal), the
    /// others in proportion; 100 when unset (the cloud controller manager's `default-weight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub default_weight: Option<i32>,
    /// Backends already in the group keep the weight they have there; only new ones (and those
    /// coming back from a drain) get theirs (the cloud controller manager's `ignore-weight-update`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_weights: Option<bool>,
}

/// How the backends of a Service are weighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Weighting {
    /// Weight proportional to the ready pods on the node.
    PodsPerNode,
    /// Every node the same weight.
    Equal,
}

/// The observed state of an SlbVServerGroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlbVServerGroupStatus {
    /// ID of the group, recorded as soon as it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_server_group_id: Option<String>,
    /// The load balancer the group was created on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_id: Option<String>,
    /// The region of that load balancer, recorded with it so that cleanup finds it without
    /// guessing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// The backend servers as last observed in SLB.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<BackendServer>,
    /// Backends that left the Service, held at weight 0 until their drain period ends. Kept here
    /// so that a restart or a new leader ends each drain on time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draining: Vec<DrainingBackend>,
    /// Health of the backends, from DescribeHealthStatus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthSummary>,
    /// Ready (and Synced) conditions.
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The metadata.generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A backend at weight 0 while its open connections finish.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DrainingBackend {
    /// ECS instance ID.
    pub server_id: String,
    /// Backend port.
    pub port: i32,
    /// When the drain started.
    pub since: Time,
}

/// Counts of backend servers by health.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthSummary {
    /// Backends passing their health check.
    pub normal: i32,
    /// Backends failing their health check.
    pub abnormal: i32,
    /// Backends not checked (no running listener, or health checks off).
    pub unavailable: i32,
}
