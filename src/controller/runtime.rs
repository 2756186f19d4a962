//! How every custom resource controller runs: the watch, the run loop, the finalizer wrapper that
//! makes apply-or-cleanup each reconcile's single top-level branch, and the error policy with its
//! per-object backoff.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::core::object::HasStatus;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Api, Resource, ResourceExt};
use parking_lot::Mutex;
use serde::Serialize;

use super::events;
use super::object::{NamespacedObject, ObjectKey};
use super::scope;
use super::status::{self, Conditioned, Generation};
use crate::conditions::{DesiredCondition, READY, Reason, is_ready};
use crate::context::Context;
use crate::error::{Error, Result};

/// Held while the SLB objects of a custom resource may exist.
pub const FINALIZER: &str = "slb.operator.dev/cleanup";

/// The longest wait between two attempts at an object that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A controller of the custom resource `K`, woken by changes to its objects' spec and finalizers.
/// Status writes do not change the generation, so the controller's own writes trigger no reconcile
/// and an unchanged object costs one describe per resync period. Its store serves the watch mappers.
pub fn spec_controller<K: NamespacedObject>(ctx: &Context) -> Controller<K> {
    let (reader, objects) = scope::reflect::<K>(ctx, watcher::Config::default());
    let objects = objects.applied_objects().predicate_filter(
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
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K: Send + Sync + 'static,
    ReconcileFut: Future<Output = Result<Action>> + Send + 'static,
{
    let kind = K::kind(&());
    let concurrency = ctx.config.concurrency.of(&kind);
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
/// gets the finalizer's event, so that it stays each controller's single top-level branch. A
/// failure of either branch is shown in the object's conditions before it goes to the error policy.
pub async fn finalized<K, BranchFut>(
    object: Arc<K>,
    ctx: &Context,
    branch: impl FnOnce(Finalizer<K>) -> BranchFut,
) -> Result<Action>
where
    K: NamespacedObject + HasStatus,
    K::Status: Conditioned + Clone + Default + Serialize + PartialEq,
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
    let object = Arc::new(object);
    // An object whose spec was applied already is only being checked (a resync, a reference that
    // changed): its SLB calls queue behind those that apply users' changes.
    let checking = object.meta().deletion_timestamp.is_none()
        && object
            .status()
            .is_some_and(|s| s.observed_generation() == object.meta().generation);
    let finalized = finalizer(&api, FINALIZER, object.clone(), branch);
    let result = if checking {
        slb_api::background(finalized).await
    } else {
        finalized.await
    }
    .map_err(Error::from);
    let result = match result {
        Ok(action) => Ok(action),
        Err(error) => report_failure(ctx, object.as_ref(), error).await,
    };
    if result.is_ok() {
        let kind = K::kind(&());
        ctx.backoff
            .succeeded(&backoff_key(&kind, &key.namespace, &key.name));
    }
    result
}

/// Shows `error` in the object's conditions (best effort: the error policy logs, counts and
/// publishes it anyway), then returns what the reconcile returns: a missing reference waits quietly
/// for its watch, anything else goes on to the error policy.
async fn report_failure<K>(ctx: &Context, object: &K, error: Error) -> Result<Action>
where
    K: NamespacedObject + HasStatus,
    K::Status: Conditioned + Clone + Default + Serialize + PartialEq,
{
    // The status as the failed reconcile left it: the IDs it recorded on the way must stay.
    let latest = match ObjectKey::of(object) {
        Ok(key) => Api::<K>::namespaced(ctx.client.clone(), &key.namespace)
            .get_opt(&key.name)
            .await
            .ok()
            .flatten(),
        Err(_) => None,
    };
    let Some(object) = latest.as_ref() else {
        return after_failure(ctx, error);
    };
    let current = object.status().cloned().unwrap_or_default();
    let conditions = failure_conditions(
        &error,
        current.conditions(),
        object.meta().generation,
        K::Status::SYNCED,
    );
    if let Err(write_error) =
        status::report_status(ctx, object, current, conditions, Generation::Observed).await
    {
        tracing::debug!(error = %write_error.chain(), "could not show the failure in the status");
    }
    after_failure(ctx, error)
}

/// What a failed reconcile returns: a missing reference waits quietly for its watch, anything else
/// goes on to the error policy.
fn after_failure(ctx: &Context, error: Error) -> Result<Action> {
    match error {
        Error::ReferenceNotFound { .. } | Error::ReferenceNotReady { .. } => {
            Ok(resync(ctx.config.resync_period))
        }
        error => Err(error),
    }
}

/// The conditions that show a failed reconcile (pure). `Synced` (where the kind has it) always goes
/// False. `Ready` goes False too, except for a transient failure of an object that is Ready for its
/// generation: a moment of SLB or Kubernetes unavailability says nothing about the object itself.
pub fn failure_conditions(
    error: &Error,
    current: &[Condition],
    generation: Option<i64>,
    synced: Option<&'static str>,
) -> Vec<DesiredCondition> {
    let reason = match error {
        Error::ReferenceNotFound { .. } => Reason::ReferenceNotFound,
        Error::ReferenceNotReady { .. } => Reason::ReferenceNotReady,
        Error::NotOwned { .. } => Reason::NotOwned,
        Error::AdoptionConflict(_) => Reason::Conflict,
        _ => Reason::ReconcileError,
    };
    let message = error.chain();
    let mut conditions: Vec<DesiredCondition> = synced
        .map(|type_| DesiredCondition {
            type_,
            ..DesiredCondition::ready(false, reason, message.clone())
        })
        .into_iter()
        .collect();
    if !(error.is_transient() && is_ready(current, generation)) {
        conditions.push(DesiredCondition {
            type_: READY,
            ..DesiredCondition::ready(false, reason, message)
        });
    }
    conditions
}

/// What a reconcile decided, from its plan and what its calls did (see each kind's `outcome`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The conditions to report; none after a failure, which the runtime reports itself.
    pub conditions: Vec<DesiredCondition>,
    pub requeue: Requeue,
    /// Normal Events: what changed, for people.
    pub events: Vec<Note>,
}

impl Outcome {
    /// Reports `conditions`, unless a call `failed`: the runtime reports a failure itself.
    pub fn new(
        conditions: Vec<DesiredCondition>,
        requeue: Requeue,
        events: Vec<Note>,
        failed: bool,
    ) -> Self {
        Self {
            conditions: if failed { Vec::new() } else { conditions },
            requeue,
            events,
        }
    }
}

#[cfg(test)]
impl Outcome {
    /// The reasons of its Events, in order.
    pub fn reasons(&self) -> Vec<&'static str> {
        self.events.iter().map(|note| note.reason).collect()
    }

    /// Ready with `message`, nothing to tell, and the next look at the resync.
    pub fn assert_in_sync(&self, message: &str) {
        assert_eq!(self.requeue, Requeue::Resync);
        assert!(self.events.is_empty(), "{:?}", self.events);
        assert_eq!(self.ready(), Some((true, Reason::Available, message)));
    }

    /// Not Ready yet with `message`, and a look again once the calls settled.
    pub fn assert_settling(&self, message: &str) {
        assert_eq!(self.requeue, Requeue::After(SETTLE_DELAY));
        assert_eq!(self.ready(), Some((false, Reason::Progressing, message)));
    }

    /// Events with `reasons`, in order, the first with a message that starts with `start`.
    pub fn assert_announced(&self, reasons: &[&str], start: &str) {
        assert_eq!(self.reasons(), reasons);
        assert!(
            self.events[0].message.starts_with(start),
            "{:?}",
            self.events
        );
    }

    /// A create, then the DriftRestored Event that tells what it stands in for: `restored`.
    pub fn assert_created_again(&self, restored: &str) {
        assert_eq!(self.reasons(), ["Created", "DriftRestored"]);
        assert_eq!(self.events[1].message, restored);
    }

    /// After a failed call: Events for what was done before it (`reasons`), and no condition, as
    /// the runtime reports the failure itself.
    pub fn assert_failed_after(&self, reasons: &[&str]) {
        assert_eq!(self.reasons(), reasons);
        assert!(self.conditions.is_empty(), "the runtime reports failures");
    }

    /// Its Events as (reason, message), in order.
    pub fn notes(&self) -> Vec<(&'static str, &str)> {
        let notes = self.events.iter();
        notes
            .map(|note| (note.reason, note.message.as_str()))
            .collect()
    }

    /// The Ready condition it reports, as (status, reason, message).
    pub fn ready(&self) -> Option<(bool, Reason, &str)> {
        self.conditions
            .iter()
            .find(|condition| condition.type_ == READY)
            .map(|condition| {
                (
                    condition.status,
                    condition.reason,
                    condition.message.as_str(),
                )
            })
    }
}

