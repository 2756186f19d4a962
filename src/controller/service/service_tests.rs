use super::outcome::{ServiceOutcome, failing_children, load_balancer_condition};
use super::*;

fn service() -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
        "spec": {
            "type": "LoadBalancer",
            "ports": [
                {"port": 80, "nodePort": 30080},
                {"port": 9000, "nodePort": 30900},
            ]
        }
    }))
    .unwrap_or_else(|e| unreachable!("bad test Service: {e}"))
}

fn desired() -> Children {
    children(&service()).unwrap_or_else(|e| unreachable!("unexpected errors: {e:?}"))
}

/// The children as they exist after `desired` was applied.
fn applied(desired: &Children) -> Owned {
    Owned {
        instance: Some(SlbInstance::new("web", desired.instance.clone())),
        groups: desired
            .groups
            .iter()
            .map(|(name, spec)| (name.clone(), SlbVServerGroup::new(name, spec.clone())))
            .collect(),
        listeners: desired
            .listeners
            .iter()
            .map(|(name, spec)| (name.clone(), SlbListener::new(name, spec.clone())))
            .collect(),
    }
}

fn written(writes: &[Write]) -> Vec<String> {
    writes
        .iter()
        .map(|write| match write {
            Write::Instance(_) => "instance".to_owned(),
            Write::Group(name, _) => format!("group {name}"),
            Write::Listener(name, _) => format!("listener {name}"),
        })
        .collect()
}

#[test]
fn everything_is_applied_first_the_instance_then_the_groups_then_the_listeners() {
    let desired = desired();
    let none = Owned {
        instance: None,
        groups: BTreeMap::new(),
        listeners: BTreeMap::new(),
    };
    assert_eq!(
        written(&changed_children(&desired, &none)),
        [
            "instance",
            "group web-80",
            "group web-9000",
            "listener web-80",
            "listener web-9000"
        ]
    );
}

#[test]
fn only_children_whose_spec_changed_are_applied_again() {
    let desired = desired();
    let mut owned = applied(&desired);
    assert!(changed_children(&desired, &owned).is_empty());
    if let Some(listener) = owned.listeners.get_mut("web-9000") {
        listener.spec.scheduler = Some(crate::crd::Scheduler::Wlc);
    }
    assert_eq!(
        written(&changed_children(&desired, &owned)),
        ["listener web-9000"]
    );
}

#[test]
fn names_held_by_other_objects_are_conflicts_of_their_own_kind_only() {
    let desired = desired();
    // Another Service's instance named like our group, and a listener of someone else named like ours.
    let taken = Taken {
        instances: BTreeSet::from(["web-80".to_owned()]),
        groups: BTreeSet::new(),
        listeners: BTreeSet::from(["web-9000".to_owned(), "unrelated".to_owned()]),
    };
    assert_eq!(
        name_conflicts("web", &desired, &taken),
        ["SlbListener web-9000"]
    );
    let taken = Taken {
        instances: BTreeSet::from(["web".to_owned()]),
        ..Taken::default()
    };
    assert_eq!(name_conflicts("web", &desired, &taken), ["SlbInstance web"]);
}

/// A child's Ready condition, for an object that has no generation (as in these tests).
fn condition(status: bool, reason: &str, message: &str) -> Condition {
    serde_json::from_value(json!({
        "type": "Ready",
        "status": if status { "True" } else { "False" },
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }))
    .unwrap_or_else(|e| unreachable!("bad test condition: {e}"))
}

/// Every child of `owned` Ready.
fn all_ready(owned: &mut Owned) {
    let ready = || vec![condition(true, "Available", "the SLB object matches")];
    if let Some(instance) = owned.instance.as_mut() {
        instance.status = Some(crate::crd::SlbInstanceStatus {
            conditions: ready(),
            ..Default::default()
        });
    }
    for group in owned.groups.values_mut() {
        group.status = Some(crate::crd::SlbVServerGroupStatus {
            conditions: ready(),
            ..Default::default()
        });
    }
    for listener in owned.listeners.values_mut() {
        listener.status = Some(crate::crd::SlbListenerStatus {
            conditions: ready(),
            ..Default::default()
        });
    }
}

#[test]
fn the_services_condition_sums_up_its_children() {
    let desired = desired();
    let mut owned = applied(&desired);
    let summary = |owned: &Owned, address| {
        let condition = load_balancer_condition(owned, address);
        assert_eq!(condition.type_, LOAD_BALANCER_READY);
        (condition.status, condition.reason, condition.message)
    };

    let (status, reason, message) = summary(&owned, None);
    assert_eq!((status, reason), (false, Reason::Progressing));
    assert_eq!(
        message,
        "waiting for SlbInstance web, SlbVServerGroup web-80, SlbVServerGroup web-9000, SlbListener web-80, SlbListener web-9000"
    );

    all_ready(&mut owned);
    let (status, reason, message) = summary(&owned, None);
    assert_eq!((status, reason), (false, Reason::Progressing));
    assert_eq!(message, "waiting for the load balancer's address");
    let (status, reason, message) = summary(&owned, Some("198.18.0.1"));
    assert_eq!((status, reason), (true, Reason::Available));
    assert_eq!(message, "the load balancer is at 198.18.0.1");

    if let Some(group) = owned.groups.get_mut("web-9000") {
        group.status = Some(crate::crd::SlbVServerGroupStatus {
            conditions: vec![condition(false, "ReconcileError", "unknown ECS instance")],
            ..Default::default()
        });
    }
    let (status, reason, message) = summary(&owned, Some("198.18.0.1"));
    assert_eq!((status, reason), (false, Reason::ReconcileError));
    assert_eq!(message, "SlbVServerGroup web-9000: unknown ECS instance");
}

