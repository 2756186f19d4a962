//! The SlbRule outcome (pure): from the plan and what its calls did, the Ready condition, the
//! requeue and the Events.

use super::plan::Plan;
use crate::conditions::{DesiredCondition, Reason};
use crate::controller::runtime::{Note, Outcome, Requeue, settling};

/// What the reconcile knew before it applied the plan.
pub struct Before<'a> {
    pub load_balancer_id: &'a str,
    pub listener_port: u16,
    /// The spec changed since the last outcome (else a difference was made outside).
    pub spec_changed: bool,
    /// The ID the status recorded, of a rule SLB no longer has.
    pub replaced_id: Option<&'a str>,
}

/// What the calls did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The rule deleted to be replaced, once the delete has answered.
    pub deleted_id: Option<String>,
    /// The ID of the rule created, once the create has answered.
    pub created_id: Option<String>,
    /// Whether SetRule answered.
    pub group_set: bool,
}

/// The outcome of `plan`; `failed` when a call failed after those `applied` records.
pub fn outcome(plan: &Plan, before: &Before<'_>, applied: &Applied, failed: bool) -> Outcome {
    let mut events = Vec::new();
    if let Some(old_id) = &applied.deleted_id {
        events.push(Note::new(
            "Replacing",
            format!("Rule {old_id} matches another domain or url, which SLB cannot change: deleting and creating it again"),
        ));
    }
    let created_id = applied.created_id.as_deref().unwrap_or_default();
    if applied.created_id.is_some() {
        events.push(Note::new(
            "Created",
            format!(
                "Created rule {created_id} on port {} of {}",
                before.listener_port, before.load_balancer_id
            ),
        ));
    }
    let (ready, requeue) = match plan {
        Plan::InSync => (
            DesiredCondition::ready(true, Reason::Available, "the rule matches the spec"),
            Requeue::Resync,
        ),
        Plan::Create(_) => {
            if let Some(deleted) = before.replaced_id.filter(|_| !failed) {
                events.push(Note::recreated("Rule", deleted, created_id));
            }
            settling("created")
        }
        Plan::SetGroup { rule_id, group_id } => {
            if applied.group_set {
                events.push(if before.spec_changed {
                    Note::new(
                        "Updated",
                        format!("Rule {rule_id} now forwards to {group_id}"),
                    )
                } else {
                    Note::new(
                        "DriftRestored",
                        format!("Restored rule {rule_id} to forward to {group_id} after a change made outside"),
                    )
                });
            }
            settling("target group set")
        }
        Plan::Replace { old_id, .. } => settling(format!("replaced {old_id}")),
    };
    Outcome::new(vec![ready], requeue, events, failed)
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
