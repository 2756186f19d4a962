use super::*;
use k8s_openapi::jiff::SignedDuration;
use proptest::prelude::*;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds)
        .unwrap_or_else(|e| unreachable!("a test time out of range: {e}"))
}

fn key(server_id: &str, port: u16) -> BackendKey {
    BackendKey {
        server_id: server_id.into(),
        port,
    }
}

fn backends(entries: &[(&str, u16, u32)]) -> Backends {
    entries
        .iter()
        .map(|(id, port, weight)| (key(id, *port), *weight))
        .collect()
}

/// A backend as the calls send it.
fn sent(server_id: &str, port: u16, weight: u32) -> VServerBackendServer {
    VServerBackendServer {
        server_id: server_id.into(),
        port: Some(port),
        weight: Some(weight),
    }
}

/// `n` backends i-0001.. on `port`, all with `weight`.
fn many(n: usize, port: u16, weight: u32) -> Backends {
    (1..=n)
        .map(|i| (key(&format!("i-{i:04}"), port), weight))
        .collect()
}

/// What SLB holds after the calls, following the documented semantics of each action.
fn apply(mut group: Backends, changes: &[Change]) -> Backends {
    let put = |group: &mut Backends, servers: &[VServerBackendServer]| {
        for server in servers {
            let port = server
                .port
                .unwrap_or_else(|| unreachable!("a port is always sent"));
            let weight = server.weight.unwrap_or(DEFAULT_WEIGHT);
            group.insert(key(&server.server_id, port), weight);
        }
    };
    for change in changes {
        match change {
            Change::Create { backends, .. } => {
                group.clear();
                put(&mut group, backends);
            }
            Change::Rename(_) => {}
            Change::Add(servers) => put(&mut group, servers),
            Change::Modify { old, new } => {
                for server in old {
                    group.remove(&key(&server.server_id, server.port.unwrap_or_default()));
                }
                put(&mut group, new);
            }
            Change::Remove(servers) => {
                for server in servers {
                    group.remove(&key(&server.server_id, server.port.unwrap_or_default()));
                }
            }
        }
    }
    group
}

fn servers_in(change: &Change) -> usize {
    match change {
        Change::Create { backends, .. } => backends.len(),
        Change::Rename(_) => 0,
        Change::Add(servers) | Change::Remove(servers) => servers.len(),
        Change::Modify { old, new } => old.len().max(new.len()),
    }
}

fn desired(backends: Backends) -> Desired {
    Desired {
        name: "ns/web".into(),
        creation_name: "slb-operator.uid".into(),
        backends,
    }
}

fn remote(backends: Backends) -> RemoteGroup {
    RemoteGroup {
        id: "rsp-1".into(),
        name: "ns/web".into(),
        backends,
    }
}

#[test]
fn equal_backends_need_no_call() {
    let wanted = backends(&[("i-1", 80, 100), ("i-2", 80, 50)]);
    assert!(diff(&wanted, &wanted).is_empty());
    assert!(plan(&desired(wanted.clone()), Some(&remote(wanted))).is_empty());
}

#[test]
fn an_added_backend_is_one_add_call() {
    let observed = backends(&[("i-1", 80, 100)]);
    let wanted = backends(&[("i-1", 80, 100), ("i-2", 8080, 30)]);
    assert_eq!(
        diff(&wanted, &observed),
        vec![Change::Add(vec![sent("i-2", 8080, 30)])]
    );
}

#[test]
fn a_removed_backend_is_one_remove_call() {
    let observed = backends(&[("i-1", 80, 100), ("i-2", 80, 100)]);
    let wanted = backends(&[("i-1", 80, 100)]);
    assert_eq!(
        diff(&wanted, &observed),
        vec![Change::Remove(vec![sent("i-2", 80, 100)])]
    );
}

