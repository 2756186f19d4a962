//! Status conditions following the Kubernetes API conventions: one entry per type, with
//! `observedGeneration`, and a `lastTransitionTime` that moves only when the status flips.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// The object's SLB counterpart matches its spec.
pub const READY: &str = "Ready";

/// Why a condition has its status. Reasons are CamelCase, as the conventions require.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The SLB object exists and matches the spec.
    Available,
    /// The SLB object is being created or changed.
    Progressing,
    /// A referenced object (an SlbInstance, a Secret, ...) does not exist yet.
    ReferenceNotFound,
    /// A referenced object exists but is not ready yet.
    ReferenceNotReady,
    /// The last reconcile failed; the message says why.
    ReconcileError,
    /// The SLB object was deleted outside the operator.
    RemoteNotFound,
    /// A Service's annotations ask for something the operator cannot do.
    InvalidAnnotation,
    /// A Service's children would take names that other objects hold.
    NameTaken,
    /// The SLB object is not this object's (another object's, another cluster's, the Alibaba Cloud
    /// controller manager's, or in a namespace that may not adopt): nothing is changed.
    NotOwned,
    /// Another object adopted the load balancer first.
    Conflict,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Available => "Available",
            Reason::Progressing => "Progressing",
            Reason::ReferenceNotFound => "ReferenceNotFound",
            Reason::ReferenceNotReady => "ReferenceNotReady",
            Reason::ReconcileError => "ReconcileError",
            Reason::RemoteNotFound => "RemoteNotFound",
            Reason::InvalidAnnotation => "InvalidAnnotation",
            Reason::NameTaken => "NameTaken",
            Reason::NotOwned => "NotOwned",
            Reason::Conflict => "Conflict",
        }
    }
}

/// The condition a reconcile wants to report, before merging with what the object has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredCondition {
    pub type_: &'static str,
    pub status: bool,
    pub reason: Reason,
    pub message: String,
}

impl DesiredCondition {
    pub fn ready(status: bool, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            type_: READY,
            status,
            reason,
            message: message.into(),
        }
    }
}

/// Merges `desired` into `existing`: the entry of the same type is replaced, and its
/// `lastTransitionTime` kept unless the status changes. Other types are left alone.
pub fn merge_condition(
    existing: &[Condition],
    desired: DesiredCondition,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let status = if desired.status { "True" } else { "False" };
    let previous = existing.iter().find(|c| c.type_ == desired.type_);
    let last_transition_time = match previous {
        Some(previous) if previous.status == status => previous.last_transition_time.clone(),
        _ => Time(now),
    };
    let merged = Condition {
        type_: desired.type_.to_owned(),
        status: status.to_owned(),
        reason: desired.reason.as_str().to_owned(),
        message: desired.message,
        observed_generation: generation,
        last_transition_time,
    };
    let mut conditions: Vec<Condition> = existing
        .iter()
        .filter(|c| c.type_ != desired.type_)
        .cloned()
        .collect();
    conditions.push(merged);
    conditions.sort_by(|a, b| a.type_.cmp(&b.type_));
    conditions
}

/// Whether the object's Ready condition is True for its current generation.
pub fn is_ready(conditions: &[Condition], generation: Option<i64>) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == READY && c.status == "True" && c.observed_generation == generation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn ready(status: bool, reason: Reason) -> DesiredCondition {
        DesiredCondition::ready(status, reason, "message")
    }

    #[test]
    fn a_new_condition_gets_the_current_time() {
        let merged = merge_condition(&[], ready(true, Reason::Available), Some(1), at(100));
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].type_, READY);
        assert_eq!(merged[0].status, "True");
        assert_eq!(merged[0].reason, "Available");
        assert_eq!(merged[0].observed_generation, Some(1));
        assert_eq!(merged[0].last_transition_time, Time(at(100)));
    }

    #[test]
    fn the_transition_time_is_kept_while_the_status_stays() {
        let first = merge_condition(&[], ready(false, Reason::Progressing), Some(1), at(100));
        let second = merge_condition(
            &first,
            ready(false, Reason::ReferenceNotFound),
            Some(2),
            at(200),
        );
        assert_eq!(second[0].last_transition_time, Time(at(100)));
        assert_eq!(second[0].reason, "ReferenceNotFound");
        assert_eq!(second[0].observed_generation, Some(2));
    }

    #[test]
    fn the_transition_time_moves_when_the_status_flips() {
        let first = merge_condition(&[], ready(false, Reason::Progressing), Some(1), at(100));
        let second = merge_condition(&first, ready(true, Reason::Available), Some(1), at(200));
        assert_eq!(second[0].last_transition_time, Time(at(200)));
    }

    #[test]
    fn merging_the_same_condition_twice_changes_nothing() {
        let first = merge_condition(&[], ready(true, Reason::Available), Some(3), at(100));
        let second = merge_condition(&first, ready(true, Reason::Available), Some(3), at(500));
        assert_eq!(first, second);
    }

    #[test]
    fn other_condition_types_are_kept() {
        let synced = Condition {
            type_: "Synced".into(),
            status: "True".into(),
            reason: "Available".into(),
            message: String::new(),
            observed_generation: Some(1),
            last_transition_time: Time(at(50)),
        };
        let merged = merge_condition(
            std::slice::from_ref(&synced),
            ready(true, Reason::Available),
            Some(1),
            at(100),
        );
        assert_eq!(merged.len(), 2);
        assert!(merged.contains(&synced));
    }

    #[test]
    fn ready_means_true_for_the_current_generation() {
        let merged = merge_condition(&[], ready(true, Reason::Available), Some(1), at(100));
        assert!(is_ready(&merged, Some(1)));
        assert!(!is_ready(&merged, Some(2)));
        let not_ready = merge_condition(&[], ready(false, Reason::Progressing), Some(1), at(100));
        assert!(!is_ready(&not_ready, Some(1)));
    }
}
