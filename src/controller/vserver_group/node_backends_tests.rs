use super::*;
use crate::controller::changes::Changes;
use kube::runtime::watcher;
use serde_json::json;

fn service(policy: &str, node_port: Option<i32>) -> Service {
    let mut port = json!({"port": 80, "targetPort": 8080});
    if let Some(node_port) = node_port {
        port["nodePort"] = json!(node_port);
    }
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"type": "NodePort", "externalTrafficPolicy": policy, "ports": [port]}
    }))
    .unwrap_or_else(|e| unreachable!("bad test Service: {e}"))
}

fn node(name: &str, provider_id: Option<&str>, ready: bool) -> Node {
    let mut value = json!({
        "metadata": {"name": name},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
    });
    if let Some(provider_id) = provider_id {
        value["spec"]["providerID"] = json!(provider_id);
    }
    serde_json::from_value(value).unwrap_or_else(|e| unreachable!("bad test Node: {e}"))
}

fn nodes() -> Vec<Node> {
    vec![
        node("node-1", Some("cn-hangzhou.i-0001"), true),
        node("node-2", Some("cn-hangzhou.i-0002"), true),
        node("node-3", Some("cn-hangzhou.i-0003"), true),
    ]
}

/// One slice with endpoints `(node, ready, terminating)`.
fn slice(endpoints: &[(&str, bool, bool)]) -> EndpointSlice {
    let endpoints: Vec<_> = endpoints
        .iter()
        .enumerate()
        .map(|(i, (node, ready, terminating))| {
            json!({
                "addresses": [format!("10.0.0.{i}")],
                "nodeName": node,
                "conditions": {"ready": ready, "serving": *ready || *terminating, "terminating": terminating}
            })
        })
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": "web-abc", "labels": {SERVICE_NAME_LABEL: "web"}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"port": 8080}]
    }))
    .unwrap_or_else(|e| unreachable!("bad test EndpointSlice: {e}"))
}

fn key(server_id: &str, port: u16) -> BackendKey {
    BackendKey {
        server_id: server_id.into(),
        port,
    }
}

/// A slice with one ready endpoint per mention of a node.
fn ready_on(nodes: &[&str]) -> EndpointSlice {
    let endpoints: Vec<_> = nodes.iter().map(|node| (*node, true, false)).collect();
    slice(&endpoints)
}

/// The backends of the test Service (port 80 on nodePort 30080) under `policy`.
fn backends(
    policy: &str,
    choice: &BackendChoice,
    slices: &[EndpointSlice],
    nodes: &[Node],
) -> Result<Backends, String> {
    service_backends(&service(policy, Some(30080)), choice, slices, nodes).map(|f| f.backends)
}

/// Backends on nodePort 30080, as `(ECS instance ID, weight)`.
fn on_node_port(weights: &[(&str, u32)]) -> Backends {
    weights
        .iter()
        .map(|(server_id, weight)| (key(server_id, 30080), *weight))
        .collect()
}

#[test]
fn provider_ids_are_parsed_robustly() {
    assert_eq!(ecs_instance_id("cn-hangzhou.i-0001"), Some("i-0001"));
    assert_eq!(
        ecs_instance_id(" cn-hangzhou.i-bp1abc2def "),
        Some("i-bp1abc2def")
    );
    assert_eq!(
        ecs_instance_id("alicloud://cn-beijing.i-2ze0001"),
        Some("i-2ze0001")
    );
    for bad in [
        "",
        "i-0001",
        "cn-hangzhou.",
        ".i-0001",
        "cn-hangzhou.i-",
        "kwok://node-1",
        "aws:///us-east-1a/i-0abc",
        "cn-hangzhou.i-0001.extra",
        "cn-hangzhou.vm-233",
    ] {
        assert_eq!(ecs_instance_id(bad), None, "{bad:?}");
    }
}

/// The backends under the Local policy of two pods on node-1 and one on node-2, by `weighting`.
fn local_backends_of_three_pods(weighting: Weighting) -> Result<Backends, String> {
    let slices = [ready_on(&["node-1", "node-1", "node-2"])];
    let choice = BackendChoice::new(80, weighting);
    backends("Local", &choice, &slices, &nodes())
}

#[test]
fn local_policy_uses_the_nodes_with_ready_endpoints_weighted_by_pods() {
    assert_eq!(
        local_backends_of_three_pods(Weighting::PodsPerNode),
        Ok(on_node_port(&[("i-0001", 100), ("i-0002", 50)]))
    );
}

#[test]
fn equal_weighting_gives_every_node_100() {
    assert_eq!(
        local_backends_of_three_pods(Weighting::Equal),
        Ok(on_node_port(&[("i-0001", 100), ("i-0002", 100)]))
    );
}

