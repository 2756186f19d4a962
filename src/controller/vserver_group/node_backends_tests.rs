use super::*;
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

#[test]
fn local_policy_uses_the_nodes_with_ready_endpoints_weighted_by_pods() {
    let slices = [slice(&[
        ("node-1", true, false),
        ("node-1", true, false),
        ("node-2", true, false),
    ])];
    let found = service_backends(
        &service("Local", Some(30080)),
        80,
        Weighting::PodsPerNode,
        &slices,
        &nodes(),
    );
    let expected = Backends::from([(key("i-0001", 30080), 100), (key("i-0002", 30080), 50)]);
    assert_eq!(found.map(|f| f.backends), Ok(expected));
}

#[test]
fn equal_weighting_gives_every_node_100() {
    let slices = [slice(&[
        ("node-1", true, false),
        ("node-1", true, false),
        ("node-2", true, false),
    ])];
    let found = service_backends(
        &service("Local", Some(30080)),
        80,
        Weighting::Equal,
        &slices,
        &nodes(),
    );
    let expected = Backends::from([(key("i-0001", 30080), 100), (key("i-0002", 30080), 100)]);
    assert_eq!(found.map(|f| f.backends), Ok(expected));
}

#[test]
fn cluster_policy_uses_every_ready_node() {
    let mut all = nodes();
    all.push(node("node-4", Some("cn-hangzhou.i-0004"), false));
    let slices = [slice(&[("node-1", true, false)])];
    let found = service_backends(
        &service("Cluster", Some(30080)),
        80,
        Weighting::PodsPerNode,
        &slices,
        &all,
    );
    // node-4 is not Ready; nodes without pods only forward, so they get the least weight.
    let expected = Backends::from([
        (key("i-0001", 30080), 100),
        (key("i-0002", 30080), 1),
        (key("i-0003", 30080), 1),
    ]);
    assert_eq!(found.map(|f| f.backends), Ok(expected));
}

#[test]
fn terminating_and_unready_endpoints_do_not_count() {
    let slices = [slice(&[
        ("node-1", true, false),
        ("node-2", false, true),
        ("node-3", false, false),
    ])];
    let found = service_backends(
        &service("Local", Some(30080)),
        80,
        Weighting::PodsPerNode,
        &slices,
        &nodes(),
    );
    assert_eq!(
        found.map(|f| f.backends),
        Ok(Backends::from([(key("i-0001", 30080), 100)]))
    );
}

#[test]
fn a_node_without_a_usable_provider_id_is_skipped_and_reported() {
    let all = vec![
        node("node-1", Some("cn-hangzhou.i-0001"), true),
        node("node-2", Some("kwok://node-2"), true),
        node("node-3", None, true),
    ];
    let slices = [slice(&[
        ("node-1", true, false),
        ("node-2", true, false),
        ("node-3", true, false),
    ])];
    let found = service_backends(
        &service("Local", Some(30080)),
        80,
        Weighting::PodsPerNode,
        &slices,
        &all,
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(found.backends.len(), 1);
    let skipped: Vec<&str> = found.skipped.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(skipped, ["node-2", "node-3"]);
}

#[test]
fn excluded_nodes_are_never_backends() {
    let mut all = nodes();
    all[1]
        .metadata
        .labels
        .get_or_insert_default()
        .insert(EXCLUDE_LABEL.into(), String::new());
    let found = service_backends(
        &service("Cluster", Some(30080)),
        80,
        Weighting::Equal,
        &[],
        &all,
    );
    let ids: Vec<String> = found
        .map(|f| f.backends.into_keys().map(|k| k.server_id).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["i-0001", "i-0003"]);
}

#[test]
fn a_port_without_a_node_port_or_a_missing_port_is_an_error() {
    let no_node_port = service_backends(
        &service("Cluster", None),
        80,
        Weighting::Equal,
        &[],
        &nodes(),
    );
    assert!(no_node_port.is_err_and(|e| e.contains("nodePort")));
    let wrong_port = service_backends(
        &service("Cluster", Some(30080)),
        81,
        Weighting::Equal,
        &[],
        &nodes(),
    );
    assert!(wrong_port.is_err_and(|e| e.contains("no port 81")));
}

#[test]
fn weights_are_proportional_and_never_zero_for_a_node_with_pods() {
    assert_eq!(weight_for(3, 3), 100);
    assert_eq!(weight_for(1, 3), 34);
    assert_eq!(weight_for(1, 1000), 1);
    assert_eq!(weight_for(0, 2), FORWARDING_ONLY_WEIGHT);
    assert_eq!(weight_for(0, 0), 100);
}

#[test]
fn node_heartbeats_are_dropped_while_real_changes_and_deletions_pass() {
    let mut changes = NodeChanges::default();
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