#[test]
fn a_new_weight_is_a_modify_call_naming_old_and_new() {
    let observed = backends(&[("i-1", 80, 100)]);
    let wanted = backends(&[("i-1", 80, 10)]);
    assert_eq!(
        diff(&wanted, &observed),
        vec![Change::Modify {
            old: vec![sent("i-1", 80, 100)],
            new: vec![sent("i-1", 80, 10)],
        }]
    );
}

#[test]
fn the_same_server_on_another_port_is_another_backend() {
    let observed = backends(&[("i-1", 80, 100)]);
    let wanted = backends(&[("i-1", 81, 100)]);
    let changes = diff(&wanted, &observed);
    assert!(matches!(
        changes.as_slice(),
        [Change::Add(_), Change::Remove(_)]
    ));
}

#[test]
fn adds_come_before_modifies_and_removes() {
    let observed = backends(&[("i-1", 80, 100), ("i-2", 80, 100)]);
    let wanted = backends(&[("i-1", 80, 50), ("i-3", 80, 100)]);
    let changes = diff(&wanted, &observed);
    assert!(
        matches!(
            changes.as_slice(),
            [Change::Add(_), Change::Modify { .. }, Change::Remove(_)]
        ),
        "{changes:?}"
    );
}

#[test]
fn forty_five_additions_are_three_calls_of_at_most_twenty() {
    let wanted = many(45, 80, 100);
    let changes = diff(&wanted, &Backends::new());
    let sizes: Vec<usize> = changes.iter().map(servers_in).collect();
    assert_eq!(sizes, vec![20, 20, 5]);
    assert!(changes.iter().all(|c| matches!(c, Change::Add(_))));
    assert_eq!(apply(Backends::new(), &changes), wanted);
}

#[test]
fn twenty_one_removals_and_reweights_are_chunked_too() {
    let observed = many(21, 80, 100);
    let reweighted = many(21, 80, 7);
    let changes = diff(&reweighted, &observed);
    assert_eq!(changes.iter().map(servers_in).collect::<Vec<_>>(), [20, 1]);
    let removed = diff(&Backends::new(), &observed);
    assert_eq!(removed.iter().map(servers_in).collect::<Vec<_>>(), [20, 1]);
    assert!(removed.iter().all(|c| matches!(c, Change::Remove(_))));
}

#[test]
fn a_new_group_is_created_under_the_uid_name_with_twenty_then_added_then_renamed() {
    let wanted = many(25, 80, 100);
    let changes = plan(&desired(wanted.clone()), None);
    let Some(Change::Create { name, backends }) = changes.first() else {
        unreachable!("expected a create first: {changes:?}");
    };
    assert_eq!(name, "slb-operator.uid");
    assert_eq!(backends.len(), 20);
    assert!(matches!(&changes[1], Change::Add(servers) if servers.len() == 5));
    assert_eq!(changes.last(), Some(&Change::Rename("ns/web".into())));
    assert_eq!(apply(Backends::new(), &changes), wanted);
}

#[test]
fn an_empty_new_group_is_created_empty() {
    let changes = plan(&desired(Backends::new()), None);
    assert_eq!(
        changes,
        vec![
            Change::Create {
                name: "slb-operator.uid".into(),
                backends: Vec::new()
            },
            Change::Rename("ns/web".into())
        ]
    );
}

#[test]
fn a_renamed_group_only_gets_its_name_back() {
    let wanted = backends(&[("i-1", 80, 100)]);
    let mut renamed = remote(wanted.clone());
    renamed.name = "changed-in-console".into();
    assert_eq!(
        plan(&desired(wanted), Some(&renamed)),
        vec![Change::Rename("ns/web".into())]
    );
}

