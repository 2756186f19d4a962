//! The Service controller: a Service of `type: LoadBalancer` gets an SLB, configured by the cloud
//! controller manager's annotations, by composition: it server-side applies child custom resources
//! owned by the Service (an SlbInstance named after it, and per port an SlbVServerGroup that follows
//! the Service's EndpointSlices and an SlbListener), then writes the instance's address into
//! `status.loadBalancer.ingress`. The SLB calls all happen in the children's controllers.
//!
//! Annotations: the cloud controller manager's (prefix
//! `service.beta.kubernetes.io/alibaba-cloud-loadbalancer-`, the legacy `alicloud-loadbalancer-` read
//! too), each implemented, refused because API 2014-05-15 cannot express it, or not yet, as the table
//! in `service/annotations.rs` (and the README) says. `spec.loadBalancerSourceRanges` becomes every
//! listener's white list. An invalid annotation gets a Warning Event and changes nothing; one that is
//! not applied (refused, unknown, or a listener annotation none of the Service's listeners takes) is
//! named in the condition and in one Warning Event (UnsupportedAnnotation) per change of that list.
//!
//! Annotations of our own (`operator_annotations.rs`): `slb.operator.dev/tls-secret` (the HTTPS
//! certificate from a TLS Secret) and `slb.operator.dev/migrate-from-ccm` (take over the load
//! balancer the cloud controller manager made for the Service; see docs/migrating-from-ccm.md).
//!
//! The finalizer `slb.operator.dev/service` is the single top-level branch: a served Service is
//! synced; a Service that is deleted or no longer of type LoadBalancer has its children deleted in
//! order (listeners, groups, instance: their own finalizers delete the SLB objects), and is released
//! once the instance is gone.
//!
//! Events on the Service: EnsuringLoadBalancer, EnsuredLoadBalancer (the address),
//! DeletedLoadBalancer, and the Warnings InvalidAnnotation, UnsupportedAnnotation, NameTaken and
//! LoadBalancerNotReady (a child failed). The condition `slb.operator.dev/LoadBalancerReady` in the Service's status sums
//! it up: True with the address, or False with the reason and what it waits for.

mod annotations;
mod listener_settings;
mod operator_annotations;
mod outcome;
mod plan;

// Public for the end-to-end test that holds its table to them.
pub use self::annotations::{CCM_ANNOTATIONS, Support};
pub use self::operator_annotations::{
    MIGRATE_FROM_CCM_ANNOTATION, TLS_SECRET_ANNOTATION, ccm_load_balancer_name,
};

use self::outcome::{
    condition_message, current_ingress, ignored_line, ignored_warning, ingress, outcome,
    with_ignored,
};
use self::plan::{Children, children, is_served};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{LoadBalancerIngress, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde_json::json;

use super::changes;
use super::events;
use super::object::{NamespacedObject, ObjectKey};
use super::runtime::{error_policy, resync};
use super::scope;
use super::status::{self, FIELD_MANAGER};
use crate::conditions::{DesiredCondition, Reason, merge_condition};
use crate::context::Context;
use crate::crd::{
    SlbInstance, SlbInstanceSpec, SlbListener, SlbListenerSpec, SlbVServerGroup,
    SlbVServerGroupSpec,
};
use crate::error::{Error, Result};

/// Held on a served Service until its SlbInstance is gone, so no SLB object outlives it.
pub const SERVICE_FINALIZER: &str = "slb.operator.dev/service";

/// The condition on the Service that sums up its load balancer and its children.
pub const LOAD_BALANCER_READY: &str = "slb.operator.dev/LoadBalancerReady";

/// On every child: the name of the Service it belongs to.
pub const SERVICE_LABEL: &str = "slb.operator.dev/service";

/// The reason of the Warning that names the annotations not applied.
const UNSUPPORTED_ANNOTATION: &str = "UnsupportedAnnotation";

/// How soon to look again while children are being deleted.
const CLEANUP_DELAY: Duration = Duration::from_secs(2);

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let concurrency = ctx.config.concurrency.of("Service");
    // The children are watched so that an address that appears, a condition that changes, or a
    // child deleted by hand brings the Service back; their other status writes do not.
    let (services, events) = scope::reflect::<Service>(&ctx, watcher::Config::default());
    let children = watcher::Config::default();
    let events = changes::relevant(events, changes::service_fingerprint);
    Controller::for_stream(events, services)
        .owns_stream(changes::relevant(
            scope::watch::<SlbInstance>(&ctx, children.clone()),
            outcome::instance_fingerprint,
        ))
        .owns_stream(changes::relevant(
            scope::watch::<SlbVServerGroup>(&ctx, children.clone()),
            outcome::group_fingerprint,
        ))
        .owns_stream(changes::relevant(
            scope::watch::<SlbListener>(&ctx, children),
            outcome::listener_fingerprint,
        ))
        .with_config(controller::Config::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "Service controller event");
            }
        })
        .await;
}

