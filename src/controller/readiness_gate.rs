//! Pod readiness gates: a pod that declares the gate `load-balancer-ready.slb.operator.dev/<service>`
//! in `spec.readinessGates` gets that condition True only once SLB reports its node's backend
//! `normal` on every listener of the Service (DescribeHealthStatus), and False while it does not.
//! The kubelet keeps such a pod not Ready until then, so a rolling update waits for SLB's health
//! checks instead of for the containers alone.
//!
//! One reconcile per Service: observe (the Service's SlbInstance and SlbListeners, its gated pods,
//! their nodes, one DescribeHealthStatus) → plan (pure, `plan.rs`) → apply (the pods' status) →
//! outcome (SLB's health cannot be watched: asked again every 3 s while a pod waits, every 15 s
//! once all are True, so a backend turning abnormal turns its gates False). Events on the pod when
//! its gate changes, best-effort.

mod backends;
mod plan;

pub use self::backends::{count_gated_as_ready, has_unready_endpoints, pod_selector};
pub use self::plan::{GATE_PREFIX, gate_condition_type};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::jiff::Timestamp;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use serde_json::json;
use slb_api::DescribeHealthStatusRequest;

use self::plan::{GateChange, GatedPod, Observed, ServiceListener};
use super::changes;
use super::events;
use super::object::ObjectKey;
use super::references::instance_region;
use super::runtime::error_policy;
use super::scope;
use super::service::SERVICE_LABEL;
use super::status::FIELD_MANAGER;
use super::vserver_group::ecs_instance_id;
use crate::context::Context;
use crate::crd::{SlbInstance, SlbListener};
use crate::error::{Error, Result};

/// How soon SLB's health is asked again while a gated pod waits.
const POLL: Duration = Duration::from_secs(3);

/// How soon it is asked again when every gate is True, so that a backend turning abnormal turns
/// its pods' gates False: one DescribeHealthStatus per gated Service in this period.
const RECHECK: Duration = Duration::from_secs(15);

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let concurrency = ctx.config.concurrency.of("PodReadinessGate");
    // A pod that appears, moves or changes brings back the Services whose gates it declares; of
    // the Service itself only its spec (the selector) matters.
    let (services, events) = scope::reflect::<Service>(&ctx, watcher::Config::default());
    let events = changes::relevant(events, changes::service_spec_fingerprint);
    Controller::for_stream(events, services)
        .watches_stream(
            scope::watch::<Pod>(&ctx, watcher::Config::default()).touched_objects(),
            |pod: Pod| {
                let namespace = pod.namespace().unwrap_or_default();
                gated_services(&pod)
                    .map(|service| ObjectRef::new(service).within(&namespace))
                    .collect::<Vec<_>>()
            },
        )
        .with_config(controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "readiness gate controller event");
            }
        })
        .await;
}

/// The names of the Services whose gates `pod` declares.
pub fn gated_services(pod: &Pod) -> impl Iterator<Item = &str> {
    pod.spec
        .iter()
        .flat_map(|spec| spec.readiness_gates.iter().flatten())
        .filter_map(|gate| gate.condition_type.strip_prefix(GATE_PREFIX))
}

/// Sets the gate of every pod of `service` that declares it.
pub async fn reconcile(service: Arc<Service>, ctx: Arc<Context>) -> Result<Action> {
    let key = ObjectKey::of(service.as_ref())?;
    let gate = gate_condition_type(&key.name);

    // observe: the Service's pods (by its selector) that declare its gate
    let Some(selector) = pod_selector(&service) else {
        return Ok(Action::await_change());
    };
    let pods = gated_pods(&ctx, &key.namespace, &selector, &gate).await?;
    if pods.is_empty() {
        return Ok(Action::await_change());
    }
    let _timer = ctx.metrics.reconcile_started("PodReadinessGate");
    let observed = observe(&ctx, &key, pods).await?;

    // plan (pure)
    let plan = plan::plan(&observed);

    // apply, with an Event on each pod whose gate changes
    for change in &plan.changes {
        set_gate(&ctx, &key.namespace, &gate, change).await?;
    }

    // outcome: SLB's health is not watchable, so it is asked again, soon while a pod waits
    if plan.waiting > 0 {
        Ok(Action::requeue(POLL))
    } else {
        Ok(Action::requeue(RECHECK.min(ctx.config.resync_period)))
    }
}

