use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BackendServer, DeletionPolicy, LocalObjectReference, conditions_schema};

/// An active/standby server group of an SlbInstance. SLB cannot modify such a group, so the
/// spec is immutable but for deletionPolicy: create a new object to change it.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "slb.operator.dev",
    version = "v1alpha1",
    kind = "SlbMasterSlaveServerGroup",
    namespaced,
    selectable = ".spec.instanceRef.name",
    doc = "An active/standby server group of an SlbInstance.",
    status = "SlbMasterSlaveServerGroupStatus",
    shortname = "slbmssg",
    category = "slb",
    printcolumn(
        name = "ID",
        type_ = "string",
        json_path = ".status.masterSlaveServerGroupId"
    ),
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
#[x_kube(
    // deletionPolicy stays changeable, so that a group whose deletion is stuck can be let go.
    validation = Rule::new("self.instanceRef == oldSelf.instanceRef && self.master == oldSelf.master && self.slave == oldSelf.slave && has(self.name) == has(oldSelf.name) && (!has(self.name) || self.name == oldSelf.name)")
        .message("an SlbMasterSlaveServerGroup cannot be changed (but for its deletionPolicy), because SLB cannot modify master-slave groups; create a new one instead"),
    validation = Rule::new("self.master.serverId != self.slave.serverId || self.master.port != self.slave.port")
        .message("master and slave must be different backends"),
)]
pub struct SlbMasterSlaveServerGroupSpec {
    /// The SlbInstance the group belongs to, in the same namespace.
    pub instance_ref: LocalObjectReference,
    /// Name of the group in SLB. Defaults to `<namespace>/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^[A-Za-z0-9\-/._]+$"))]
    pub name: Option<String>,
    /// The backend that takes the traffic while it is healthy.
    pub master: BackendServer,
    /// The backend that takes over when the master fails.
    pub slave: BackendServer,
    /// Delete removes the SLB group with this object; Orphan leaves it in place. Defaults to
    /// the instance's deletionPolicy, so an orphaned load balancer keeps its groups; Orphan
    /// also lets go of an object whose cleanup keeps failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// The observed state of an SlbMasterSlaveServerGroup.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlbMasterSlaveServerGroupStatus {
    /// ID of the group, recorded as soon as it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_slave_server_group_id: Option<String>,
    /// The load balancer the group was created on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_id: Option<String>,
    /// The region of that load balancer, recorded with it so that cleanup finds it without
    /// guessing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// The name of the group being created on that load balancer, recorded before the create
    /// (which takes no ClientToken) and only when no group had the name: after a create left
    /// unanswered, the group with this name is the one it made. Cleared once the ID is recorded.
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