/// Reconciles one Service: served ones are synced, the others released once their children are
/// gone.
pub async fn reconcile(service: Arc<Service>, ctx: Arc<Context>) -> Result<Action> {
    let served = service.metadata.deletion_timestamp.is_none() && is_served(&service, &ctx.config);
    let held = service.finalizers().iter().any(|f| f == SERVICE_FINALIZER);
    if !served && !held {
        return Ok(Action::await_change());
    }
    let _timer = ctx.metrics.reconcile_started("Service");
    if served {
        if !held {
            set_finalizer(&ctx, &service, true).await?;
        }
        sync(&service, &ctx).await
    } else {
        cleanup(&service, &ctx).await
    }
}

/// The children of one Service that exist, by kind and name.
pub(super) struct Owned {
    pub(super) instance: Option<SlbInstance>,
    pub(super) groups: BTreeMap<String, SlbVServerGroup>,
    pub(super) listeners: BTreeMap<String, SlbListener>,
}

async fn sync(service: &Service, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(service)?;

    // plan (pure): an invalid annotation stops everything before the first write; one the
    // operator does not apply (refused, unknown, or taken by none of the listeners) is named once
    // in a Warning and always in the condition.
    let planned = children(service);
    let mut ignored = annotations::ignored(
        service
            .metadata
            .annotations
            .as_ref()
            .unwrap_or(&BTreeMap::new()),
    );
    if let Ok(desired) = &planned {
        ignored.extend(desired.not_taken.iter().cloned());
        ignored.sort_by(|a, b| a.annotation.cmp(&b.annotation));
    }
    let ignored = ignored_line(&ignored);
    match ignored_warning(ignored.as_deref(), condition_message(service)) {
        Some(warning)
            if ctx
                .announced
                .first_time(&key.uid, warning.reason, &warning.message) =>
        {
            events::warning(ctx, service, warning.reason, warning.message).await;
        }
        Some(_) => {}
        None if ignored.is_none() => ctx.announced.forget(&key.uid, UNSUPPORTED_ANNOTATION),
        None => {}
    }
    let ignored = ignored.as_deref();
    let desired = match planned {
        Ok(desired) => desired,
        Err(problems) => {
            let message = format!("Nothing was changed: {}", problems.join("; "));
            let message = with_ignored(message, ignored);
            return refuse(ctx, service, Reason::InvalidAnnotation, message).await;
        }
    };

    // observe
    let (owned, taken) = observe(ctx, &key, Some(&desired)).await?;
    let conflicts = name_conflicts(&key.name, &desired, &taken);
    if !conflicts.is_empty() {
        let message = format!(
            "Nothing was changed: {} already exist and belong to something else; rename them or the Service",
            conflicts.join(", ")
        );
        let message = with_ignored(message, ignored);
        return refuse(ctx, service, Reason::NameTaken, message).await;
    }

    // apply: a dry run of every change first, so that a value the apiserver refuses (an immutable
    // field changed, say) changes nothing.
    let owner = service
        .controller_owner_ref(&())
        .ok_or(Error::MissingObjectKey("metadata.uid"))?;
    let writes = changed_children(&desired, &owned);
    for dry_run in [true, false] {
        for write in &writes {
            let applied = match write {
                Write::Instance(spec) => {
                    apply_child::<SlbInstance, _>(ctx, &key, &key.name, &owner, spec, dry_run).await
                }
                Write::Group(name, spec) => {
                    apply_child::<SlbVServerGroup, _>(ctx, &key, name, &owner, spec, dry_run).await
                }
                Write::Listener(name, spec) => {
                    apply_child::<SlbListener, _>(ctx, &key, name, &owner, spec, dry_run).await
                }
            };
            match applied {
                Err(Error::Kube(kube::Error::Api(refused))) if refused.code == 422 => {
                    let message = format!("Nothing was changed: {}", refused.message);
                    let message = with_ignored(message, ignored);
                    return refuse(ctx, service, Reason::InvalidAnnotation, message).await;
                }
                other => other?,
            }
        }
    }
    // Children no longer declared (a port removed): listeners first, as they use the groups.
    let stale_listeners: Vec<&String> = owned
        .listeners
        .keys()
        .filter(|name| !desired.listeners.contains_key(*name))
        .collect();
    for name in &stale_listeners {
        delete_child::<SlbListener>(ctx, &key.namespace, name).await?;
    }
    if stale_listeners.is_empty() {
        for name in owned.groups.keys() {
            if !desired.groups.contains_key(name) {
                delete_child::<SlbVServerGroup>(ctx, &key.namespace, name).await?;
            }
        }
    }

    // outcome (no I/O), then status
    let address = owned
        .instance
        .as_ref()
        .and_then(|i| i.status.as_ref())
        .and_then(|s| s.address.clone());
    let had_address = !current_ingress(service).is_empty();
    let mut outcome = outcome(
        &key.name,
        desired.listeners.len(),
        &owned,
        address.as_deref(),
        had_address,
    );
    for note in &outcome.events {
        events::normal(ctx, service, note.reason, note.message.clone()).await;
    }
    if let Some(warning) = &outcome.warning {
        events::warning(ctx, service, warning.reason, warning.message.clone()).await;
    }
    outcome.condition.message = with_ignored(outcome.condition.message, ignored);
    let ingress = match address.as_deref() {
        Some(ip) => ingress(Some(ip), desired.hostname.as_deref()),
        // A take-over keeps the address the CCM wrote until the instance reports it (the same).
        None if operator_annotations::migrates_from_ccm(service) => current_ingress(service),
        None => Vec::new(),
    };
    apply_service_status(ctx, service, ingress, Some(outcome.condition)).await?;
    Ok(resync(ctx.config.resync_period))
}

