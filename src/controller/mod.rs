//! The controllers. Each kind follows the same pipeline, with the finalizer as the single top-level
//! branch: observe (I/O) → plan (pure) → apply (I/O) → status (server-side apply).

pub mod instance;
pub mod listener;
pub mod master_slave_server_group;
pub mod references;
pub mod rule;
pub mod service;
pub mod vserver_group;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::core::object::HasStatus;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::{Predicate, WatchStreamExt, predicates, reflector, watcher};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::conditions::{DesiredCondition, merge_condition};
use crate::context::Context;
use crate::crd::{
    SlbInstanceStatus, SlbMasterSlaveServerGroupStatus, SlbRuleStatus, SlbVServerGroupStatus,
};
use crate::error::{Error, Result};

/// Runs every controller until `shutdown` completes. The operator binary and the tests start the
/// controllers through this one function, so a new controller is registered in one place.
pub async fn run_all<F>(ctx: Arc<Context>, shutdown: F)
where
    F: std::future::Future<Output = ()> + Clone + Send + Sync + 'static,
{
    tokio::join!(
        instance::run(ctx.clone(), shutdown.clone()),
        listener::run(ctx.clone(), shutdown.clone()),
        vserver_group::run(ctx.clone(), shutdown.clone()),
        master_slave_server_group::run(ctx.clone(), shutdown.clone()),
        rule::run(ctx.clone(), shutdown.clone()),
        service::run(ctx.clone(), shutdown.clone()),
    );
}

/// A controller of the custom resource `K`, woken by changes to its objects' spec and finalizers.
/// Status writes do not change the generation, so the controller's own writes trigger no reconcile
/// and an unchanged object costs one describe per resync period. Its store serves the watch mappers.
pub fn spec_controller<K>(ctx: &Context) -> Controller<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let objects = watcher(ctx.api::<K>(), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            Default::default(),
        );
    Controller::for_stream(objects, reader)
}

/// Runs `controller` with the configured concurrency until `shutdown` completes.
pub async fn drive<K, ReconcileFut>(
    controller: Controller<K>,
    reconcile: impl FnMut(Arc<K>, Arc<Context>) -> ReconcileFut,
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    ReconcileFut: Future<Output = Result<Action>> + Send + 'static,
{
    let kind = K::kind(&());
    let concurrency = ctx.config.concurrency;
    controller
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| {
            if let Err(error) = result {
                tracing::debug!(%error, "{kind} controller event");
            }
            std::future::ready(())
        })
        .await;
}

/// One reconcile of `object`, read afresh and timed in the metrics, behind [`FINALIZER`]: `branch`
/// gets the finalizer's event, so that it stays each controller's single top-level branch.
pub async fn finalized<K, BranchFut>(
    object: Arc<K>,
    ctx: &Context,
    branch: impl FnOnce(Finalizer<K>) -> BranchFut,
) -> Result<Action>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    BranchFut: Future<Output = Result<Action>>,
{
    let _timer = ctx.metrics.reconcile_started(&K::kind(&()));
    let key = ObjectKey::of(object.as_ref())?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &key.namespace);
    // The watch cache can lag behind the status the previous reconcile wrote, and the status holds
    // the IDs of what was created: a reconcile on a stale copy would create the same thing twice.
    let Some(object) = api.get_opt(&key.name).await? else {
        return Ok(Action::await_change());
    };
    finalizer(&api, FINALIZER, Arc::new(object), branch)
        .await
        .map_err(Error::from)
}

/// The one field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "slb-operator";

/// Held while the SLB objects of a custom resource may exist.
pub const FINALIZER: &str = "slb.operator.dev/cleanup";

/// Event notes are cut here, as the Events API limits them to 1 kB.
const MAX_NOTE_BYTES: usize = 1024;

/// The resync of an unchanged object: the period, stretched by up to 10% so that objects created
/// together do not all call SLB in the same second.
pub fn resync(period: Duration) -> Action {
    let jitter = rand::random_range(0.0..0.1);
    Action::requeue(period.mul_f64(1.0 + jitter))
}