#[test]
fn children_whose_reconcile_failed_are_named_with_their_message() {
    let desired = desired();
    let mut owned = applied(&desired);
    assert!(failing_children(&owned).is_empty());
    let condition = |reason: &str, message: &str| condition(false, reason, message);
    if let Some(listener) = owned.listeners.get_mut("web-80") {
        listener.status = Some(crate::crd::SlbListenerStatus {
            conditions: vec![condition("ReconcileError", "quota exceeded")],
            ..Default::default()
        });
    }
    if let Some(group) = owned.groups.get_mut("web-80") {
        group.status = Some(crate::crd::SlbVServerGroupStatus {
            conditions: vec![condition("Progressing", "applied: create")],
            ..Default::default()
        });
    }
    assert_eq!(
        failing_children(&owned),
        ["SlbListener web-80: quota exceeded"]
    );
}

#[test]
fn the_outcome_announces_the_load_balancer_once_and_warns_of_failing_children() {
    let desired = desired();
    let mut owned = applied(&desired);
    let reasons = |outcome: &ServiceOutcome| -> Vec<&'static str> {
        outcome.events.iter().map(|n| n.reason).collect()
    };

    let first = outcome(
        "web",
        2,
        &Owned {
            instance: None,
            ..applied(&desired)
        },
        None,
        false,
    );
    assert_eq!(reasons(&first), ["EnsuringLoadBalancer"]);
    assert!(first.events[0].message.contains("2 listener(s)"));
    assert!(first.warning.is_none());

    all_ready(&mut owned);
    let addressed = outcome("web", 2, &owned, Some("198.18.0.1"), false);
    assert_eq!(reasons(&addressed), ["EnsuredLoadBalancer"]);
    assert!(addressed.condition.status);
    let steady = outcome("web", 2, &owned, Some("198.18.0.1"), true);
    assert!(steady.events.is_empty());

    if let Some(listener) = owned.listeners.get_mut("web-80") {
        listener.status = Some(crate::crd::SlbListenerStatus {
            conditions: vec![condition(false, "ReconcileError", "quota exceeded")],
            ..Default::default()
        });
    }
    let failing = outcome("web", 2, &owned, Some("198.18.0.1"), true);
    let Some(warning) = failing.warning else {
        unreachable!("a failing child gives a warning")
    };
    assert_eq!(warning.reason, "LoadBalancerNotReady");
    assert_eq!(warning.message, "SlbListener web-80: quota exceeded");
    assert!(!failing.condition.status);
}

#[test]
fn ignored_annotations_are_announced_once_and_always_named_in_the_condition() {
    use super::annotations::Ignored;
    let line = outcome::ignored_line(&[Ignored {
        annotation: "a/acl-id".into(),
        why: "no ACLs",
    }]);
    let line = line.as_deref();
    assert_eq!(line, Some("Annotations ignored: a/acl-id (no ACLs)"));
    let message = with_ignored("the load balancer is at 198.18.0.1".into(), line);
    assert_eq!(
        message,
        "the load balancer is at 198.18.0.1. Annotations ignored: a/acl-id (no ACLs)"
    );
    assert!(
        ignored_warning(line, None).is_some(),
        "first time: a Warning"
    );
    assert!(ignored_warning(line, Some("waiting for SlbInstance web")).is_some());
    assert!(
        ignored_warning(line, Some(&message)).is_none(),
        "already said"
    );
    assert!(ignored_warning(None, None).is_none());
    assert_eq!(outcome::ignored_line(&[]), None);
}

#[test]
fn a_change_of_the_ignored_annotations_is_announced_also_when_names_are_only_removed() {
    use super::annotations::Ignored;
    let line = |names: &[&str]| {
        let ignored: Vec<Ignored> = names
            .iter()
            .map(|name| Ignored {
                annotation: (*name).to_owned(),
                why: "no such setting",
            })
            .collect();
        outcome::ignored_line(&ignored)
    };
    let (both, first) = (line(&["a/acl-id", "a/idle-timeout"]), line(&["a/acl-id"]));
    let said = with_ignored("the load balancer is at 198.18.0.1".into(), both.as_deref());
    // The shorter line is a substring of the longer, and still a change.
    assert!(ignored_warning(first.as_deref(), Some(&said)).is_some());
    let said_first = with_ignored("waiting for SlbInstance web".into(), first.as_deref());
    assert!(ignored_warning(both.as_deref(), Some(&said_first)).is_some());
    assert!(ignored_warning(first.as_deref(), Some(&said_first)).is_none());
}

#[test]
fn a_hostname_takes_the_place_of_the_address_in_the_ingress() {
    let with_hostname = ingress(Some("198.18.0.1"), Some("web.example.com"));
    assert_eq!(
        with_hostname[0].hostname.as_deref(),
        Some("web.example.com")
    );
    assert_eq!(with_hostname[0].ip, None);
    assert_eq!(
        ingress(Some("198.18.0.1"), None)[0].ip.as_deref(),
        Some("198.18.0.1")
    );
    assert!(ingress(None, Some("web.example.com")).is_empty());
}
