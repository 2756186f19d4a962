use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DeletionPolicy, conditions_schema};

/// A classic Server Load Balancer instance, created by the operator or adopted by ID.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "slb.operator.dev",
    version = "v1alpha1",
    kind = "SlbInstance",
    namespaced,
    doc = "A classic Server Load Balancer instance, created by the operator or adopted by ID.",
    status = "SlbInstanceStatus",
    shortname = "slbi",
    category = "slb",
    printcolumn(name = "ID", type_ = "string", json_path = ".status.loadBalancerId"),
    printcolumn(name = "Address", type_ = "string", json_path = ".status.address"),
    printcolumn(
        name = "State",
        type_ = "string",
        json_path = ".status.loadBalancerStatus"
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
    validation = Rule::new("!has(self.loadBalancerId) || !(has(self.name) || has(self.addressType) || has(self.internetChargeType) || has(self.bandwidth) || has(self.loadBalancerSpec) || has(self.vSwitchId) || has(self.masterZoneId) || has(self.slaveZoneId) || has(self.status) || has(self.tags))")
        .message("an adopted load balancer (loadBalancerId set) is never modified by the operator, so name, addressType, internetChargeType, bandwidth, loadBalancerSpec, vSwitchId, masterZoneId, slaveZoneId, status and tags must not be set"),
    validation = Rule::new("!has(self.bandwidth) || (has(self.internetChargeType) && self.internetChargeType == 'paybybandwidth')")
        .message("bandwidth is only used when internetChargeType is paybybandwidth"),
    validation = Rule::new("!has(self.internetChargeType) || !has(self.addressType) || self.addressType == 'internet'")
        .message("internetChargeType applies only to addressType internet; intranet load balancers are always billed by traffic"),
    validation = Rule::new("has(self.loadBalancerId) == has(oldSelf.loadBalancerId)")
        .message("loadBalancerId cannot be added or removed after creation; create a new SlbInstance to adopt a load balancer"),
    validation = Rule::new("!has(self.loadBalancerId) || !has(self.takeOverFromCcm)")
        .message("loadBalancerId adopts a load balancer as it is, takeOverFromCcm takes one over from the cloud controller manager: set at most one"),
    validation = Rule::new("!has(self.takeOverFromCcm) || has(oldSelf.takeOverFromCcm)")
        .message("takeOverFromCcm can only be set when the SlbInstance is created"),
    validation = Rule::new("has(self.regionId) == has(oldSelf.regionId)").message("regionId is immutable"),
    validation = Rule::new("has(self.addressType) == has(oldSelf.addressType)").message("addressType is immutable"),
    validation = Rule::new("has(self.vSwitchId) == has(oldSelf.vSwitchId)").message("vSwitchId is immutable"),
    validation = Rule::new("has(self.masterZoneId) == has(oldSelf.masterZoneId)").message("masterZoneId is immutable"),
    validation = Rule::new("has(self.slaveZoneId) == has(oldSelf.slaveZoneId)").message("slaveZoneId is immutable"),
)]
pub struct SlbInstanceSpec {
    /// Region of the load balancer. Defaults to the operator's `--region`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("regionId is immutable"))]
    pub region_id: Option<String>,

    /// Display name: 1–80 letters, digits, `-`, `/`, `.` or `_`. Defaults to `<namespace>/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^[A-Za-z0-9\-/._]+$"))]
    pub name: Option<String>,

    /// Whether the service address is public (`internet`, the default) or private (`intranet`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("addressType is immutable"))]
    pub address_type: Option<AddressType>,

    /// Billing of an internet load balancer: `paybytraffic` (the default) or `paybybandwidth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_charge_type: Option<InternetChargeType>,

    /// Peak bandwidth in Mbps (1–1000) of an internet load balancer billed by bandwidth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub bandwidth: Option<i32>,

    /// Instance specification. The smallest (`slb.s1.small`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_spec: Option<LoadBalancerSpec>,

