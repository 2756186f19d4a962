//! The SlbListener outcome (pure): from the plan, what was known before and what the calls did, the
//! Synced and Ready conditions, the requeue and the Events.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use slb_api::ListenerStatus;

use super::plan::{Address, Change, Plan};
use crate::conditions::{DesiredCondition, Reason};
use crate::controller::runtime::{Note, Outcome, Requeue, SETTLE_DELAY};
use crate::controller::status::SYNCED;
use crate::crd::{CertificateKind, SlbListenerStatus, UploadedCertificate};

/// What the reconcile knew before it applied the plan.
pub struct Before<'a> {
    pub load_balancer_id: &'a str,
    /// The address the spec declares.
    pub address: Address,
    /// The listener was Ready for this generation, so a difference now was made outside.
    pub was_ready: bool,
    /// Whether SLB had the listener the status claims.
    pub existing: bool,
    /// The state SLB reported for it.
    pub state: Option<ListenerStatus>,
    /// The certificates in use are those the spec resolves to (a renewal is an update, not drift).
    pub same_certificates: bool,
}

/// What the calls did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Certificates uploaded from Secrets (not those found uploaded already).
    pub uploaded_certificates: Vec<UploadedCertificate>,
    /// The listener deleted to be created again, and why.
    pub recreated: Option<(Address, String)>,
    /// Whether the listener was created.
    pub created: bool,
    /// Uploaded certificates deleted as no longer in use.
    pub deleted_certificates: Vec<UploadedCertificate>,
}

/// The outcome of `plan` (`None` when the reconcile failed before it could plan); `failed` when a
/// call failed after those `applied` records. A failure keeps only the Events of what did happen
/// and no conditions: the runtime reports the error.
pub fn outcome(
    plan: Option<&Plan>,
    before: &Before<'_>,
    applied: &Applied,
    failed: bool,
) -> Outcome {
    let address = before.address;
    let mut events: Vec<Note> = applied
        .uploaded_certificates
        .iter()
        .map(|c| {
            Note::new(
                "CertificateUploaded",
                format!(
                    "Uploaded {} certificate {} as {}",
                    kind_name(c.kind),
                    c.id,
                    c.name
                ),
            )
        })
        .collect();
    if let Some((deleted, reason)) = &applied.recreated {
        events.push(Note::new(
            "Recreating",
            format!("Deleting listener {deleted} to create {address} because {reason}"),
        ));
    }
    if applied.created {
        events.push(Note::new(
            "Created",
            format!("Created listener {address} on {}", before.load_balancer_id),
        ));
    }
    events.extend(applied.deleted_certificates.iter().map(certificate_deleted));

    let settle = Requeue::After(SETTLE_DELAY);
    let (synced, ready, requeue) = match plan {
        // Refused or failed before any decision: the runtime reports the error.
        None | Some(Plan::Occupied(_)) => {
            return Outcome {
                conditions: Vec::new(),
                requeue: Requeue::Resync,
                events,
            };
        }
        Some(Plan::Wait(state)) => {
            let message = format!("the listener is {state}; waiting for it to settle");
            (
                DesiredCondition::ready(true, Reason::Progressing, message.clone()),
                DesiredCondition::ready(false, Reason::Progressing, message),
                settle,
            )
        }
        Some(Plan::Adopt) => {
            events.push(Note::new(
                "Adopted",
                format!(
                    "Took over listener {address} of {}",
                    before.load_balancer_id
                ),
            ));
            let message = format!("took over listener {address}");
            (
                DesiredCondition::ready(true, Reason::Progressing, message.clone()),
                DesiredCondition::ready(false, Reason::Progressing, message),
                settle,
            )
        }
        Some(Plan::Changes(changes)) if changes.is_empty() => (
            DesiredCondition::ready(true, Reason::Available, "the spec is applied"),
            DesiredCondition::ready(
                true,
                Reason::Available,
                format!(
                    "the listener is {}",
                    before.state.map_or("up", |s| s.as_str())
                ),
            ),
            Requeue::Resync,
        ),
        Some(Plan::Changes(changes)) => {
            let summary = describe_changes(changes);
            let note = if before.was_ready && before.same_certificates {
                Some(Note::new(
                    "DriftRestored",
                    format!("Restored listener {address} after changes made outside: {summary}"),
                ))
            } else if before.existing {
                Some(Note::new(
                    "Updated",
                    format!("Updated listener {address}: {summary}"),
                ))
            } else {
                None
            };
            events.extend(note.filter(|_| !failed));
            (
                DesiredCondition::ready(true, Reason::Available, format!("applied: {summary}")),
                DesiredCondition::ready(
                    false,
                    Reason::Progressing,
                    format!("applied {summary}; checking the result"),
                ),
                settle,
            )
        }
    };
    let synced = DesiredCondition {
        type_: SYNCED,
        ..synced
    };
    Outcome::new(vec![synced, ready], requeue, events, failed)
}

/// The Event of an uploaded certificate deleted (by a reconcile or the cleanup).
pub fn certificate_deleted(certificate: &UploadedCertificate) -> Note {
    Note::new(
        "CertificateDeleted",
        format!(
            "Deleted {} certificate {} ({})",
            kind_name(certificate.kind),
            certificate.id,
            certificate.name
        ),
    )
}

fn kind_name(kind: CertificateKind) -> &'static str {
    match kind {
        CertificateKind::Server => "server",
        CertificateKind::Ca => "CA",
    }
}

/// Warnings about the uploaded certificates in use that expire within `window` of `now` (or have
/// expired since they were uploaded).
pub fn expiring_certificates(
    status: &SlbListenerStatus,
    now: Timestamp,
    window: Duration,
) -> Vec<String> {
    let in_use = |c: &UploadedCertificate| match c.kind {
        CertificateKind::Server => status.server_certificate_id.as_deref() == Some(c.id.as_str()),
        CertificateKind::Ca => status.ca_certificate_id.as_deref() == Some(c.id.as_str()),
    };
    let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
    status
        .uploaded_certificates
        .iter()
        .filter(|c| in_use(c))
        .filter_map(|c| {
            let not_after = c.not_after.as_deref()?.parse::<Timestamp>().ok()?;
            let left = not_after.as_second().saturating_sub(now.as_second());
            (left <= window).then(|| {
                let verb = if left < 0 { "expired" } else { "expires" };
                format!(
                    "The {} certificate {} ({}) in use {verb} at {not_after}; renew its Secret",
                    kind_name(c.kind),
                    c.id,
                    c.name
                )
            })
        })
        .collect()
}

/// A short, human-readable list of the planned calls, for Events and conditions.
fn describe_changes(changes: &[Change]) -> String {
    let mut names: Vec<&str> = changes
        .iter()
        .map(|change| match change {
            Change::Delete { .. } => "delete",
            Change::Create(_) => "create",
            Change::Set(_) => "settings",
            Change::AddSourceItems(_) | Change::RemoveSourceItems(_) => "whitelist",
            Change::SetAccessControl(_) => "access control",
            Change::Start => "start",
            Change::Stop => "stop",
        })
        .collect();
    names.dedup();
    names.join(", ")
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
