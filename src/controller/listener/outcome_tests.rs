use super::*;
use crate::crd::ListenerProtocol;

fn address() -> Address {
    Address {
        port: 443,
        protocol: ListenerProtocol::Https,
    }
}

fn before() -> Before<'static> {
    Before {
        load_balancer_id: "lb-1",
        address: address(),
        was_ready: false,
        existing: true,
        state: Some(ListenerStatus::Running),
        same_certificates: true,
    }
}

fn certificate(kind: CertificateKind, id: &str) -> UploadedCertificate {
    UploadedCertificate {
        kind,
        id: id.into(),
        name: format!("slb-operator-uid-{id}"),
        not_after: Some("2030-01-01T00:00:00Z".into()),
    }
}

fn shown(outcome: &Outcome) -> Vec<(&'static str, bool, Reason)> {
    outcome
        .conditions
        .iter()
        .map(|c| (c.type_, c.status, c.reason))
        .collect()
}

/// No listener yet on the port.
fn missing() -> Before<'static> {
    Before {
        existing: false,
        state: None,
        ..before()
    }
}

fn created() -> Applied {
    Applied {
        created: true,
        ..Applied::default()
    }
}

/// Ready before and the spec unchanged: what differs was changed outside.
fn drifted() -> Before<'static> {
    Before {
        was_ready: true,
        ..before()
    }
}

/// The outcome of a plan that changes the listener's settings.
fn of_settings_change(before: &Before<'_>, applied: &Applied, failed: bool) -> Outcome {
    outcome(
        Some(&Plan::Changes(vec![Change::Start])),
        before,
        applied,
        failed,
    )
}

#[test]
fn a_matching_listener_is_synced_and_ready_and_waits_for_the_resync() {
    let outcome = outcome(
        Some(&Plan::Changes(Vec::new())),
        &before(),
        &Applied::default(),
        false,
    );
    assert_eq!(outcome.requeue, Requeue::Resync);
    assert!(outcome.events.is_empty());
    assert_eq!(
        shown(&outcome),
        [
            (SYNCED, true, Reason::Available),
            ("Ready", true, Reason::Available)
        ]
    );
    assert_eq!(outcome.conditions[0].message, "the spec is applied");
    assert_eq!(outcome.conditions[1].message, "the listener is running");
}

#[test]
fn a_listener_between_states_is_synced_but_not_ready_and_looked_at_soon() {
    let outcome = outcome(
        Some(&Plan::Wait(ListenerStatus::Configuring)),
        &before(),
        &Applied::default(),
        false,
    );
    assert_eq!(outcome.requeue, Requeue::After(SETTLE_DELAY));
    assert_eq!(
        shown(&outcome),
        [
            (SYNCED, true, Reason::Progressing),
            ("Ready", false, Reason::Progressing)
        ]
    );
    assert!(outcome.conditions[1].message.contains("configuring"));
}

#[test]
fn a_takeover_is_announced() {
    let outcome = outcome(Some(&Plan::Adopt), &before(), &Applied::default(), false);
    assert_eq!(
        outcome.notes(),
        [("Adopted", "Took over listener 443/HTTPS of lb-1")]
    );
    assert_eq!(outcome.requeue, Requeue::After(SETTLE_DELAY));
    assert!(!outcome.conditions[1].status);
}

#[test]
fn an_occupied_port_leaves_the_conditions_to_the_runtime() {
    let outcome = outcome(
        Some(&Plan::Occupied(address())),
        &before(),
        &Applied::default(),
        true,
    );
    outcome.assert_failed_after(&[]);
}

#[test]
fn a_create_is_announced_and_checked_soon() {
    let plan = Plan::Changes(vec![Change::Create(Box::new(
        super::super::plan::Create::Http(Default::default()),
    ))]);
    let outcome = outcome(Some(&plan), &missing(), &created(), false);
    assert_eq!(
        outcome.notes(),
        [("Created", "Created listener 443/HTTPS on lb-1")]
    );
    assert_eq!(outcome.requeue, Requeue::After(SETTLE_DELAY));
    assert_eq!(
        shown(&outcome),
        [
            (SYNCED, true, Reason::Available),
            ("Ready", false, Reason::Progressing)
        ]
    );
    assert_eq!(outcome.conditions[0].message, "applied: create");
}