#[test]
fn explicit_backends_default_to_weight_100_and_reject_bad_values() {
    let spec = vec![
        BackendServer {
            server_id: "i-1".into(),
            port: 80,
            weight: None,
        },
        BackendServer {
            server_id: "i-2".into(),
            port: 443,
            weight: Some(0),
        },
    ];
    assert_eq!(
        from_spec(&spec),
        Ok(backends(&[("i-1", 80, 100), ("i-2", 443, 0)]))
    );
    let bad_port = vec![BackendServer {
        server_id: "i-1".into(),
        port: 70000,
        weight: None,
    }];
    assert!(from_spec(&bad_port).is_err());
    let bad_weight = vec![BackendServer {
        server_id: "i-1".into(),
        port: 80,
        weight: Some(101),
    }];
    assert!(from_spec(&bad_weight).is_err());
    assert_eq!(
        from_spec(&to_status(&backends(&[("i-1", 80, 5)]))),
        Ok(backends(&[("i-1", 80, 5)]))
    );
}

#[test]
fn slb_entries_without_a_weight_have_the_default_and_without_a_port_are_skipped() {
    let servers = vec![
        VServerBackendServer {
            server_id: "i-1".into(),
            port: Some(80),
            weight: None,
        },
        VServerBackendServer {
            server_id: "i-2".into(),
            port: None,
            weight: Some(5),
        },
    ];
    assert_eq!(from_api(&servers), backends(&[("i-1", 80, 100)]));
}

#[test]
fn a_backend_that_left_the_service_drains_at_weight_zero_then_goes() {
    let start = at(0);
    let period = Duration::from_secs(30);
    let observed = backends(&[("i-1", 80, 100), ("i-2", 80, 100)]);
    let wanted = backends(&[("i-1", 80, 100)]);

    let first = drain(&wanted, &observed, &BTreeMap::new(), start, period);
    assert_eq!(first.target, backends(&[("i-1", 80, 100), ("i-2", 80, 0)]));
    assert_eq!(first.draining_since.get(&key("i-2", 80)), Some(&start));
    assert_eq!(first.next_check, Some(period));

    let drained = backends(&[("i-1", 80, 100), ("i-2", 80, 0)]);
    let later = start + SignedDuration::from_secs(10);
    let second = drain(&wanted, &drained, &first.draining_since, later, period);
    assert_eq!(second.target, drained);
    assert_eq!(second.next_check, Some(Duration::from_secs(20)));

    let done = start + SignedDuration::from_secs(30);
    let third = drain(&wanted, &drained, &second.draining_since, done, period);
    assert_eq!(third.target, wanted);
    assert!(third.draining_since.is_empty());
    assert_eq!(third.next_check, None);
}

#[test]
fn a_backend_that_comes_back_stops_draining() {
    let start = at(0);
    let observed = backends(&[("i-2", 80, 0)]);
    let since = BTreeMap::from([(key("i-2", 80), start)]);
    let wanted = backends(&[("i-2", 80, 100)]);
    let result = drain(&wanted, &observed, &since, start, Duration::from_secs(30));
    assert_eq!(result.target, wanted);
    assert!(result.draining_since.is_empty());
}

#[test]
fn a_zero_drain_period_removes_at_once() {
    let observed = backends(&[("i-2", 80, 100)]);
    let result = drain(
        &Backends::new(),
        &observed,
        &BTreeMap::new(),
        at(0),
        Duration::ZERO,
    );
    assert!(result.target.is_empty());
}

/// The status's record of i-2 on `port`, draining since the start.
fn i2_drain_recorded(port: i32) -> [DrainingBackend; 1] {
    [DrainingBackend {
        server_id: "i-2".into(),
        port,
        since: Time(at(0)),
    }]
}

#[test]
fn a_drain_recorded_before_a_restart_ends_on_time() {
    let recorded = i2_drain_recorded(80);
    let since = draining_from_status(&recorded);
    let drained = backends(&[("i-1", 80, 100), ("i-2", 80, 0)]);
    let wanted = backends(&[("i-1", 80, 100)]);
    let period = Duration::from_secs(30);

    let after_restart = drain(&wanted, &drained, &since, at(20), period);
    assert_eq!(after_restart.target, drained);
    assert_eq!(after_restart.next_check, Some(Duration::from_secs(10)));
    assert_eq!(draining_to_status(&after_restart.draining_since), recorded);

    let ended = drain(&wanted, &drained, &since, at(30), period);
    assert_eq!(ended.target, wanted);
    assert!(draining_to_status(&ended.draining_since).is_empty());
}