/// The pods that `selector` selects, declare `gate`, and are not terminating.
async fn gated_pods(
    ctx: &Context,
    namespace: &str,
    selector: &str,
    gate: &str,
) -> Result<Vec<(GatedPod, Pod)>> {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let mut gated = Vec::new();
    for pod in api.list(&ListParams::default().labels(selector)).await? {
        let declares = pod
            .spec
            .iter()
            .flat_map(|spec| spec.readiness_gates.iter().flatten())
            .any(|g| g.condition_type == gate);
        if !declares || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let current = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|conditions| conditions.iter().find(|c| c.type_ == gate))
            .map(|c| (c.status.clone(), c.message.clone().unwrap_or_default()));
        gated.push((
            GatedPod {
                name: pod.name_any(),
                node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                current,
            },
            pod,
        ));
    }
    Ok(gated)
}

async fn observe(ctx: &Context, key: &ObjectKey, pods: Vec<(GatedPod, Pod)>) -> Result<Observed> {
    let mut node_instances = BTreeMap::new();
    for node_name in pods.iter().filter_map(|(pod, _)| pod.node.clone()) {
        if node_instances.contains_key(&node_name) {
            continue;
        }
        let provider_id = ctx
            .node(&node_name)
            .await?
            .and_then(|n| n.spec.as_ref()?.provider_id.clone());
        if let Some(instance) = provider_id.as_deref().and_then(ecs_instance_id) {
            node_instances.insert(node_name, instance.to_owned());
        }
    }
    let mut observed = Observed {
        pods: pods.into_iter().map(|(pod, _)| pod).collect(),
        node_instances,
        ..Observed::default()
    };

    // The Service's children: its SlbInstance (named after it) and SlbListeners (labelled).
    let instances: Api<SlbInstance> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let Some(instance) = instances.get_opt(&key.name).await? else {
        return Ok(observed);
    };
    let Some(load_balancer_id) = instance
        .status
        .as_ref()
        .and_then(|s| s.load_balancer_id.clone())
    else {
        return Ok(observed);
    };
    let listeners: Api<SlbListener> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let selector = format!("{SERVICE_LABEL}={}", key.name);
    for listener in listeners
        .list(&ListParams::default().labels(&selector))
        .await?
    {
        let ports = (
            u16::try_from(listener.spec.listener_port),
            u16::try_from(listener.spec.backend_server_port),
        );
        if let (Ok(listener_port), Ok(backend_port)) = ports {
            observed.listeners.push(ServiceListener {
                listener_port,
                backend_port,
            });
        }
    }
    let region = instance_region(Some(&instance), &ctx.config.default_region);
    let slb = ctx.slb.region(&region)?;
    observed.health = slb
        .describe_health_status(&DescribeHealthStatusRequest {
            load_balancer_id: load_balancer_id.clone(),
            listener_port: None,
        })
        .await
        .map_err(Error::from)?
        .backend_servers;
    observed.load_balancer_id = Some(load_balancer_id);
    Ok(observed)
}

/// Writes the gate's condition into the pod's status (a strategic merge keyed by the condition
/// type, so the kubelet's conditions stay), then tells the pod's Events.
async fn set_gate(ctx: &Context, namespace: &str, gate: &str, change: &GateChange) -> Result<()> {
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let status = if change.ready { "True" } else { "False" };
    let mut condition = json!({
        "type": gate,
        "status": status,
        "reason": change.reason,
        "message": change.message,
    });
    if change.status_changed {
        condition["lastTransitionTime"] = json!(Timestamp::now());
    }
    let patch = json!({"status": {"conditions": [condition]}});
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    let patched = match api
        .patch_status(&change.pod, &params, &Patch::Strategic(patch))
        .await
    {
        Ok(pod) => pod,
        // The pod went meanwhile: nothing to gate.
        Err(kube::Error::Api(response)) if response.code == 404 => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    let note = format!("{gate}={status}: {}", change.message);
    events::normal(ctx, &patched, change.reason, note).await;
    Ok(())
}
