use super::*;
use crate::controller::runtime::SETTLE_DELAY;
use crate::controller::vserver_group::known::tests::{backends, known as remote};
use slb_api::VServerBackendServer;

const RESYNC: Duration = Duration::from_secs(300);

fn server(id: &str) -> VServerBackendServer {
    VServerBackendServer {
        server_id: id.into(),
        port: Some(80),
        weight: Some(100),
    }
}

fn before<'a>(remote: Option<&'a RemoteGroup>, recorded: &'a Backends) -> Before<'a> {
    Before {
        load_balancer_id: "lb-1",
        spec_changed: true,
        remote,
        desired_name: "ns/web",
        recorded_backends: recorded,
        replaced_id: None,
        next_drain_check: None,
        desired_backends: recorded,
        resync_period: RESYNC,
    }
}

fn create() -> Vec<Change> {
    vec![
        Change::Create {
            name: "slb-operator.uid".into(),
            backends: vec![server("i-1")],
        },
        Change::Rename("ns/web".into()),
    ]
}

fn created(id: &str) -> Applied {
    Applied {
        created_id: Some(id.into()),
        answered: None,
    }
}

#[test]
fn a_matching_group_is_ready_and_waits_for_the_resync() {
    let recorded = backends(&[("i-1", 100)]);
    let group = remote(&[("i-1", 100)]);
    let outcome = outcome(
        &[],
        &before(Some(&group), &recorded),
        &Applied::default(),
        false,
    );
    outcome.assert_in_sync("the group matches the spec");
}

#[test]
fn a_draining_group_is_ready_and_looks_again_when_the_next_drain_ends() {
    let recorded = Backends::new();
    let group = remote(&[]);
    let mut draining = before(Some(&group), &recorded);
    draining.next_drain_check = Some(Duration::from_secs(7));
    let soon = outcome(&[], &draining, &Applied::default(), false);
    assert_eq!(soon.requeue, Requeue::After(Duration::from_secs(7)));
    assert!(soon.conditions[0].status);
    assert!(soon.conditions[0].message.contains("draining"));
    // Never later than the resync.
    draining.next_drain_check = Some(RESYNC * 2);
    let capped = outcome(&[], &draining, &Applied::default(), false);
    assert_eq!(capped.requeue, Requeue::After(RESYNC));
}

#[test]
fn a_create_is_announced_and_checked_soon() {
    let recorded = Backends::new();
    let outcome = outcome(
        &create(),
        &before(None, &recorded),
        &created("rsp-new"),
        false,
    );
    assert_eq!(
        outcome.notes(),
        [("Created", "Created VServer group rsp-new on lb-1")]
    );
    outcome.assert_settling("applied: created with 1 backend(s), renamed");
}

#[test]
fn a_group_deleted_outside_is_replaced_and_said_so() {
    let recorded = backends(&[("i-1", 100)]);
    let mut replaced = before(None, &recorded);
    replaced.replaced_id = Some("rsp-old");
    replaced.spec_changed = false;
    let outcome = outcome(&create(), &replaced, &created("rsp-new"), false);
    outcome.assert_created_again(
        "Group rsp-old was deleted outside the operator; created rsp-new in its place",
    );
}

#[test]
fn a_replacement_found_again_after_an_unanswered_create_is_said_so_once_renamed() {
    // The create of the previous reconcile failed without an answer; the group it made was
    // found by its creation name.
    let recorded = backends(&[("i-1", 100)]);
    let mut found = remote(&[("i-1", 100)]);
    found.id = "rsp-new".into();
    found.name = "slb-operator.uid".into();
    let mut replaced = before(Some(&found), &recorded);
    replaced.replaced_id = Some("rsp-old");
    replaced.spec_changed = false;
    let outcome = outcome(
        &[Change::Rename("ns/web".into())],
        &replaced,
        &Applied::default(),
        false,
    );
    assert_eq!(
        outcome.notes(),
        [(
            "DriftRestored",
            "Group rsp-old was deleted outside the operator; created rsp-new in its place"
        )]
    );
}