    /// VSwitch of a VPC load balancer. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("vSwitchId is immutable"))]
    pub v_switch_id: Option<String>,

    /// Resource group the load balancer is created in. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("resourceGroupId is immutable"))]
    pub resource_group_id: Option<String>,

    /// Primary zone. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("masterZoneId is immutable"))]
    pub master_zone_id: Option<String>,

    /// Secondary zone. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("slaveZoneId is immutable"))]
    pub slave_zone_id: Option<String>,

    /// Whether the load balancer forwards traffic (`active`, the default) or not (`inactive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<InstanceState>,

    /// Tags of the load balancer. The operator adds two of its own, so at most 8 here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 8))]
    #[x_kube(
        validation = Rule::new("self.all(k, size(k) <= 64 && !k.startsWith('aliyun') && !k.startsWith('slb.operator.dev/'))")
            .message("tag keys must be at most 64 characters and must not start with 'aliyun' or 'slb.operator.dev/'"),
        validation = Rule::new("self.all(k, size(self[k]) <= 128 && !self[k].startsWith('aliyun'))")
            .message("tag values must be at most 128 characters and must not start with 'aliyun'")
    )]
    pub tags: Option<BTreeMap<String, String>>,

    /// ID of an existing load balancer to adopt instead of creating one. Adopted load balancers are
    /// never modified, and are left in place on deletion unless deletionPolicy is Delete. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("loadBalancerId is immutable"))]
    pub load_balancer_id: Option<String>,

    /// The name the Alibaba Cloud controller manager gave a load balancer it created (the value of
    /// its `kubernetes.do.not.delete` tag): that load balancer is taken over instead of creating one,
    /// keeping its address, and tagged as this object's; from then on it is managed as if the operator
    /// had created it, and, as an adopted one, deleted only with `--allow-deleting-adopted` (else left
    /// in place). Only in namespaces that may adopt (`--adoption-namespaces`).
    /// Set when the object is created; it may be removed later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("takeOverFromCcm is immutable"))]
    pub take_over_from_ccm: Option<String>,

    /// What deleting this object does to the load balancer. Defaults to Delete for a load balancer
    /// the operator created, and Orphan for an adopted one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// The address type of a load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AddressType {
    Internet,
    Intranet,
}

/// The billing method of an internet load balancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InternetChargeType {
    Paybytraffic,
    Paybybandwidth,
}

/// The instance specifications the API accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LoadBalancerSpec {
    #[serde(rename = "slb.s1.small")]
    S1Small,
    #[serde(rename = "slb.s2.small")]
    S2Small,
    #[serde(rename = "slb.s2.medium")]
    S2Medium,
    #[serde(rename = "slb.s3.small")]
    S3Small,
    #[serde(rename = "slb.s3.medium")]
    S3Medium,
    #[serde(rename = "slb.s3.large")]
    S3Large,
}

/// Whether a load balancer forwards traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InstanceState {
    Active,
    Inactive,
}

/// The observed state of an SlbInstance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlbInstanceStatus {
    /// ID of the load balancer, recorded as soon as it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_id: Option<String>,
    /// Region the load balancer lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// Service address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `classic` or `vpc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    /// VPC of a VPC load balancer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// `active`, `inactive` or `locked`, as the API reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_status: Option<String>,
    /// The CreateLoadBalancer call in flight (its parameters as JSON), recorded before it is sent:
    /// after a crash the same call, with the same ClientToken, returns the same load balancer even
    /// if the spec changed meanwhile. Cleared once the ID is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_create: Option<String>,
    /// The CCM name of the load balancer taken over from the cloud controller manager: it stays one
    /// the operator did not create (deleted only with `--allow-deleting-adopted`) even once the
    /// spec no longer says `takeOverFromCcm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_over_from_ccm: Option<String>,
    /// Ready (and Synced) conditions.
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The metadata.generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
