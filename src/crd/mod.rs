//! The custom resources of the `slb.operator.dev` API group, version `v1alpha1`.
//!
//! The Rust types are the single source of the CRDs: `crdgen` writes `crds/` and the chart's
//! `crds/` from them, and a test fails when the committed files drift.

// Clippy reads kube's repeated `printcolumn(type_ = ...)` arguments as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

mod instance;
mod listener;
mod master_slave_server_group;
mod rule;
mod vserver_group;

pub use instance::*;
pub use listener::*;
pub use master_slave_server_group::*;
pub use rule::*;
pub use vserver_group::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResourceExt;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// The API group of every kind in this module.
pub const GROUP: &str = "slb.operator.dev";

/// Every CRD of the API group, in a stable order (the order of the files `crdgen` writes).
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        SlbInstance::crd(),
        SlbListener::crd(),
        SlbVServerGroup::crd(),
        SlbMasterSlaveServerGroup::crd(),
        SlbRule::crd(),
    ]
}

/// Where the generated CRDs are committed, relative to the repository root.
pub const CRD_DIRS: [&str; 2] = ["crds", "charts/slb-operator/crds"];

/// The generated CRD files: a file name (the lower-case kind) and its YAML, one file per CRD.
pub fn crd_files() -> Result<Vec<(String, String)>, serde_yaml::Error> {
    crds()
        .into_iter()
        .map(|crd| {
            let file_name = format!("{}.yaml", crd.spec.names.kind.to_lowercase());
            let yaml = serde_yaml::to_string(&crd)?;
            Ok((file_name, format!("{GENERATED_HEADER}{yaml}")))
        })
        .collect()
}

const GENERATED_HEADER: &str =
    "# Generated from the Rust types by `cargo run --bin crdgen`. Do not edit.\n";

/// A reference to another object in the same namespace, by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    /// Name of the referenced object, in the same namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// What happens to the SLB object when the custom resource is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete the SLB object, then release the custom resource.
    Delete,
    /// Leave the SLB object in place and only release the custom resource.
    Orphan,
}

/// One backend server: an ECS instance and the port it serves on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendServer {
    /// ECS instance ID of the backend server.
    #[schemars(length(min = 1, max = 64))]
    pub server_id: String,
    /// Port the backend server listens on.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Scheduling weight, 0–100; 0 sends no new traffic. Defaults to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub weight: Option<i32>,
}

/// Schema of a `conditions` list: the Kubernetes `Condition`, merged by `type` under server-side apply.
fn conditions_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.subschema_for::<Vec<Condition>>();
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert(
        "x-kubernetes-list-map-keys".into(),
        serde_json::json!(["type"]),
    );
    schema
}

#[cfg(test)]
mod tests;