/// What to do after a failed reconcile: count it, tell the object's owner, and retry when retrying can help.
pub fn error_policy<K>(object: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action
where
    K: Resource<DynamicType = ()> + Send + Sync + 'static,
{
    ctx.metrics.reconcile_failed(&K::kind(&()), error);
    tracing::warn!(
        kind = %K::kind(&()),
        name = %object.name_any(),
        namespace = ?object.namespace(),
        category = error.category(),
        error = %error.chain(),
        "reconcile failed"
    );
    let reference = object.object_ref(&());
    let event = Event {
        type_: EventType::Warning,
        reason: error.category().to_owned(),
        note: Some(truncate(error.chain())),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    // The Event is best effort: the error is already in the log and the metrics.
    let recorder = ctx.recorder.clone();
    tokio::spawn(async move {
        if let Err(publish_error) = recorder.publish(&event, &reference).await {
            tracing::debug!(%publish_error, "could not publish a Warning event");
        }
    });
    match error.retry_after() {
        Some(delay) => Action::requeue(delay),
        None => Action::requeue(ctx.config.resync_period),
    }
}

/// Publishes a Normal event about `object`.
pub async fn publish_normal<K>(ctx: &Context, object: &K, reason: &str, note: String) -> Result<()>
where
    K: Resource<DynamicType = ()>,
{
    let event = Event {
        type_: EventType::Normal,
        reason: reason.to_owned(),
        note: Some(truncate(note)),
        action: reason.to_owned(),
        secondary: None,
    };
    ctx.recorder
        .publish(&event, &object.object_ref(&()))
        .await?;
    Ok(())
}

/// Writes `status` with server-side apply under [`FIELD_MANAGER`], unless it is what the object has.
pub async fn apply_status<K, S>(
    ctx: &Context,
    object: &K,
    current: Option<&S>,
    status: &S,
) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
    S: Serialize + PartialEq,
{
    if current == Some(status) {
        return Ok(());
    }
    let name = object
        .meta()
        .name
        .as_deref()
        .ok_or(Error::MissingObjectKey("metadata.name"))?;
    let namespace = object
        .meta()
        .namespace
        .as_deref()
        .ok_or(Error::MissingObjectKey("metadata.namespace"))?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    let body = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    Ok(())
}

/// The conditions and observed generation of a status. The listener's two conditions are written
/// by its own code, so its status is not among these.
pub trait Conditioned {
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    fn observed_generation_mut(&mut self) -> &mut Option<i64>;
}

macro_rules! conditioned {
    ($($status:ty),*) => {$(
        impl Conditioned for $status {
            fn conditions_mut(&mut self) -> &mut Vec<Condition> {
                &mut self.conditions
            }
            fn observed_generation_mut(&mut self) -> &mut Option<i64> {
                &mut self.observed_generation
            }
        }
    )*};
}

conditioned!(
    SlbInstanceStatus,
    SlbVServerGroupStatus,
    SlbMasterSlaveServerGroupStatus,
    SlbRuleStatus
);

/// Writes `status` with `ready` merged in, as a step along the way: the observed generation stays,
/// so the next reconcile still treats the spec as new.
pub async fn write_ready<K>(
    ctx: &Context,
    object: &K,
    mut status: K::Status,
    ready: DesiredCondition,
) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Debug,
    K::Status: Conditioned + Serialize + PartialEq,
{
    let generation = object.meta().generation;
    let conditions = status.conditions_mut();
    *conditions = merge_condition(conditions, ready, generation, now());
    apply_status(ctx, object, object.status(), &status).await
}

/// Writes `status` with `ready` merged in, as the outcome of reconciling the object's generation.
pub async fn write_outcome<K>(
    ctx: &Context,
    object: &K,
    mut status: K::Status,
    ready: DesiredCondition,
) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Debug,
    K::Status: Conditioned + Serialize + PartialEq,
{
    *status.observed_generation_mut() = object.meta().generation;
    write_ready(ctx, object, status, ready).await
}

/// Identity of an object that the apiserver always sets.
pub struct ObjectKey {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub generation: Option<i64>,
}

impl ObjectKey {
    pub fn of<K: Resource>(object: &K) -> Result<Self> {
        let meta = object.meta();
        Ok(Self {
            name: meta
                .name
                .clone()
                .ok_or(Error::MissingObjectKey("metadata.name"))?,
            namespace: meta
                .namespace
                .clone()
                .ok_or(Error::MissingObjectKey("metadata.namespace"))?,
            uid: meta
                .uid
                .clone()
                .ok_or(Error::MissingObjectKey("metadata.uid"))?,
            generation: meta.generation,
        })
    }

    /// The default SLB display name: `<namespace>/<name>`, cut to the API's 80 characters.
    pub fn default_slb_name(&self) -> String {
        let mut name = format!("{}/{}", self.namespace, self.name);
        name.truncate(80);
        name
    }

    /// The SLB display name: the one the spec gives, else the default.
    pub fn slb_name(&self, spec_name: Option<&String>) -> String {
        spec_name
            .cloned()
            .unwrap_or_else(|| self.default_slb_name())
    }
}

/// The current time, for condition transitions.
pub fn now() -> Timestamp {
    Timestamp::now()
}

fn truncate(mut note: String) -> String {
    if note.len() > MAX_NOTE_BYTES {
        let mut end = MAX_NOTE_BYTES - 3;
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        note.truncate(end);
        note.push_str("...");
    }
    note
}
