//! Shared by the operator's cluster tests: a client of the local control plane (KUBECONFIG, from
//! `hack/cluster.sh env`), the CRDs installed, a namespace per test, an in-process slb-emulator and an
//! in-process operator watching only that namespace. By room: `cluster` (client, CRDs, namespaces),
//! `scene` (emulator, operator, [`Scene`]), `resources` (our custom resources: create, wait, patch,
//! delete), `builtin` (Events, Deployments, Services, Secrets, Leases) and `slb` (what SLB holds).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, dead_code)]

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::events::Reporter;
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client};
use prometheus_client::registry::Registry;
use serde_json::json;
use slb_api::{ClientConfig, Credentials, SlbApi};
use slb_emulator::{
    Config as EmulatorConfig, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EcsInstance, Emulator,
    Faults, RunningEmulator,
};
use slb_operator::context::{Config, Context, SlbClients};
use slb_operator::controller;
use slb_operator::controller::events::Recorder;
use slb_operator::crd::{
    SlbInstance, SlbListener, SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup, crds,
};
use slb_operator::metrics::Metrics;
use tokio::sync::watch;

pub const REGION: &str = "cn-hangzhou";

mod builtin;
mod cluster;
mod resources;
mod scene;
mod slb;

// Each test binary uses some of the rooms; a re-export one of them leaves unused is no mistake.
#[allow(unused_imports)]
pub use {builtin::*, cluster::*, resources::*, scene::*, slb::*};