#[test]
fn a_change_made_outside_is_drift_and_a_spec_change_an_update() {
    let recorded = backends(&[("i-1", 100)]);
    let group = remote(&[("i-1", 100), ("i-2", 100)]);
    let changes = [Change::Remove(vec![server("i-2")])];
    let mut drifted = before(Some(&group), &recorded);
    drifted.spec_changed = false;
    let drift = outcome(&changes, &drifted, &Applied::default(), false);
    assert_eq!(
        drift.notes(),
        [(
            "DriftRestored",
            "Restored rsp-1 after changes made outside: removed 1 backend(s)"
        )]
    );

    let update = outcome(
        &changes,
        &before(Some(&group), &recorded),
        &Applied::default(),
        false,
    );
    assert_eq!(
        update.notes(),
        [("Updated", "Updated rsp-1: removed 1 backend(s)")]
    );
}

#[test]
fn a_change_that_follows_the_service_is_an_update_not_drift() {
    // The spec did not change, but the Service's nodes did: SLB still holds what was recorded.
    let recorded = backends(&[("i-1", 100)]);
    let group = remote(&[("i-1", 100)]);
    let mut unchanged = before(Some(&group), &recorded);
    unchanged.spec_changed = false;
    let outcome = outcome(
        &[Change::Add(vec![server("i-2")])],
        &unchanged,
        &Applied::default(),
        false,
    );
    assert_eq!(outcome.reasons(), ["Updated"]);
}

#[test]
fn a_failure_after_the_create_announces_the_create_and_nothing_else() {
    let recorded = Backends::new();
    let mut replaced = before(None, &recorded);
    replaced.replaced_id = Some("rsp-old");
    let outcome = outcome(&create(), &replaced, &created("rsp-new"), true);
    outcome.assert_failed_after(&["Created"]);
}

#[test]
fn a_failure_before_anything_happened_announces_nothing() {
    let recorded = backends(&[("i-1", 100)]);
    let group = remote(&[("i-1", 100)]);
    let outcome = outcome(
        &[Change::Add(vec![server("i-2")])],
        &before(Some(&group), &recorded),
        &Applied::default(),
        true,
    );
    outcome.assert_failed_after(&[]);
}

#[test]
fn a_change_that_slbs_answer_shows_complete_is_ready_and_checked_later() {
    let recorded = backends(&[("i-1", 100)]);
    let wanted = backends(&[("i-1", 100), ("i-2", 100)]);
    let group = remote(&[("i-1", 100)]);
    let mut planned = before(Some(&group), &recorded);
    planned.desired_backends = &wanted;
    let add = [Change::Add(vec![server("i-2")])];
    let answered = |entries: &[(&str, u32)]| Applied {
        created_id: None,
        answered: Some(backends(entries)),
    };
    let after_add =
        |planned: &Before<'_>, applied: &Applied| outcome(&add, planned, applied, false);
    let complete = answered(&[("i-1", 100), ("i-2", 100)]);

    let ready = after_add(&planned, &complete);
    assert_eq!(
        ready.ready(),
        Some((
            true,
            Reason::Available,
            "the group matches the spec, as SLB answered: added 1 backend(s)"
        ))
    );
    assert_eq!(ready.requeue, Requeue::After(CHECK_AFTER_ANSWER));
    // A drain that ends sooner is looked at sooner.
    planned.next_drain_check = Some(Duration::from_secs(7));
    let draining = after_add(&planned, &complete);
    assert_eq!(draining.requeue, Requeue::After(Duration::from_secs(7)));

    // Never later than the resync.
    planned.resync_period = Duration::from_secs(3);
    let resync = after_add(&planned, &complete);
    assert_eq!(resync.requeue, Requeue::After(Duration::from_secs(3)));
    planned.resync_period = RESYNC;

    // An answer that differs (someone else's change, or a weight left out) is checked soon.
    planned.next_drain_check = None;
    let short = after_add(&planned, &answered(&[("i-2", 100)]));
    assert_eq!(short.requeue, Requeue::After(SETTLE_DELAY));
    assert_eq!(short.ready().map(|r| r.1), Some(Reason::Progressing));
    // No answer with the backends: as before, checked soon.
    let unanswered = after_add(&planned, &Applied::default());
    assert_eq!(unanswered.requeue, Requeue::After(SETTLE_DELAY));
}