/// How soon to look again after changing SLB, to report how the calls settled.
pub const SETTLE_DELAY: Duration = Duration::from_secs(2);

/// What a reconcile that changed SLB reports: not Ready yet, and a look again once the calls settled.
pub fn settling(message: impl Into<String>) -> (DesiredCondition, Requeue) {
    (
        DesiredCondition::ready(false, Reason::Progressing, message),
        Requeue::After(SETTLE_DELAY),
    )
}

/// When to reconcile again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// After the resync period: SLB matches the spec.
    Resync,
    /// Soon, to see how the calls just made settled.
    After(Duration),
}

/// A Normal Event's reason and note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub reason: &'static str,
    pub message: String,
}

impl Note {
    pub fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }

    /// `what` (`deleted`) was deleted outside the operator, and `created` took its place.
    pub fn recreated(what: &str, deleted: &str, created: &str) -> Self {
        Self::new(
            "DriftRestored",
            format!(
                "{what} {deleted} was deleted outside the operator; created {created} in its place"
            ),
        )
    }

    /// `id` was changed by `summary`: back to the spec after a change made outside the operator
    /// (`drifted`), or to follow the spec.
    pub fn changed(id: &str, summary: &str, drifted: bool) -> Self {
        if drifted {
            Self::new(
                "DriftRestored",
                format!("Restored {id} after changes made outside: {summary}"),
            )
        } else {
            Self::new("Updated", format!("Updated {id}: {summary}"))
        }
    }
}

