use super::*;
use crate::controller::runtime::SETTLE_DELAY;
use slb_api::NewRule;

const BEFORE: Before<'static> = Before {
    load_balancer_id: "lb-1",
    listener_port: 80,
    spec_changed: true,
    replaced_id: None,
};

/// The rule rule-old was deleted outside the operator.
const REPLACING: Before<'static> = Before {
    replaced_id: Some("rule-old"),
    ..BEFORE
};

fn new_rule() -> NewRule {
    NewRule {
        rule_name: "ns/api".into(),
        domain: Some("www.example.com".into()),
        url: Some("/api".into()),
        v_server_group_id: Some("rsp-1".into()),
    }
}

/// The outcome of creating the rule from `new_rule`.
fn of_create(before: &Before<'_>, applied: &Applied, failed: bool) -> Outcome {
    outcome(&Plan::Create(new_rule()), before, applied, failed)
}

fn deleted_old() -> Applied {
    Applied {
        deleted_id: Some("rule-old".into()),
        ..Applied::default()
    }
}

fn created(id: &str) -> Applied {
    Applied {
        created_id: Some(id.into()),
        ..Applied::default()
    }
}

fn set_group() -> Plan {
    Plan::SetGroup {
        rule_id: "rule-1".into(),
        group_id: "rsp-2".into(),
    }
}

fn replace() -> Plan {
    Plan::Replace {
        old_id: "rule-old".into(),
        create: new_rule(),
    }
}

#[test]
fn a_matching_rule_is_ready_and_waits_for_the_resync() {
    let outcome = outcome(&Plan::InSync, &BEFORE, &Applied::default(), false);
    outcome.assert_in_sync("the rule matches the spec");
}

#[test]
fn a_create_is_announced_and_checked_soon() {
    let outcome = of_create(&BEFORE, &created("rule-new"), false);
    assert_eq!(
        outcome.notes(),
        [("Created", "Created rule rule-new on port 80 of lb-1")]
    );
    outcome.assert_settling("created");
}

#[test]
fn a_rule_deleted_outside_is_created_again_and_said_so() {
    let outcome = of_create(&REPLACING, &created("rule-new"), false);
    outcome.assert_created_again(
        "Rule rule-old was deleted outside the operator; created rule-new in its place",
    );
}

#[test]
fn a_failed_create_announces_nothing_and_a_failure_after_it_only_the_create() {
    of_create(&REPLACING, &Applied::default(), true).assert_failed_after(&[]);
    of_create(&REPLACING, &created("rule-new"), true).assert_failed_after(&["Created"]);
}

#[test]
fn a_new_target_group_is_an_update_or_restores_drift() {
    let set = Applied {
        group_set: true,
        ..Applied::default()
    };
    let update = outcome(&set_group(), &BEFORE, &set, false);
    assert_eq!(
        update.notes(),
        [("Updated", "Rule rule-1 now forwards to rsp-2")]
    );
    assert_eq!(
        update.conditions,
        [DesiredCondition::ready(
            false,
            Reason::Progressing,
            "target group set"
        )]
    );
    assert_eq!(update.requeue, Requeue::After(SETTLE_DELAY));

    let drifted = Before {
        spec_changed: false,
        ..BEFORE
    };
    let drift = outcome(&set_group(), &drifted, &set, false);
    assert_eq!(
        drift.notes(),
        [(
            "DriftRestored",
            "Restored rule rule-1 to forward to rsp-2 after a change made outside"
        )]
    );

    let failed = outcome(&set_group(), &BEFORE, &Applied::default(), true);
    failed.assert_failed_after(&[]);
}

#[test]
fn a_replacement_announces_the_delete_then_the_create() {
    let applied = Applied {
        created_id: Some("rule-new".into()),
        ..deleted_old()
    };
    let outcome = outcome(&replace(), &BEFORE, &applied, false);
    outcome.assert_announced(
        &["Replacing", "Created"],
        "Rule rule-old matches another domain or url",
    );
    outcome.assert_settling("replaced rule-old");
}

#[test]
fn a_replacement_that_failed_announces_only_what_happened() {
    let nothing = outcome(&replace(), &BEFORE, &Applied::default(), true);
    assert!(nothing.events.is_empty());
    let half = outcome(&replace(), &BEFORE, &deleted_old(), true);
    half.assert_failed_after(&["Replacing"]);
}