/// Reports on the Service why nothing was changed: a Warning Event and the condition. The address
/// it already has stays.
async fn refuse(
    ctx: &Context,
    service: &Service,
    reason: Reason,
    message: String,
) -> Result<Action> {
    tracing::warn!(service = %service.name_any(), reason = reason.as_str(), %message, "Service not applied");
    events::warning(ctx, service, reason.as_str(), message.clone()).await;
    let refused = DesiredCondition {
        type_: LOAD_BALANCER_READY,
        status: false,
        reason,
        message,
    };
    apply_service_status(ctx, service, current_ingress(service), Some(refused)).await?;
    Ok(Action::await_change())
}

/// A child whose spec differs from what the Service asks for.
enum Write<'a> {
    Instance(&'a SlbInstanceSpec),
    Group(&'a String, &'a SlbVServerGroupSpec),
    Listener(&'a String, &'a SlbListenerSpec),
}

/// The children named in `desired` whose names objects of something else already hold.
fn name_conflicts(instance_name: &str, desired: &Children, taken: &Taken) -> Vec<String> {
    let instance = taken
        .instances
        .contains(instance_name)
        .then(|| format!("SlbInstance {instance_name}"));
    let groups = desired
        .groups
        .keys()
        .filter(|name| taken.groups.contains(*name))
        .map(|name| format!("SlbVServerGroup {name}"));
    let listeners = desired
        .listeners
        .keys()
        .filter(|name| taken.listeners.contains(*name))
        .map(|name| format!("SlbListener {name}"));
    instance
        .into_iter()
        .chain(groups)
        .chain(listeners)
        .collect()
}