/// Carries out `outcome`: its Events, then `status` with its conditions as the outcome of the
/// object's generation. With `failed`, only the Events of what did happen go out, and the error
/// goes on to the runtime, which reports it.
pub async fn conclude<K>(
    ctx: &Context,
    object: &K,
    status: K::Status,
    outcome: Outcome,
    failed: Option<Error>,
) -> Result<Action>
where
    K: NamespacedObject + HasStatus,
    K::Status: Conditioned + Serialize + PartialEq,
{
    for note in &outcome.events {
        events::normal(ctx, object, note.reason, note.message.clone()).await;
    }
    if let Some(error) = failed {
        return Err(error);
    }
    status::report_status(
        ctx,
        object,
        status,
        outcome.conditions,
        Generation::Observed,
    )
    .await?;
    Ok(match outcome.requeue {
        Requeue::Resync => resync(ctx.config.resync_period),
        Requeue::After(delay) => Action::requeue(delay),
    })
}

/// The resync of an unchanged object: the period, stretched by up to 10% so that objects created
/// together do not all call SLB in the same second.
pub fn resync(period: Duration) -> Action {
    let jitter = rand::random_range(0.0..0.1);
    Action::requeue(period.mul_f64(1.0 + jitter))
}

/// What to do after a failed reconcile: count it, tell the object's owner, and retry with a
/// per-object exponential backoff when retrying can help.
pub fn error_policy<K>(object: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action
where
    K: Resource<DynamicType = ()> + Send + Sync + 'static,
{
    let kind = K::kind(&());
    ctx.metrics.reconcile_failed(&kind, error);
    tracing::warn!(
        %kind,
        name = %object.name_any(),
        namespace = ?object.namespace(),
        category = error.category(),
        error = %error.chain(),
        "reconcile failed"
    );
    let reason = error.category();
    let note = error.chain();
    let delay = error.retry_after().map(|base| {
        let namespace = object.namespace().unwrap_or_default();
        let failures = ctx
            .backoff
            .failed(backoff_key(&kind, &namespace, &object.name_any()));
        backoff(base, failures, rand::random_range(0.0..1.0))
    });
    let events_ctx = ctx.clone();
    tokio::spawn(async move {
        events::warning(&events_ctx, object.as_ref(), reason, note).await;
    });
    match delay {
        Some(delay) => Action::requeue(delay),
        None => Action::await_change(),
    }
}

/// The wait before attempt `failures + 1` (pure): `base` doubled for each failure in a row, capped
/// at [`MAX_BACKOFF`] (never below `base`), with up to 20% jitter so that objects failing together
/// spread out; `unit_jitter` is in `[0, 1)`.
pub fn backoff(base: Duration, failures: u32, unit_jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    let grown = base.saturating_mul(1 << doublings);
    let capped = grown.min(MAX_BACKOFF.max(base));
    capped.mul_f64(1.0 + 0.2 * unit_jitter.clamp(0.0, 1.0))
}

/// The backoff's key of an object: its kind, namespace and name.
fn backoff_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}