#[test]
fn a_drain_start_after_now_counts_as_now() {
    let since = BTreeMap::from([(key("i-2", 80), at(60))]);
    let drained = backends(&[("i-2", 80, 0)]);
    let result = drain(
        &Backends::new(),
        &drained,
        &since,
        at(0),
        Duration::from_secs(30),
    );
    assert_eq!(result.target, drained);
    assert_eq!(result.next_check, Some(Duration::from_secs(30)));
    assert_eq!(result.draining_since.get(&key("i-2", 80)), Some(&at(0)));
}

#[test]
fn a_recorded_drain_with_a_port_out_of_range_is_ignored() {
    assert!(draining_from_status(&i2_drain_recorded(70_000)).is_empty());
}

fn arbitrary_backends() -> impl Strategy<Value = Backends> {
    // Few servers and ports, so that the two sides overlap often.
    proptest::collection::btree_map(
        (0u8..40, prop_oneof![Just(80u16), Just(443), Just(8080)])
            .prop_map(|(server, port)| key(&format!("i-{server:04}"), port)),
        0u32..=100,
        0..70,
    )
}

#[test]
fn the_own_deletion_policy_wins_then_the_parents_then_the_instances() {
    use DeletionPolicy::{Delete, Orphan};
    let created: SlbInstanceSpec =
        serde_json::from_str("{}").unwrap_or_else(|e| unreachable!("a bad instance spec: {e}"));
    let orphaned = SlbInstanceSpec {
        deletion_policy: Some(Orphan),
        ..created.clone()
    };
    assert_eq!(deletion_policy_in_effect(&[None], Some(&created)), Delete);
    assert_eq!(deletion_policy_in_effect(&[None], Some(&orphaned)), Orphan);
    assert_eq!(
        deletion_policy_in_effect(&[Some(Delete)], Some(&orphaned)),
        Delete
    );
    assert_eq!(
        deletion_policy_in_effect(&[Some(Orphan)], Some(&created)),
        Orphan
    );
    // A rule: its own, else its listener's, else the instance's.
    assert_eq!(
        deletion_policy_in_effect(&[None, Some(Orphan)], Some(&created)),
        Orphan
    );
    assert_eq!(
        deletion_policy_in_effect(&[Some(Delete), Some(Orphan)], Some(&orphaned)),
        Delete
    );
}

