//! The SlbInstance outcome (pure): from the plan and what the calls did, the Ready condition, the
//! requeue and the Events.

use super::plan::{self, Change, Plan};
use crate::conditions::{DesiredCondition, Reason};
use crate::controller::runtime::{Note, Outcome, Requeue, settling};

/// What the reconcile knew before it applied the plan.
pub struct Before<'a> {
    pub region: &'a str,
    /// The spec changed since the last outcome (else a difference was made outside).
    pub spec_changed: bool,
    /// The load balancer SLB has, if any.
    pub existing_id: Option<&'a str>,
    /// The ID the status recorded, of a load balancer SLB no longer has.
    pub replaced_id: Option<&'a str>,
    /// Whether the status had recorded a load balancer ID already.
    pub recorded: bool,
    /// The spec says to delete an adopted or taken-over load balancer, which the operator may not
    /// do: it will be left in place, and the condition says so from the start.
    pub adopted_delete_refused: bool,
    /// The spec takes over the cloud controller manager's load balancer, not yet recorded.
    pub taking_over: bool,
}

/// What the calls did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The ID of the load balancer created, once the create has answered.
    pub created_id: Option<String>,
}

/// The outcome of `plan`; `failed` when a call failed after those `applied` records.
pub fn outcome(plan: &Plan, before: &Before<'_>, applied: &Applied, failed: bool) -> Outcome {
    let mut events = Vec::new();
    if let Some(id) = &applied.created_id {
        events.push(Note::new(
            "Created",
            format!("Created load balancer {id} in {}", before.region),
        ));
    }
    let (ready, requeue) = match plan {
        Plan::AdoptedMissing { load_balancer_id } => (
            DesiredCondition::ready(
                false,
                Reason::RemoteNotFound,
                format!(
                    "the adopted load balancer {load_balancer_id} does not exist in {}",
                    before.region
                ),
            ),
            Requeue::Resync,
        ),
        Plan::CcmLoadBalancerMissing { ccm_name } => (
            DesiredCondition::ready(
                false,
                Reason::RemoteNotFound,
                format!(
                    "no load balancer of the cloud controller manager is tagged {}={ccm_name} in {}; nothing was created in its place",
                    plan::CCM_NAME_TAG,
                    before.region
                ),
            ),
            Requeue::Resync,
        ),
        Plan::Adopted(changes) if !changes.is_empty() => settling(format!(
            "tagged the adopted load balancer {}; Ready once the tag, read back, is still this object's",
            before.existing_id.unwrap_or_default()
        )),
        Plan::Adopted(_) => {
            if let (Some(id), false) = (before.existing_id, before.recorded) {
                events.push(Note::new("Adopted", format!("Adopted load balancer {id}")));
            }
            (
                DesiredCondition::ready(
                    true,
                    Reason::Available,
                    "the adopted load balancer exists",
                ),
                Requeue::Resync,
            )
        }
        Plan::NotOwned(what) => (
            DesiredCondition::ready(
                false,
                Reason::NotOwned,
                format!("refusing to change {what}, which this object does not own"),
            ),
            Requeue::Resync,
        ),
        Plan::Conflict(message) => (
            DesiredCondition::ready(false, Reason::Conflict, message.clone()),
            Requeue::Resync,
        ),
        Plan::Changes(changes) if changes.is_empty() => (
            DesiredCondition::ready(
                true,
                Reason::Available,
                "the load balancer matches the spec",
            ),
            Requeue::Resync,
        ),
        Plan::Changes(changes) => {
            let summary = describe_changes(changes);
            let id = applied
                .created_id
                .as_deref()
                .or(before.existing_id)
                .unwrap_or_default();
            let note = match (before.existing_id, before.replaced_id) {
                (Some(_), _) if before.taking_over => Some(Note::new(
                    "TookOver",
                    format!(
                        "Took over load balancer {id} from the cloud controller manager, keeping its address: {summary}"
                    ),
                )),
                (Some(_), _) => Some(Note::changed(id, &summary, !before.spec_changed)),
                (None, Some(replaced)) => Some(Note::recreated("Load balancer", replaced, id)),
                (None, None) => None,
            };
            events.extend(note.filter(|_| !failed));
            settling(format!("applied: {summary}"))
        }
    };
    let ready = match plan {
        Plan::Adopted(_) | Plan::Changes(_) if before.adopted_delete_refused => DesiredCondition {
            message: format!("{}; {LEFT_IN_PLACE}", ready.message),
            ..ready
        },
        _ => ready,
    };
    Outcome::new(vec![ready], requeue, events, failed)
}

