//! The one way any kind records its state: conditions merged by type with `observedGeneration`,
//! written with server-side apply under the one field manager.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::core::object::HasStatus;
use serde::Serialize;

use super::object::{NamespacedObject, ObjectKey};
use crate::conditions::{DesiredCondition, merge_condition};
use crate::context::Context;
use crate::crd::{
    SlbInstanceStatus, SlbListenerStatus, SlbMasterSlaveServerGroupStatus, SlbRuleStatus,
    SlbVServerGroupStatus,
};
use crate::error::Result;

/// The one field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "slb-operator";

/// The conditions and observed generation of a status.
pub trait Conditioned {
    /// The second condition type of kinds that tell "applied to SLB" apart from "Ready".
    const SYNCED: Option<&'static str> = None;
    fn conditions(&self) -> &[Condition];
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
    fn observed_generation(&self) -> Option<i64>;
    fn observed_generation_mut(&mut self) -> &mut Option<i64>;
}

macro_rules! conditioned {
    ($($status:ty $(=> $synced:expr)?),*) => {$(
        impl Conditioned for $status {
            $(const SYNCED: Option<&'static str> = Some($synced);)?
            fn conditions(&self) -> &[Condition] {
                &self.conditions
            }
            fn conditions_mut(&mut self) -> &mut Vec<Condition> {
                &mut self.conditions
            }
            fn observed_generation(&self) -> Option<i64> {
                self.observed_generation
            }
            fn observed_generation_mut(&mut self) -> &mut Option<i64> {
                &mut self.observed_generation
            }
        }
    )*};
}

/// The listener's second condition: whether the last reconcile could apply the spec to SLB (False
/// while a reference is missing or the port is held by another listener). Its Ready is True only
/// once SLB reports the listener as declared, in its declared state.
pub const SYNCED: &str = "Synced";

conditioned!(
    SlbInstanceStatus,
    SlbListenerStatus => SYNCED,
    SlbVServerGroupStatus,
    SlbMasterSlaveServerGroupStatus,
    SlbRuleStatus
);

/// Whether a write reports the outcome of reconciling the object's generation, or a step along
/// the way (the next reconcile still treats the spec as new).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    Observed,
    Pending,
}

/// `status` with `conditions` merged in (pure).
pub fn merged<S: Conditioned>(
    mut status: S,
    conditions: impl IntoIterator<Item = DesiredCondition>,
    generation: Option<i64>,
    reported: Generation,
    now: Timestamp,
) -> S {
    for condition in conditions {
        let merged = merge_condition(status.conditions(), condition, generation, now);
        *status.conditions_mut() = merged;
    }
    if reported == Generation::Observed {
        *status.observed_generation_mut() = generation;
    }
    status
}

/// Writes `status` with `conditions` merged in.
pub async fn report_status<K>(
    ctx: &Context,
    object: &K,
    status: K::Status,
    conditions: impl IntoIterator<Item = DesiredCondition>,
    reported: Generation,
) -> Result<()>
where
    K: NamespacedObject + HasStatus,
    K::Status: Conditioned + Serialize + PartialEq,
{
    let generation = object.meta().generation;
    let status = merged(status, conditions, generation, reported, Timestamp::now());
    record_status(ctx, object, &status).await
}

/// Writes `status` as it is, unless it is what the object has: how an ID (or an intent) is
/// recorded the moment it exists, before anything else can go wrong.
pub async fn record_status<K>(ctx: &Context, object: &K, status: &K::Status) -> Result<()>
where
    K: NamespacedObject + HasStatus,
    K::Status: Serialize + PartialEq,
{
    if object.status() == Some(status) {
        return Ok(());
    }
    apply(ctx, object, serde_json::to_value(status)?).await
}

/// Writes `status` even when it is what the object had when the reconcile read it: how an intent
/// recorded earlier in the same reconcile is taken back ([`record_status`] would compare with the
/// object as read, and skip the write that the apiserver, holding the intent, needs).
pub async fn take_back<K>(ctx: &Context, object: &K, status: &K::Status) -> Result<()>
where
    K: NamespacedObject + HasStatus,
    K::Status: Serialize,
{
    apply(ctx, object, serde_json::to_value(status)?).await
}

/// Server-side applies `status` (a JSON object holding only the fields the operator owns) to
/// `object`'s status subresource.
pub async fn apply<K>(ctx: &Context, object: &K, status: serde_json::Value) -> Result<()>
where
    K: NamespacedObject,
{
    let key = ObjectKey::of(object)?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let body = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        &key.name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditions::{READY, Reason};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn an_outcome_records_the_generation_and_a_step_keeps_it() {
        let ready = DesiredCondition::ready(true, Reason::Available, "ok");
        let step = merged(
            SlbRuleStatus::default(),
            [ready.clone()],
            Some(3),
            Generation::Pending,
            at(10),
        );
        assert_eq!(step.observed_generation, None);
        assert_eq!(step.conditions[0].observed_generation, Some(3));
        let outcome = merged(step, [ready], Some(3), Generation::Observed, at(20));
        assert_eq!(outcome.observed_generation, Some(3));
        assert_eq!(outcome.conditions.len(), 1);
        assert_eq!(outcome.conditions[0].type_, READY);
    }

    #[test]
    fn every_condition_given_is_merged_by_type() {
        let synced = DesiredCondition {
            type_: "Synced",
            ..DesiredCondition::ready(false, Reason::ReconcileError, "failed")
        };
        let ready = DesiredCondition::ready(false, Reason::ReconcileError, "failed");
        let status = merged(
            SlbListenerStatus::default(),
            [synced, ready],
            Some(1),
            Generation::Observed,
            at(10),
        );
        let types: Vec<&str> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Ready", "Synced"]);
    }
}