/// Failures in a row per object, for the error policy's backoff; a successful reconcile resets them.
#[derive(Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// Counts a failure of the object `key`; returns the failures in a row, this one included.
    pub fn failed(&self, key: String) -> u32 {
        let mut failures = self.failures.lock();
        let count = failures.entry(key).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }

    /// Forgets the failures of the object `key`.
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditions::merge_condition;
    use k8s_openapi::jiff::Timestamp;

    fn unreachable_slb() -> Error {
        Error::Slb(slb_api::Error::Transport {
            action: "DescribeLoadBalancers",
            message: "connection refused".into(),
            timed_out: false,
        })
    }

    /// Ready conditions for `generation`.
    fn ready_at(generation: i64) -> Vec<Condition> {
        merge_condition(
            &[],
            DesiredCondition::ready(true, Reason::Available, "ok"),
            Some(generation),
            Timestamp::UNIX_EPOCH,
        )
    }

    #[test]
    fn backoff_doubles_per_failure_up_to_the_cap() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1, 0.0), base);
        assert_eq!(backoff(base, 2, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(base, 4, 0.0), Duration::from_secs(40));
        assert_eq!(backoff(base, 30, 0.0), MAX_BACKOFF);
        assert_eq!(backoff(base, u32::MAX, 0.0), MAX_BACKOFF);
        let jittered = backoff(base, 1, 0.99);
        assert!(
            jittered > base && jittered <= base.mul_f64(1.2),
            "{jittered:?}"
        );
    }

    #[test]
    fn a_base_above_the_cap_is_kept() {
        let base = Duration::from_secs(600);
        assert_eq!(backoff(base, 3, 0.0), base);
    }

    #[test]
    fn failures_count_per_object_and_reset_on_success() {
        let backoff = Backoff::default();
        assert_eq!(backoff.failed("SlbRule/a/x".into()), 1);
        assert_eq!(backoff.failed("SlbRule/a/x".into()), 2);
        assert_eq!(backoff.failed("SlbRule/a/y".into()), 1);
        backoff.succeeded("SlbRule/a/x");
        assert_eq!(backoff.failed("SlbRule/a/x".into()), 1);
    }

    #[test]
    fn a_missing_reference_shows_in_both_conditions() {
        let error = Error::ReferenceNotFound {
            kind: "SlbInstance",
            name: "web".into(),
        };
        let conditions = failure_conditions(&error, &[], Some(1), Some("Synced"));
        let shown: Vec<_> = conditions
            .iter()
            .map(|c| (c.type_, c.status, c.reason))
            .collect();
        assert_eq!(
            shown,
            [
                ("Synced", false, Reason::ReferenceNotFound),
                (READY, false, Reason::ReferenceNotFound)
            ]
        );
    }

    #[test]
    fn a_transient_failure_leaves_a_ready_object_ready() {
        let ready = ready_at(2);
        let conditions = failure_conditions(&unreachable_slb(), &ready, Some(2), Some("Synced"));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].type_, "Synced");
        assert!(conditions[0].message.contains("connection refused"));

        // Not ready yet (or ready for an older generation): the failure explains why.
        let conditions = failure_conditions(&unreachable_slb(), &ready, Some(3), None);
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].type_, READY);
        assert_eq!(conditions[0].reason, Reason::ReconcileError);
    }

    #[test]
    fn a_lasting_failure_makes_a_ready_object_not_ready() {
        let ready = ready_at(1);
        let error = Error::InvalidSpec("no nodePort".into());
        let conditions = failure_conditions(&error, &ready, Some(1), None);
        assert_eq!(conditions.len(), 1);
        assert_eq!(
            (conditions[0].status, conditions[0].reason),
            (false, Reason::ReconcileError)
        );
        assert!(conditions[0].message.contains("no nodePort"));
    }
}