#[test]
fn an_adopted_or_gone_instance_orphans_what_is_on_it() {
    let adopted: SlbInstanceSpec = serde_json::from_str(r#"{"loadBalancerId": "lb-theirs"}"#)
        .unwrap_or_else(|e| unreachable!("a bad instance spec: {e}"));
    assert_eq!(
        deletion_policy_in_effect(&[None], Some(&adopted)),
        DeletionPolicy::Orphan
    );
    assert_eq!(
        deletion_policy_in_effect(&[None], None),
        DeletionPolicy::Orphan
    );
    assert_eq!(
        deletion_policy_in_effect(&[Some(DeletionPolicy::Delete)], None),
        DeletionPolicy::Delete
    );
}

proptest! {
    #[test]
    fn the_diff_turns_observed_into_desired(wanted in arbitrary_backends(), observed in arbitrary_backends()) {
        let changes = diff(&wanted, &observed);
        prop_assert_eq!(apply(observed, &changes), wanted);
    }

    #[test]
    fn every_call_has_between_one_and_twenty_servers(wanted in arbitrary_backends(), observed in arbitrary_backends()) {
        for change in diff(&wanted, &observed) {
            let servers = servers_in(&change);
            prop_assert!((1..=SERVERS_PER_CALL).contains(&servers), "{change:?}");
            if let Change::Modify { old, new } = &change {
                prop_assert_eq!(old.len(), new.len());
            }
        }
    }

    #[test]
    fn the_diff_never_replaces_everything(wanted in arbitrary_backends(), observed in arbitrary_backends()) {
        // SetVServerGroupAttribute is used for names only, never for backends.
        for change in plan(&desired(wanted), Some(&remote(observed))) {
            let replaces = matches!(change, Change::Rename(_) | Change::Create { .. });
            prop_assert!(!replaces, "{:?}", change);
        }
    }

    #[test]
    fn no_call_touches_a_backend_that_is_already_right(wanted in arbitrary_backends(), observed in arbitrary_backends()) {
        let changes = diff(&wanted, &observed);
        let touched: Vec<BackendKey> = changes
            .iter()
            .flat_map(|change| match change {
                Change::Add(s) | Change::Remove(s) => s.clone(),
                Change::Modify { new, .. } => new.clone(),
                _ => Vec::new(),
            })
            .map(|s| key(&s.server_id, s.port.unwrap_or_default()))
            .collect();
        for k in touched {
            prop_assert!(wanted.get(&k) != observed.get(&k));
        }
    }

    #[test]
    fn a_created_group_ends_up_as_desired(wanted in arbitrary_backends()) {
        let changes = plan(&desired(wanted.clone()), None);
        prop_assert_eq!(apply(Backends::new(), &changes), wanted);
        prop_assert!(changes.iter().all(|c| servers_in(c) <= SERVERS_PER_CALL));
    }

    #[test]
    fn draining_keeps_every_desired_backend_and_only_zeroes_the_others(
        wanted in arbitrary_backends(),
        observed in arbitrary_backends(),
    ) {
        let result = drain(&wanted, &observed, &BTreeMap::new(), at(0), Duration::from_secs(30));
        for (k, weight) in &result.target {
            match wanted.get(k) {
                Some(w) => prop_assert_eq!(w, weight),
                None => {
                    prop_assert_eq!(*weight, 0);
                    prop_assert!(observed.contains_key(k));
                }
            }
        }
        prop_assert!(wanted.keys().all(|k| result.target.contains_key(k)));
    }
}

#[test]
fn of_a_group_not_ours_only_the_wanted_and_the_added_backends_are_managed() {
    let node = |id: &str| key(id, 30080);
    let observed = Backends::from([
        (node("i-theirs"), 100),
        (node("i-1"), 100),
        (node("i-2"), 50),
    ]);
    let wanted = Backends::from([(node("i-1"), 100), (node("i-3"), 100)]);
    let ours = Backends::from([(node("i-2"), 100)]);
    assert_eq!(
        managed_part(&observed, &wanted, &ours),
        Backends::from([(node("i-1"), 100), (node("i-2"), 50)])
    );
    let changes = diff(&wanted, &managed_part(&observed, &wanted, &ours));
    let removed: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Remove(servers) => Some(servers.iter().map(|s| s.server_id.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(removed, ["i-2"], "the backend someone else added stays");
}

#[test]
fn kept_weights_stay_and_only_new_or_returning_backends_get_theirs() {
    let wanted = Backends::from([
        (key("i-1", 80), 100),
        (key("i-2", 80), 50),
        (key("i-3", 80), 100),
    ]);
    let observed = Backends::from([
        (key("i-1", 80), 7),
        (key("i-2", 80), 0),
        (key("i-9", 80), 100),
    ]);
    assert_eq!(
        keep_weights(&wanted, &observed),
        Backends::from([
            (key("i-1", 80), 7),
            (key("i-2", 80), 50),
            (key("i-3", 80), 100)
        ])
    );
}

#[test]
fn a_recorded_group_on_another_load_balancer_is_not_ours() {
    assert!(ensure_placed("VServer group", "rsp-1", Some("lb-1"), "lb-1").is_ok());
    for placed_on in [Some("lb-2"), None] {
        let refused = ensure_placed("VServer group", "rsp-1", placed_on, "lb-1");
        let Err(error) = refused else {
            unreachable!("rsp-1 on {placed_on:?} is taken as ours")
        };
        assert_eq!(error.category(), "NotOwned");
        assert!(error.to_string().contains("rsp-1"), "{error}");
    }
}