/// The children whose spec differs from `desired` (or that do not exist yet), in the order they
/// are applied: the instance, the groups, then the listeners that use both.
fn changed_children<'a>(desired: &'a Children, owned: &Owned) -> Vec<Write<'a>> {
    let instance = (owned.instance.as_ref().map(|i| &i.spec) != Some(&desired.instance))
        .then_some(Write::Instance(&desired.instance));
    let groups = desired
        .groups
        .iter()
        .filter(|(name, spec)| owned.groups.get(*name).map(|g| &g.spec) != Some(*spec))
        .map(|(name, spec)| Write::Group(name, spec));
    let listeners = desired
        .listeners
        .iter()
        .filter(|(name, spec)| owned.listeners.get(*name).map(|l| &l.spec) != Some(*spec))
        .map(|(name, spec)| Write::Listener(name, spec));
    instance
        .into_iter()
        .chain(groups)
        .chain(listeners)
        .collect()
}

/// Names of objects of each child kind that belong to something else, which the Service must not
/// take over.
#[derive(Default)]
struct Taken {
    instances: BTreeSet<String>,
    groups: BTreeSet<String>,
    listeners: BTreeSet<String>,
}

/// The children this Service controls, and which of the `desired` names others hold.
async fn observe(
    ctx: &Context,
    key: &ObjectKey,
    desired: Option<&Children>,
) -> Result<(Owned, Taken)> {
    let instance_name = [key.name.clone()];
    let (instance_names, group_names, listener_names): (&[String], Vec<&String>, Vec<&String>) =
        match desired {
            Some(desired) => (
                &instance_name,
                desired.groups.keys().collect(),
                desired.listeners.keys().collect(),
            ),
            None => (&[], Vec::new(), Vec::new()),
        };
    let (instances, taken_instances) =
        list_children::<SlbInstance>(ctx, key, instance_names.iter()).await?;
    let (groups, taken_groups) =
        list_children::<SlbVServerGroup>(ctx, key, group_names.into_iter()).await?;
    let (listeners, taken_listeners) =
        list_children::<SlbListener>(ctx, key, listener_names.into_iter()).await?;
    Ok((
        Owned {
            instance: instances.into_values().find(|i| i.name_any() == key.name),
            groups,
            listeners,
        },
        Taken {
            instances: taken_instances,
            groups: taken_groups,
            listeners: taken_listeners,
        },
    ))
}

/// The objects of kind `K` the Service controls, by name (found by the label every child gets, so
/// a reconcile reads its own children, not the whole namespace: listing all of them made each
/// reconcile cost grow with the number of Services), and which of `desired` names objects that
/// belong to something else hold (one GET for each desired name not among its children; none once
/// they all exist).
async fn list_children<'a, K>(
    ctx: &Context,
    key: &ObjectKey,
    desired: impl Iterator<Item = &'a String>,
) -> Result<(BTreeMap<String, K>, BTreeSet<String>)>
where
    K: NamespacedObject,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let controlled = |object: &K| {
        object
            .owner_references()
            .iter()
            .any(|o| o.controller == Some(true) && o.uid == key.uid)
    };
    let mut owned = BTreeMap::new();
    let selector = format!("{SERVICE_LABEL}={}", key.name);
    for object in api.list(&ListParams::default().labels(&selector)).await? {
        if controlled(&object) {
            owned.insert(object.name_any(), object);
        }
    }
    let mut taken = BTreeSet::new();
    for name in desired {
        if owned.contains_key(name) {
            continue;
        }
        // A child whose label was removed by hand is still ours.
        match api.get_opt(name).await? {
            Some(object) if controlled(&object) => {
                owned.insert(name.clone(), object);
            }
            Some(_) => {
                taken.insert(name.clone());
            }
            None => {}
        }
    }
    Ok((owned, taken))
}

/// Server-side applies one child, owned by the Service (so garbage collection removes it with the
/// Service, should the finalizer ever be removed by hand).
async fn apply_child<K, S>(
    ctx: &Context,
    key: &ObjectKey,
    name: &str,
    owner: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
    spec: &S,
    dry_run: bool,
) -> Result<()>
where
    K: NamespacedObject,
    S: Serialize,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {
            "name": name,
            "namespace": key.namespace,
            "labels": {SERVICE_LABEL: key.name},
            "ownerReferences": [owner],
        },
        "spec": spec,
    });
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = dry_run;
    api.patch(name, &params, &Patch::Apply(body)).await?;
    Ok(())
}