/// What the Ready condition of a load balancer that deleting the object will not delete adds.
const LEFT_IN_PLACE: &str = "deleting this object will leave it in place, as deleting adopted load balancers is not allowed (--allow-deleting-adopted)";

/// A short, human-readable list of the planned calls, for Events and conditions.
fn describe_changes(changes: &[Change]) -> String {
    let mut names: Vec<&str> = changes
        .iter()
        .map(|change| match change {
            Change::Create(_) => "create",
            Change::SetName(_) => "name",
            Change::SetStatus(_) => "status",
            Change::ModifyInternetSpec { .. } => "billing and bandwidth",
            Change::ModifyInstanceSpec(_) => "instance spec",
            Change::AddTags(_) | Change::RemoveTags(_) => "tags",
        })
        .collect();
    names.dedup();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::runtime::SETTLE_DELAY;

    fn before<'a>(existing: Option<&'a str>, replaced: Option<&'a str>) -> Before<'a> {
        Before {
            region: "cn-hangzhou",
            spec_changed: true,
            existing_id: existing,
            replaced_id: replaced,
            recorded: existing.is_some() || replaced.is_some(),
            adopted_delete_refused: false,
            taking_over: false,
        }
    }

    fn create() -> Plan {
        Plan::Changes(vec![Change::Create(Box::default())])
    }

    fn created_new() -> Applied {
        Applied {
            created_id: Some("lb-new".into()),
        }
    }

    /// The outcome of `plan` carried out in full, with nothing created.
    fn carried_out(plan: &Plan, before: &Before<'_>) -> Outcome {
        outcome(plan, before, &Applied::default(), false)
    }

    /// The outcome of the adoption of lb-theirs from `before`, checked to be Ready.
    fn ready_adoption(before: Before<'_>) -> Outcome {
        let outcome = carried_out(&Plan::Adopted(Vec::new()), &before);
        assert!(outcome.conditions[0].status);
        outcome
    }

    /// `plan` carried out from `unusual` is announced as `reason` in an Event that mentions
    /// `mention`; from the same load balancer as it usually is, with a changed spec, as an update.
    fn assert_announced_else_updated(
        plan: &Plan,
        unusual: &Before<'_>,
        reason: &str,
        mention: &str,
    ) {
        let announced = carried_out(plan, unusual);
        assert_eq!(announced.reasons(), [reason]);
        assert!(announced.events[0].message.contains(mention));
        let updated = carried_out(plan, &before(unusual.existing_id, None));
        assert_eq!(updated.reasons(), ["Updated"]);
    }

    #[test]
    fn a_matching_load_balancer_is_ready_and_waits_for_the_resync() {
        let outcome = carried_out(&Plan::Changes(Vec::new()), &before(Some("lb-1"), None));
        outcome.assert_in_sync("the load balancer matches the spec");
    }

    #[test]
    fn a_create_is_announced_and_checked_soon() {
        let outcome = outcome(&create(), &before(None, None), &created_new(), false);
        assert_eq!(outcome.reasons(), ["Created"]);
        assert!(outcome.events[0].message.contains("lb-new in cn-hangzhou"));
        assert_eq!(outcome.requeue, Requeue::After(SETTLE_DELAY));
        assert_eq!(outcome.conditions[0].reason, Reason::Progressing);
        assert!(!outcome.conditions[0].status);
    }

    #[test]
    fn a_load_balancer_deleted_outside_is_replaced_and_said_so() {
        let outcome = outcome(
            &create(),
            &before(None, Some("lb-old")),
            &created_new(),
            false,
        );
        assert_eq!(outcome.reasons(), ["Created", "DriftRestored"]);
        assert!(outcome.events[1].message.contains("lb-old"));
        assert!(outcome.events[1].message.contains("lb-new"));
    }

    #[test]
    fn a_change_made_outside_is_drift_and_a_spec_change_an_update() {
        let plan = Plan::Changes(vec![Change::SetName("web".into())]);
        let mut drifted = before(Some("lb-1"), None);
        drifted.spec_changed = false;
        assert_announced_else_updated(&plan, &drifted, "DriftRestored", "name");
    }

    #[test]
    fn a_failure_after_the_create_still_announces_the_create_and_nothing_else() {
        let plan = Plan::Changes(vec![
            Change::Create(Box::default()),
            Change::SetStatus(slb_api::LoadBalancerStatus::Inactive),
        ]);
        let outcome = outcome(&plan, &before(None, Some("lb-old")), &created_new(), true);
        outcome.assert_failed_after(&["Created"]);
    }

    #[test]
    fn the_pass_that_tags_an_adoption_is_not_ready_and_reads_the_tag_back_soon() {
        let tagging = Plan::Adopted(vec![Change::AddTags(Vec::new())]);
        let outcome = carried_out(
            &tagging,
            &Before {
                recorded: false,
                ..before(Some("lb-theirs"), None)
            },
        );
        outcome.assert_settling(
            "tagged the adopted load balancer lb-theirs; Ready once the tag, read back, is still this object's",
        );
        assert!(outcome.events.is_empty(), "announced once confirmed");
    }

    #[test]
    fn an_adoption_is_announced_once() {
        let adopted = ready_adoption(Before {
            recorded: false,
            ..before(Some("lb-theirs"), None)
        });
        assert_eq!(adopted.reasons(), ["Adopted"]);
        let again = ready_adoption(before(Some("lb-theirs"), None));
        assert!(again.events.is_empty());
    }

    #[test]
    fn a_take_over_from_the_controller_manager_is_announced() {
        let taking_over = Before {
            recorded: false,
            taking_over: true,
            ..before(Some("lb-ccm"), None)
        };
        let plan = Plan::Changes(vec![Change::AddTags(Vec::new())]);
        assert_announced_else_updated(&plan, &taking_over, "TookOver", "keeping its address");
    }

    #[test]
    fn an_adopted_load_balancer_that_may_not_be_deleted_says_so_from_the_start() {
        let outcome = ready_adoption(Before {
            adopted_delete_refused: true,
            ..before(Some("lb-theirs"), None)
        });
        assert!(
            outcome.conditions[0]
                .message
                .contains("--allow-deleting-adopted"),
            "{}",
            outcome.conditions[0].message
        );
    }

    #[test]
    fn a_take_over_that_may_not_be_deleted_says_so_from_the_start() {
        let refused = |plan: &Plan| {
            let outcome = carried_out(
                plan,
                &Before {
                    adopted_delete_refused: true,
                    taking_over: true,
                    ..before(Some("lb-ccm"), None)
                },
            );
            outcome.conditions[0].message.clone()
        };
        let taking_over = Plan::Changes(vec![Change::AddTags(Vec::new())]);
        for plan in [taking_over, Plan::Changes(Vec::new())] {
            let message = refused(&plan);
            assert!(message.ends_with(LEFT_IN_PLACE), "{message}");
        }
    }

    #[test]
    fn a_missing_adopted_load_balancer_is_not_ready() {
        let plan = Plan::AdoptedMissing {
            load_balancer_id: "lb-gone".into(),
        };
        let outcome = carried_out(&plan, &before(None, None));
        assert_eq!(
            (outcome.conditions[0].status, outcome.conditions[0].reason),
            (false, Reason::RemoteNotFound)
        );
        assert!(outcome.conditions[0].message.contains("lb-gone"));
        assert_eq!(outcome.requeue, Requeue::Resync);
    }
}