#[test]
fn cluster_policy_uses_every_ready_node() {
    let mut all = nodes();
    all.push(node("node-4", Some("cn-hangzhou.i-0004"), false));
    let choice = BackendChoice::new(80, Weighting::PodsPerNode);
    // node-4 is not Ready; nodes without pods only forward, so they get the least weight.
    assert_eq!(
        backends("Cluster", &choice, &[ready_on(&["node-1"])], &all),
        Ok(on_node_port(&[
            ("i-0001", 100),
            ("i-0002", 1),
            ("i-0003", 1)
        ]))
    );
}

#[test]
fn terminating_and_unready_endpoints_do_not_count() {
    let slices = [slice(&[
        ("node-1", true, false),
        ("node-2", false, true),
        ("node-3", false, false),
    ])];
    let choice = BackendChoice::new(80, Weighting::PodsPerNode);
    assert_eq!(
        backends("Local", &choice, &slices, &nodes()),
        Ok(on_node_port(&[("i-0001", 100)]))
    );
}

#[test]
fn a_node_without_a_usable_provider_id_is_skipped_and_reported() {
    let all = vec![
        node("node-1", Some("cn-hangzhou.i-0001"), true),
        node("node-2", Some("kwok://node-2"), true),
        node("node-3", None, true),
    ];
    let slices = [ready_on(&["node-1", "node-2", "node-3"])];
    let choice = BackendChoice::new(80, Weighting::PodsPerNode);
    let found = service_backends(&service("Local", Some(30080)), &choice, &slices, &all)
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(found.backends.len(), 1);
    let skipped: Vec<&str> = found.skipped.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(skipped, ["node-2", "node-3"]);
}

#[test]
fn excluded_nodes_are_never_backends() {
    // (label, value, excluded): the CCM's labels exclude whatever their value; Kubernetes' own is a
    // boolean to its service controller, so `false` (as Go's ParseBool spells it) keeps the node.
    let rows = [
        (EXCLUDE_LABELS[0], "", true),
        (EXCLUDE_LABELS[0], "true", true),
        (EXCLUDE_LABELS[0], "karpenter", true),
        (EXCLUDE_LABELS[0], "false", false),
        (EXCLUDE_LABELS[0], "False", false),
        (EXCLUDE_LABELS[0], "0", false),
        (EXCLUDE_LABELS[1], "", true),
        (EXCLUDE_LABELS[1], "false", true),
        (EXCLUDE_LABELS[2], "true", true),
        (EXCLUDE_LABELS[2], "false", true),
        (EXCLUDE_LABELS[3], "", true),
        (EXCLUDE_LABELS[3], "false", true),
    ];
    let choice = BackendChoice::new(80, Weighting::Equal);
    for (label, value, excluded) in rows {
        let mut all = nodes();
        all[1]
            .metadata
            .labels
            .get_or_insert_default()
            .insert(label.into(), value.into());
        let expected = match excluded {
            true => on_node_port(&[("i-0001", 100), ("i-0003", 100)]),
            false => on_node_port(&[("i-0001", 100), ("i-0002", 100), ("i-0003", 100)]),
        };
        assert_eq!(
            backends("Cluster", &choice, &[], &all),
            Ok(expected),
            "{label}={value:?}"
        );
    }
}

#[test]
fn a_port_without_a_node_port_or_a_missing_port_is_an_error() {
    let port_80 = BackendChoice::new(80, Weighting::Equal);
    let no_node_port = service_backends(&service("Cluster", None), &port_80, &[], &nodes());
    assert!(no_node_port.is_err_and(|e| e.contains("nodePort")));
    let port_81 = BackendChoice::new(81, Weighting::Equal);
    let wrong_port = backends("Cluster", &port_81, &[], &nodes());
    assert!(wrong_port.is_err_and(|e| e.contains("no port 81")));
}

#[test]
fn weights_are_proportional_and_never_zero_for_a_node_with_pods() {
    assert_eq!(weight_for(3, 3, 100), 100);
    assert_eq!(weight_for(1, 3, 100), 34);
    assert_eq!(weight_for(1, 1000, 100), 1);
    assert_eq!(weight_for(0, 2, 100), FORWARDING_ONLY_WEIGHT);
    assert_eq!(weight_for(0, 0, 100), 100);
}

#[test]
fn node_heartbeats_are_dropped_while_real_changes_and_deletions_pass() {
    let mut changes = Changes::new(node_fingerprint);
    let first = node("node-1", Some("cn-hangzhou.i-0001"), true);
    assert!(
        changes
            .relevant(watcher::Event::InitApply(first.clone()))
            .is_some()
    );
    let mut heartbeat = first.clone();
    heartbeat.metadata.resource_version = Some("999".into());
    heartbeat
        .metadata
        .annotations
        .get_or_insert_default()
        .insert("heartbeat".into(), "now".into());
    assert!(changes.relevant(watcher::Event::Apply(heartbeat)).is_none());
    let not_ready = node("node-1", Some("cn-hangzhou.i-0001"), false);
    assert!(
        changes
            .relevant(watcher::Event::Apply(not_ready.clone()))
            .is_some()
    );
    assert!(
        changes
            .relevant(watcher::Event::Apply(not_ready.clone()))
            .is_none()
    );
    assert!(
        changes
            .relevant(watcher::Event::Delete(not_ready.clone()))
            .is_some()
    );
    assert!(
        changes.relevant(watcher::Event::Apply(not_ready)).is_some(),
        "a node that comes back"
    );
    assert!(changes.relevant(watcher::Event::Init).is_none());
}