/// Deletes a child unless it is already going; its own finalizer deletes the SLB object.
async fn delete_child<K>(ctx: &Context, namespace: &str, name: &str) -> Result<()>
where
    K: NamespacedObject,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(response)) if response.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Deletes the children in order (listeners, then groups, then the instance), then clears the
/// Service's address and releases it.
async fn cleanup(service: &Service, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(service)?;
    let (owned, _) = observe(ctx, &key, None).await?;
    if !owned.listeners.is_empty() {
        for (name, listener) in &owned.listeners {
            if listener.metadata.deletion_timestamp.is_none() {
                delete_child::<SlbListener>(ctx, &key.namespace, name).await?;
            }
        }
        return Ok(Action::requeue(CLEANUP_DELAY));
    }
    if !owned.groups.is_empty() {
        for (name, group) in &owned.groups {
            if group.metadata.deletion_timestamp.is_none() {
                delete_child::<SlbVServerGroup>(ctx, &key.namespace, name).await?;
            }
        }
        return Ok(Action::requeue(CLEANUP_DELAY));
    }
    if let Some(instance) = &owned.instance {
        if instance.metadata.deletion_timestamp.is_none() {
            delete_child::<SlbInstance>(ctx, &key.namespace, &key.name).await?;
        }
        return Ok(Action::requeue(CLEANUP_DELAY));
    }
    if service.metadata.deletion_timestamp.is_none()
        && apply_service_status(ctx, service, Vec::new(), None).await?
    {
        // The write changed the resourceVersion the finalizer patch holds to: release on the next
        // pass, which reads the Service as written (its own status writes do not wake it).
        return Ok(Action::requeue(CLEANUP_DELAY));
    }
    events::normal(
        ctx,
        service,
        "DeletedLoadBalancer",
        "The SlbInstance, its listeners and its VServer groups are gone".to_owned(),
    )
    .await;
    set_finalizer(ctx, service, false).await?;
    ctx.announced.forget(&key.uid, UNSUPPORTED_ANNOTATION);
    Ok(Action::await_change())
}

/// Writes what the operator owns in the Service's status with server-side apply: the ingress and
/// its own condition (none removes it), unless the Service already says so. Both go in one apply,
/// as a field left out of an apply is taken away from its manager. Says whether it wrote.
async fn apply_service_status(
    ctx: &Context,
    service: &Service,
    ingress: Vec<LoadBalancerIngress>,
    condition: Option<DesiredCondition>,
) -> Result<bool> {
    let key = ObjectKey::of(service)?;
    let existing: Vec<Condition> = service
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.type_ == LOAD_BALANCER_READY)
        .collect();
    let conditions = match condition {
        Some(desired) => merge_condition(&existing, desired, key.generation, Timestamp::now()),
        None => Vec::new(),
    };
    if current_ingress(service) == ingress && existing == conditions {
        return Ok(false);
    }
    let owned_status = json!({"loadBalancer": {"ingress": ingress}, "conditions": conditions});
    status::apply(ctx, service, owned_status).await?;
    Ok(true)
}

/// Adds or removes our finalizer; the resourceVersion makes the patch fail rather than overwrite
/// a finalizer list that changed meanwhile.
async fn set_finalizer(ctx: &Context, service: &Service, held: bool) -> Result<()> {
    let key = ObjectKey::of(service)?;
    let mut finalizers: Vec<String> = service
        .finalizers()
        .iter()
        .filter(|f| *f != SERVICE_FINALIZER)
        .cloned()
        .collect();
    if held {
        finalizers.push(SERVICE_FINALIZER.to_owned());
    }
    let api: Api<Service> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let patch = json!({
        "metadata": {
            "finalizers": finalizers,
            "resourceVersion": service.resource_version(),
        }
    });
    api.patch(&key.name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "service/service_tests.rs"]
mod tests;
