//! The SlbVServerGroup outcome (pure): from the planned calls and what they did, the Ready
//! condition, the requeue and the Events.

use std::collections::BTreeMap;
use std::time::Duration;

use super::plan::{Backends, Change, RemoteGroup};
use crate::conditions::{DesiredCondition, Reason};
use crate::controller::runtime::{Note, Outcome, Requeue, settling};

/// What the reconcile knew before it applied the plan.
pub struct Before<'a> {
    pub load_balancer_id: &'a str,
    /// The spec changed since the last outcome (else a difference was made outside).
    pub spec_changed: bool,
    /// The group SLB has, if any (found by the recorded ID or by the creation name).
    pub remote: Option<&'a RemoteGroup>,
    /// The name the group should have in SLB.
    pub desired_name: &'a str,
    /// The backends the status recorded last time.
    pub recorded_backends: &'a Backends,
    /// The ID the status recorded, of a group SLB no longer has.
    pub replaced_id: Option<&'a str>,
    /// When to look again to end the next drain, if a backend is draining.
    pub next_drain_check: Option<Duration>,
    /// The backends the plan set out to reach.
    pub desired_backends: &'a Backends,
    pub resync_period: Duration,
}

/// What the calls did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The ID of the group created, once the create has answered.
    pub created_id: Option<String>,
    /// The group's backends as SLB answered the last call that changed them: every change to a
    /// VServer group's backends answers with all of them.
    pub answered: Option<Backends>,
}

/// After a change SLB's answer showed complete, how soon to look at the group again (its
/// health, and a describe), unless the resync comes sooner: later than
/// [`SETTLE_DELAY`](crate::controller::runtime::SETTLE_DELAY), so that while a Deployment rolls
/// these checks do not hold up the group's next change.
pub const CHECK_AFTER_ANSWER: Duration = Duration::from_secs(30);

/// The outcome of `changes`; `failed` when a call failed after those `applied` records.
pub fn outcome(
    changes: &[Change],
    before: &Before<'_>,
    applied: &Applied,
    failed: bool,
) -> Outcome {
    let mut events = Vec::new();
    if let Some(id) = &applied.created_id {
        events.push(Note::new(
            "Created",
            format!("Created VServer group {id} on {}", before.load_balancer_id),
        ));
    }
    if changes.is_empty() {
        let (message, requeue) = match before.next_drain_check {
            Some(check) => (
                "the group matches the spec; nodes that left the Service are draining",
                Requeue::After(check.min(before.resync_period)),
            ),
            None => ("the group matches the spec", Requeue::Resync),
        };
        let ready = DesiredCondition::ready(true, Reason::Available, message);
        return Outcome::new(vec![ready], requeue, events, failed);
    }
    let summary = describe_changes(changes);
    let id = applied
        .created_id
        .as_deref()
        .or(before.remote.map(|r| r.id.as_str()))
        .unwrap_or_default();
    let note = if let Some(deleted) = before.replaced_id {
        Some(Note::recreated("Group", deleted, id))
    } else if before.remote.is_some() {
        Some(Note::changed(id, &summary, drifted(before)))
    } else {
        None
    };
    events.extend(note.filter(|_| !failed));
    if applied.answered.as_ref() == Some(before.desired_backends) {
        let message = format!("the group matches the spec, as SLB answered: {summary}");
        let ready = DesiredCondition::ready(true, Reason::Available, message);
        let check = before
            .next_drain_check
            .map_or(CHECK_AFTER_ANSWER, |drain| drain.min(CHECK_AFTER_ANSWER))
            .min(before.resync_period);
        return Outcome::new(vec![ready], Requeue::After(check), events, failed);
    }
    let (ready, requeue) = settling(format!("applied: {summary}"));
    Outcome::new(vec![ready], requeue, events, failed)
}

/// Whether SLB's group differs from what the last outcome recorded while the spec stayed: someone
/// changed it outside.
fn drifted(before: &Before<'_>) -> bool {
    !before.spec_changed
        && before.remote.is_some_and(|remote| {
            remote.backends != *before.recorded_backends || remote.name != before.desired_name
        })
}

/// A short, human-readable account of the planned calls, for Events and conditions.
fn describe_changes(changes: &[Change]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for change in changes {
        let (what, servers) = match change {
            Change::Create { backends, .. } => ("created with", backends.len()),
            Change::Rename(_) => ("renamed", 0),
            Change::Add(servers) => ("added", servers.len()),
            Change::Modify { new, .. } => ("reweighted", new.len()),
            Change::Remove(servers) => ("removed", servers.len()),
        };
        *counts.entry(what).or_insert(0) += servers;
    }
    counts
        .into_iter()
        .map(|(what, servers)| match what {
            "renamed" => what.to_owned(),
            _ => format!("{what} {servers} backend(s)"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
