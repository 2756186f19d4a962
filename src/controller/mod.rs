//! The controllers, one module per kind, and the rooms they share: `runtime` (watch, run loop,
//! finalizer, error policy), `status` (conditions and status writes), `events` (best-effort
//! Events), `object` (identities), `references` (lookups between objects) and `scope` (the watched
//! namespaces).
//!
//! Each kind follows the same pipeline, with the finalizer as the single top-level branch:
//! observe (I/O) → plan (pure) → apply (I/O) → outcome (pure) → status.

pub mod changes;
pub mod events;
pub mod instance;
pub mod listener;
pub mod master_slave_server_group;
pub mod object;
pub mod readiness_gate;
pub mod references;
pub mod rule;
pub mod runtime;
pub mod scope;
pub mod service;
pub mod status;
pub mod vserver_group;

use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;
use kube::runtime::reflector::store::Writer;

use crate::context::Context;

/// Runs every controller until `shutdown` completes. The operator binary and the tests start the
/// controllers through this one function, so a new controller is registered in one place. `nodes`
/// fills the context's Node store: the group controller's Node watch does it.
pub async fn run_all<F>(ctx: Arc<Context>, nodes: Writer<Node>, shutdown: F)
where
    F: std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
{
    tokio::join!(
        instance::run(ctx.clone(), shutdown.clone()),
        listener::run(ctx.clone(), shutdown.clone()),
        vserver_group::run(ctx.clone(), nodes, shutdown.clone()),
        master_slave_server_group::run(ctx.clone(), shutdown.clone()),
        rule::run(ctx.clone(), shutdown.clone()),
        service::run(ctx.clone(), shutdown.clone()),
        readiness_gate::run(ctx.clone(), shutdown.clone()),
    );
}