#[test]
fn a_recreate_says_why_before_the_create() {
    let old = Address {
        port: 80,
        protocol: ListenerProtocol::Http,
    };
    let applied = Applied {
        recreated: Some((old, "the port changed to 443".into())),
        created: true,
        ..Applied::default()
    };
    let outcome = of_settings_change(&before(), &applied, false);
    assert_eq!(outcome.reasons(), ["Recreating", "Created", "Updated"]);
    assert_eq!(
        outcome.events[0].message,
        "Deleting listener 80/HTTP to create 443/HTTPS because the port changed to 443"
    );
}

#[test]
fn a_change_made_outside_is_drift_and_a_spec_change_an_update() {
    let restored = of_settings_change(&drifted(), &Applied::default(), false);
    assert_eq!(
        restored.notes(),
        [(
            "DriftRestored",
            "Restored listener 443/HTTPS after changes made outside: start"
        )]
    );
    let updated = of_settings_change(&before(), &Applied::default(), false);
    assert_eq!(
        updated.notes(),
        [("Updated", "Updated listener 443/HTTPS: start")]
    );
}

#[test]
fn a_renewed_certificate_is_an_update_not_drift() {
    let renewed = Before {
        same_certificates: false,
        ..drifted()
    };
    let applied = Applied {
        uploaded_certificates: vec![certificate(CertificateKind::Server, "cert-2")],
        deleted_certificates: vec![certificate(CertificateKind::Server, "cert-1")],
        ..Applied::default()
    };
    let outcome = of_settings_change(&renewed, &applied, false);
    assert_eq!(
        outcome.reasons(),
        ["CertificateUploaded", "CertificateDeleted", "Updated"]
    );
    assert_eq!(
        outcome.events[0].message,
        "Uploaded server certificate cert-2 as slb-operator-uid-cert-2"
    );
    assert_eq!(
        outcome.events[1].message,
        "Deleted server certificate cert-1 (slb-operator-uid-cert-1)"
    );
}

#[test]
fn a_failure_after_the_create_still_announces_the_create_and_nothing_else() {
    let outcome = of_settings_change(&missing(), &created(), true);
    outcome.assert_failed_after(&["Created"]);
    let failed = of_settings_change(&drifted(), &Applied::default(), true);
    assert!(failed.events.is_empty(), "{:?}", failed.events);
}

#[test]
fn a_failure_before_the_plan_still_announces_the_uploads() {
    let applied = Applied {
        uploaded_certificates: vec![certificate(CertificateKind::Ca, "ca-1")],
        ..Applied::default()
    };
    let outcome = outcome(None, &before(), &applied, true);
    outcome.assert_announced(&["CertificateUploaded"], "Uploaded CA certificate ca-1");
    assert!(outcome.conditions.is_empty());
}

#[test]
fn only_certificates_in_use_that_expire_within_the_window_are_warned_about() {
    let at = |s: &str| s.parse::<Timestamp>().unwrap_or(Timestamp::UNIX_EPOCH);
    let day = Duration::from_secs(24 * 3600);
    let status = SlbListenerStatus {
        server_certificate_id: Some("cert-1".into()),
        ca_certificate_id: Some("ca-1".into()),
        uploaded_certificates: vec![
            certificate(CertificateKind::Server, "cert-1"),
            // No longer in use (about to be deleted): no warning.
            certificate(CertificateKind::Server, "cert-0"),
            UploadedCertificate {
                not_after: Some("2030-06-01T00:00:00Z".into()),
                ..certificate(CertificateKind::Ca, "ca-1")
            },
            // Recorded before the status showed expiry: nothing to tell.
            UploadedCertificate {
                not_after: None,
                ..certificate(CertificateKind::Server, "cert-1")
            },
        ],
        ..SlbListenerStatus::default()
    };
    assert!(expiring_certificates(&status, at("2029-12-01T00:00:00Z"), 14 * day).is_empty());
    let soon = expiring_certificates(&status, at("2029-12-20T00:00:00Z"), 14 * day);
    assert_eq!(
        soon,
        [
            "The server certificate cert-1 (slb-operator-uid-cert-1) in use expires at 2030-01-01T00:00:00Z; renew its Secret"
        ]
    );
    let late = expiring_certificates(&status, at("2030-01-02T00:00:00Z"), 14 * day);
    assert_eq!(late.len(), 1);
    assert!(late[0].contains("in use expired at"), "{late:?}");
}