#[test]
fn nodes_left_out_as_the_cloud_controller_manager_leaves_them_out() {
    let mut all = nodes();
    all.push(node("node-4", Some("cn-hangzhou.i-0004"), true));
    all.push(node("node-5", Some("cn-hangzhou.i-0005"), false));
    all.push(node("node-6", Some("cn-hangzhou.i-0006"), true));
    for (i, node) in all.iter_mut().enumerate() {
        node.metadata
            .labels
            .get_or_insert_default()
            .insert("pool".into(), if i == 3 { "batch" } else { "web" }.into());
    }
    // node-1: the cloud controller manager's exclude label; node-2: cordoned; node-3: being
    // removed by the cluster autoscaler; node-4: not selected; node-5: NotReady.
    all[0]
        .metadata
        .labels
        .get_or_insert_default()
        .insert(EXCLUDE_LABELS[2].into(), "true".into());
    let node_2 = all[1].spec.get_or_insert_default();
    node_2.unschedulable = Some(true);
    all[2].spec.get_or_insert_default().taints = Some(vec![
        serde_json::from_value(json!({"key": AUTOSCALER_DELETION_TAINT, "effect": "NoSchedule"}))
            .unwrap_or_else(|e| unreachable!("bad taint: {e}")),
    ]);
    let slices = [ready_on(&[
        "node-1", "node-2", "node-3", "node-4", "node-5", "node-6",
    ])];
    let mut choice = BackendChoice::new(80, Weighting::PodsPerNode);
    choice.node_selector = BTreeMap::from([("pool".to_owned(), "web".to_owned())]);
    choice.exclude_unschedulable = true;
    for policy in ["Local", "Cluster"] {
        let expected = on_node_port(&[("i-0006", 100)]);
        assert_eq!(
            backends(policy, &choice, &slices, &all),
            Ok(expected),
            "{policy}"
        );
    }
    choice.exclude_unschedulable = false;
    let servers: Vec<String> = backends("Local", &choice, &slices, &all)
        .map(|found| found.into_keys().map(|k| k.server_id).collect())
        .unwrap_or_default();
    assert_eq!(
        servers,
        ["i-0002", "i-0006"],
        "a cordoned node stays unless asked"
    );
}

#[test]
fn a_total_weight_is_shared_in_proportion_to_the_pods() {
    let slices = [ready_on(&["node-1", "node-1", "node-1", "node-2"])];
    let mut choice = BackendChoice::new(80, Weighting::PodsPerNode);
    choice.total_weight = Some(40);
    assert_eq!(
        backends("Local", &choice, &slices, &nodes()),
        Ok(on_node_port(&[("i-0001", 30), ("i-0002", 10)]))
    );
    choice.total_weight = Some(1);
    assert_eq!(
        backends("Local", &choice, &slices, &nodes()),
        Ok(on_node_port(&[("i-0001", 1), ("i-0002", 1)])),
        "at least 1 each"
    );
}

#[test]
fn a_default_weight_takes_the_place_of_100() {
    let slices = [ready_on(&["node-1", "node-1", "node-2"])];
    let mut choice = BackendChoice::new(80, Weighting::PodsPerNode);
    choice.top_weight = 60;
    assert_eq!(
        backends("Local", &choice, &slices, &nodes()),
        Ok(on_node_port(&[("i-0001", 60), ("i-0002", 30)]))
    );
    choice.weighting = Weighting::Equal;
    assert_eq!(
        backends("Cluster", &choice, &[], &nodes()),
        Ok(on_node_port(&[
            ("i-0001", 60),
            ("i-0002", 60),
            ("i-0003", 60)
        ]))
    );
}

#[test]
fn a_node_change_matters_to_cluster_groups_and_to_local_groups_with_endpoints_there() {
    let slices = [slice(&[("node-1", true, false), ("node-2", false, false)])];
    let cluster = service("Cluster", Some(30080));
    let local = service("Local", Some(30080));
    assert!(node_matters(&cluster, slices.iter(), "node-3"));
    assert!(node_matters(&cluster, [].iter(), "node-3"));
    assert!(node_matters(&local, slices.iter(), "node-1"));
    // An endpoint not ready still counts: a pod held by a readiness gate is a backend before then.
    assert!(node_matters(&local, slices.iter(), "node-2"));
    assert!(!node_matters(&local, slices.iter(), "node-3"));
}
