//! SlbVServerGroup and SlbMasterSlaveServerGroup against the local control plane and an in-process
//! slb-emulator whose ECS inventory holds i-0001..i-0040 (the kwok nodes are i-0001..i-0003):
//! explicit backends changed in chunks of 20, backends that follow a Service's endpoints, a missing
//! instance that appears, drift restored, and master-slave groups.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use operator_support::*;
use serde_json::json;
use slb_api::{
    DescribeMasterSlaveServerGroupsRequest, DescribeVServerGroupAttributeRequest,
    ModifyVServerGroupBackendServersRequest, RemoveVServerGroupBackendServersRequest, SlbApi,
    VServerBackendServer,
};
use slb_emulator::RunningEmulator;
use slb_operator::conditions::is_ready;
use slb_operator::controller::vserver_group::{SERVERS_PER_CALL, creation_name};
use slb_operator::crd::{SlbInstance, SlbListener, SlbMasterSlaveServerGroup, SlbVServerGroup};

const TIMEOUT: Duration = Duration::from_secs(40);

fn group(name: &str, spec: serde_json::Value) -> SlbVServerGroup {
    object("SlbVServerGroup", name, spec)
}

async fn ready_group(api: &Api<SlbVServerGroup>, name: &str) -> SlbVServerGroup {
    wait_ready(api, name, TIMEOUT).await
}

/// The group's backends in SLB, as `server:port → weight`.
async fn remote_backends(slb: &dyn SlbApi, id: &str) -> BTreeMap<String, u32> {
    let group = slb
        .describe_vserver_group_attribute(&DescribeVServerGroupAttributeRequest {
            v_server_group_id: id.to_owned(),
        })
        .await
        .unwrap();
    group
        .backend_servers
        .into_iter()
        .map(|b| {
            (
                format!("{}:{}", b.server_id, b.port.unwrap()),
                b.weight.unwrap_or(100),
            )
        })
        .collect()
}

async fn group_names(slb: &dyn SlbApi, lb: &str) -> Vec<String> {
    let groups = vserver_groups(slb, lb).await;
    groups.into_iter().map(|g| g.v_server_group_name).collect()
}

/// Creates the SlbInstance `name` and returns its load balancer ID once it is Ready.
async fn instance(scene: &Scene, name: &str) -> String {
    ready_instance(&scene.client, scene.ns(), name, json!({}), TIMEOUT).await
}

/// Successful calls of `action` since call `after`. (The call log cuts long parameters, so calls are
/// counted; the emulator rejects any list of more than 20 servers, so a count proves the chunking.)
fn successful_calls(emulator: &RunningEmulator, action: &str, after: u64) -> usize {
    emulator
        .calls()
        .iter()
        .filter(|c| c.sequence > after && c.action == action && c.code == "OK")
        .count()
}

/// Long enough that an operator restart falls in the middle of a drain.
const DRAIN_SECONDS: u64 = 24;

fn last_sequence(emulator: &RunningEmulator) -> u64 {
    emulator.calls().last().map_or(0, |c| c.sequence)
}

fn backends_json(entries: &[(&str, u16, Option<u32>)]) -> serde_json::Value {
    entries
        .iter()
        .map(|(id, port, weight)| match weight {
            Some(weight) => json!({"serverId": id, "port": port, "weight": weight}),
            None => json!({"serverId": id, "port": port}),
        })
        .collect()
}

#[tokio::test]
async fn explicit_backends_are_created_changed_in_chunks_of_twenty_and_deleted() {
    let scene =
        Scene::with_emulator("op-vsg", start_emulator_with_ecs(&ecs_inventory()).await).await;
    let lb = instance(&scene, "lb").await;
    let api: Api<SlbVServerGroup> = scene.api();

    let initial = backends_json(&[
        ("i-0001", 80, None),
        ("i-0002", 80, Some(50)),
        ("i-0003", 8080, Some(0)),
    ]);
    create(
        &api,
        "explicit",
        json!({"instanceRef": {"name": "lb"}, "backends": initial}),
    )
    .await;
    let status = ready_group(&api, "explicit").await.status.unwrap();
    let id = status
        .v_server_group_id
        .clone()
        .expect("the ID is recorded");
    assert_eq!(status.load_balancer_id.as_deref(), Some(lb.as_str()));
    assert_eq!(status.backends.len(), 3);
    assert_eq!(
        group_names(scene.slb(), &lb).await,
        [format!("{}/explicit", scene.ns())],
        "one group, under the declared name"
    );
    let expected: BTreeMap<String, u32> = [
        ("i-0001:80".to_owned(), 100),
        ("i-0002:80".to_owned(), 50),
        ("i-0003:8080".to_owned(), 0),
    ]
    .into();
    assert_eq!(remote_backends(scene.slb(), &id).await, expected);

    // 25 backends: 23 added, two reweighted, one removed.
    let before_update = last_sequence(&scene.emulator);
    let mut wanted: Vec<(String, u16, Option<u32>)> = (1..=25)
        .map(|i| (format!("i-{i:04}"), 80, Some(10)))
        .collect();
    wanted[0].2 = Some(100);
    let wanted_json: Vec<serde_json::Value> = wanted
        .iter()
        .map(|(id, port, weight)| json!({"serverId": id, "port": port, "weight": weight}))
        .collect();
    api.patch(
        "explicit",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"backends": wanted_json}})),
    )
    .await
    .unwrap();
    let updated = ready_group(&api, "explicit").await;
    let expected: BTreeMap<String, u32> = wanted
        .iter()
        .map(|(id, port, weight)| (format!("{id}:{port}"), weight.unwrap()))
        .collect();
    assert_eq!(remote_backends(scene.slb(), &id).await, expected);
    assert_eq!(updated.status.unwrap().backends.len(), 25);
    let calls = |action| successful_calls(&scene.emulator, action, before_update);
    assert_eq!(
        calls("AddVServerGroupBackendServers"),
        23usize.div_ceil(SERVERS_PER_CALL),
        "23 additions in calls of at most 20"
    );
    assert_eq!(
        calls("ModifyVServerGroupBackendServers"),
        1,
        "i-0002 reweighted (i-0001 keeps 100)"
    );
    assert_eq!(
        calls("RemoveVServerGroupBackendServers"),
        1,
        "i-0003:8080 removed"
    );
    assert_eq!(
        calls("SetVServerGroupAttribute"),
        0,
        "SetVServerGroupAttribute replaces everything and is not used for backends"
    );
    assert_eq!(
        scene
            .emulator
            .counters()
            .by_code
            .get("TooManyBackendServers"),
        None
    );

    // Removing most backends: 24 removals in two calls.
    let before_shrink = last_sequence(&scene.emulator);
    api.patch(
        "explicit",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"backends": backends_json(&[("i-0001", 80, None)])}})),
    )
    .await
    .unwrap();
    ready_group(&api, "explicit").await;
    assert_eq!(
        remote_backends(scene.slb(), &id).await,
        [("i-0001:80".to_owned(), 100)].into()
    );
    assert_eq!(
        successful_calls(
            &scene.emulator,
            "RemoveVServerGroupBackendServers",
            before_shrink
        ),
        2,
        "24 removals in calls of at most 20"
    );

    // A new name: SetVServerGroupAttribute with the name only, the backends stay.
    let before_rename = last_sequence(&scene.emulator);
    api.patch(
        "explicit",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"name": "renamed-group"}})),
    )
    .await
    .unwrap();
    ready_group(&api, "explicit").await;
    assert_eq!(group_names(scene.slb(), &lb).await, ["renamed-group"]);
    assert_eq!(
        successful_calls(&scene.emulator, "SetVServerGroupAttribute", before_rename),
        1
    );
    assert_eq!(
        remote_backends(scene.slb(), &id).await,
        [("i-0001:80".to_owned(), 100)].into()
    );

    delete_and_wait(&api, "explicit", TIMEOUT).await;
    assert!(
        group_names(scene.slb(), &lb).await.is_empty(),
        "the group is deleted"
    );
    scene
        .assert_events(&["Created", "Updated", "Deleted"])
        .await;

    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn a_group_waits_for_its_instance_then_follows_when_it_appears() {
    let scene = Scene::with_emulator(
        "op-vsg-ref",
        start_emulator_with_ecs(&ecs_inventory()).await,
    )
    .await;
    let api: Api<SlbVServerGroup> = scene.api();
    create(&api, "early", json!({"instanceRef": {"name": "late"}, "backends": backends_json(&[("i-0001", 80, None)])})).await;
    let waiting = eventually("ReferenceNotFound on the group", TIMEOUT, || async {
        let object = api.get("early").await.ok()?;
        let ready = object
            .conditions()
            .into_iter()
            .find(|c| c.type_ == "Ready")?;
        (ready.reason == "ReferenceNotFound").then_some(ready)
    })
    .await;
    assert_eq!(waiting.status, "False");
    assert!(waiting.message.contains("late"), "{}", waiting.message);
    assert_eq!(
        scene
            .emulator
            .counters()
            .by_action
            .get("CreateVServerGroup"),
        None,
        "nothing is created without the instance"
    );

    // Well below the resync period: only the watch on SlbInstances can bring the group along.
    let lb = instance(&scene, "late").await;
    let ready = ready_group(&api, "early").await;
    assert_eq!(
        ready.status.unwrap().load_balancer_id.as_deref(),
        Some(lb.as_str())
    );

    delete_and_wait(&api, "early", TIMEOUT).await;
    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "late", TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn drift_is_restored_and_the_steady_state_writes_nothing() {
    let scene = Scene::without_operator(
        "op-vsg-drift",
        start_emulator_with_ecs(&ecs_inventory()).await,
    )
    .await;
    scene.run_operator_resyncing(Duration::from_secs(3)).await;
    let slb = scene.slb();
    instance(&scene, "lb").await;
    let api: Api<SlbVServerGroup> = scene.api();
    create(&api, "drift", json!({"instanceRef": {"name": "lb"}, "backends": backends_json(&[("i-0001", 80, None), ("i-0002", 80, Some(40))])})).await;
    let created = ready_group(&api, "drift").await;
    let id = created.status.unwrap().v_server_group_id.unwrap();
    let declared = remote_backends(scene.slb(), &id).await;

    // Idle for more than two resync periods: describes only, no write.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let writes_before = scene.emulator.counters().writes;
    let idle_from = last_sequence(&scene.emulator);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        scene.emulator.counters().writes,
        writes_before,
        "no write in the steady state"
    );
    // One describe per resync period (3 s, plus up to 10% jitter) over 8 s.
    let describes = successful_calls(&scene.emulator, "DescribeVServerGroupAttribute", idle_from);
    assert!((1..=3).contains(&describes), "{describes} describes in 8 s");

    // Changes made outside: one backend removed, the other reweighted.
    let server = |id: &str, weight| VServerBackendServer {
        server_id: id.into(),
        port: Some(80),
        weight: Some(weight),
    };
    slb.remove_vserver_group_backend_servers(&RemoveVServerGroupBackendServersRequest {
        v_server_group_id: id.clone(),
        backend_servers: vec![server("i-0002", 40)],
    })
    .await
    .unwrap();
    slb.modify_vserver_group_backend_servers(&ModifyVServerGroupBackendServersRequest {
        v_server_group_id: id.clone(),
        old_backend_servers: vec![server("i-0001", 100)],
        new_backend_servers: vec![server("i-0001", 7)],
    })
    .await
    .unwrap();
    eventually("the declared backends to be restored", TIMEOUT, || async {
        (remote_backends(scene.slb(), &id).await == declared).then_some(())
    })
    .await;
    scene.wait_for_event("DriftRestored", TIMEOUT).await;

    delete_and_wait(&api, "drift", TIMEOUT).await;
    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}

/// The weights pods-per-node gives: 100 for the busiest node, the others in proportion.
fn expected_weights(pods: &BTreeMap<String, u32>, node_port: u16) -> BTreeMap<String, u32> {
    let most = pods.values().copied().max().unwrap_or(0);
    pods.iter()
        .map(|(id, count)| (format!("{id}:{node_port}"), (count * 100).div_ceil(most)))
        .collect()
}

/// Waits until `replicas` pods are Ready and SLB holds exactly their nodes with the expected weights.
async fn backends_follow(
    client: &Client,
    namespace: &str,
    slb: &dyn SlbApi,
    id: &str,
    node_port: u16,
    replicas: u32,
) -> BTreeMap<String, u32> {
    eventually(
        &format!("the backends to follow {replicas} pods"),
        Duration::from_secs(90),
        || async {
            let pods = ready_pods_per_instance(client, namespace).await;
            if pods.values().sum::<u32>() != replicas {
                return None;
            }
            let expected = expected_weights(&pods, node_port);
            (remote_backends(slb, id).await == expected).then_some(expected)
        },
    )
    .await
}

#[tokio::test]
async fn service_backends_follow_the_endpoints_of_a_deployment() {
    let scene = Scene::with_emulator(
        "op-vsg-svc",
        start_emulator_with_ecs(&ecs_inventory()).await,
    )
    .await;
    instance(&scene, "lb").await;

    create_deployment(&scene.client, scene.ns(), 3).await;
    let labels = json!({"app": "web"});
    let services: Api<Service> = scene.api();
    let service = services
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "web"},
                "spec": {
                    "type": "NodePort",
                    // Only the nodes hosting pods are backends.
                    "externalTrafficPolicy": "Local",
                    "selector": labels,
                    "ports": [{"port": 80, "targetPort": 8080}]
                }
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let node_port = service.spec.unwrap().ports.unwrap()[0].node_port.unwrap();
    let node_port = u16::try_from(node_port).unwrap();

    let api: Api<SlbVServerGroup> = scene.api();
    create(&api, "web", json!({"instanceRef": {"name": "lb"}, "serviceRef": {"name": "web", "port": 80, "drainSeconds": DRAIN_SECONDS}})).await;
    let created = ready_group(&api, "web").await;
    let id = created.status.unwrap().v_server_group_id.unwrap();
    let three = backends_follow(&scene.client, scene.ns(), scene.slb(), &id, node_port, 3).await;
    assert!(
        three
            .keys()
            .all(|k| k.ends_with(&format!(":{node_port}")) && k.starts_with("i-000")),
        "kwok nodes on the NodePort: {three:?}"
    );

    // Scaled down: the nodes that lose their pods drain at weight 0, then go, on time even though
    // the operator restarts in the middle of the drain.
    assert!(three.len() > 1, "the scheduler spreads the pods: {three:?}");
    let before_scale = last_sequence(&scene.emulator);
    scale(&scene.client, scene.ns(), 1).await;
    // Every node but the one keeping the last pod drains.
    let draining = eventually("the drain to be recorded", TIMEOUT, || async {
        let draining = api.get("web").await.ok()?.status?.draining;
        (draining.len() == three.len() - 1).then_some(draining)
    })
    .await;
    let drained_to_zero = scene.emulator.calls().iter().any(|c| {
        c.sequence > before_scale
            && c.action == "ModifyVServerGroupBackendServers"
            && c.parameters
                .get("NewBackendServers")
                .is_some_and(|v| v.contains("\"Weight\":0"))
    });
    assert!(drained_to_zero, "the nodes went to weight 0 before removal");
    scene.stop_operator().await;
    let drain = Duration::from_secs(DRAIN_SECONDS);
    let started = draining.iter().map(|d| d.since.0).max().unwrap();
    let restart_at = started + drain / 2;
    tokio::time::sleep(
        Duration::try_from(restart_at.duration_since(Timestamp::now())).unwrap_or_default(),
    )
    .await;
    let restarted = Timestamp::now();
    scene.run_operator(|_| {}).await;
    let one = backends_follow(&scene.client, scene.ns(), scene.slb(), &id, node_port, 1).await;
    assert_eq!(one.len(), 1);
    for backend in &draining {
        let removed = scene
            .emulator
            .calls()
            .into_iter()
            .find(|c| {
                c.action == "RemoveVServerGroupBackendServers"
                    && c.code == "OK"
                    && c.parameters
                        .get("BackendServers")
                        .is_some_and(|v| v.contains(&backend.server_id))
            })
            .unwrap_or_else(|| panic!("{} is removed", backend.server_id));
        let removed_at: Timestamp = removed.time.parse().unwrap();
        assert!(
            removed_at >= backend.since.0 + drain,
            "{} drained for its whole period: from {} to {removed_at}",
            backend.server_id,
            backend.since.0
        );
        // Had the restart forgotten the drain, it would have started over at the restart.
        assert!(
            removed_at < restarted + drain,
            "{} drained from {}, not again from the restart at {restarted}; removed at {removed_at}",
            backend.server_id,
            backend.since.0
        );
    }
    // The status follows SLB in the reconcile after the removal, which may still be writing it.
    eventually(
        "the status to list the one remaining backend",
        Duration::from_secs(30),
        || async {
            let group = api.get("web").await.ok()?;
            let ready = is_ready(&group.conditions(), group.metadata.generation);
            (ready && group.status?.backends.len() == 1).then_some(())
        },
    )
    .await;

    // Scaled up again: the nodes come back.
    scale(&scene.client, scene.ns(), 3).await;
    backends_follow(&scene.client, scene.ns(), scene.slb(), &id, node_port, 3).await;

    delete_and_wait(&api, "web", TIMEOUT).await;
    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn a_master_slave_group_is_created_restored_held_by_its_listener_and_deleted() {
    let scene =
        Scene::without_operator("op-mssg", start_emulator_with_ecs(&ecs_inventory()).await).await;
    scene.run_operator_resyncing(Duration::from_secs(3)).await;
    let slb = scene.slb();
    let lb = instance(&scene, "lb").await;
    let api: Api<SlbMasterSlaveServerGroup> = scene.api();
    api.create(
        &PostParams::default(),
        &object::<SlbMasterSlaveServerGroup>(
            "SlbMasterSlaveServerGroup",
            "db",
            json!({
                "instanceRef": {"name": "lb"},
                "master": {"serverId": "i-0001", "port": 5432},
                "slave": {"serverId": "i-0002", "port": 5432, "weight": 50}
            }),
        ),
    )
    .await
    .unwrap();
    let created = wait_ready(&api, "db", TIMEOUT).await;
    let id = created
        .status
        .unwrap()
        .master_slave_server_group_id
        .unwrap();
    let listed = slb
        .describe_master_slave_server_groups(&DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap()
        .master_slave_server_groups;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].master_slave_server_group_id, id);
    assert_eq!(
        listed[0].master_slave_server_group_name,
        format!("{}/db", scene.ns())
    );

    // The spec is immutable: the apiserver says so.
    let change = api
        .patch(
            "db",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"slave": {"serverId": "i-0003", "port": 5432}}})),
        )
        .await;
    let message = change.expect_err("an immutable spec").to_string();
    assert!(message.contains("cannot be changed"), "{message}");

    // Deleted outside: created again at the next resync.
    slb.delete_master_slave_server_group(&slb_api::DeleteMasterSlaveServerGroupRequest {
        master_slave_server_group_id: id.clone(),
    })
    .await
    .unwrap();
    let id = eventually("the group to be created again", TIMEOUT, || async {
        let status = api.get("db").await.ok()?.status?;
        status.master_slave_server_group_id.filter(|new| *new != id)
    })
    .await;
    scene.wait_for_event("DriftRestored", TIMEOUT).await;

    // A listener uses the group: deleting the object leaves it, and says why.
    let listeners: Api<SlbListener> = scene.api();
    listeners
        .create(
            &PostParams::default(),
            &object::<SlbListener>(
                "SlbListener",
                "db",
                json!({"instanceRef": {"name": "lb"}, "listenerPort": 5432, "protocol": "TCP",
                       "backendServerPort": 5432, "masterSlaveServerGroupRef": {"name": "db"}}),
            ),
        )
        .await
        .unwrap();
    wait_ready(&listeners, "db", TIMEOUT).await;
    api.delete("db", &DeleteParams::default()).await.unwrap();
    eventually("the group to report it is in use", TIMEOUT, || async {
        let object = api.get("db").await.ok()?;
        let conditions = object.status?.conditions;
        let ready = conditions.into_iter().find(|c| c.type_ == "Ready")?;
        ready.message.contains("still uses it").then_some(())
    })
    .await;
    let listed = slb
        .describe_master_slave_server_groups(&DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap()
        .master_slave_server_groups;
    assert_eq!(listed.len(), 1, "never half-deleted");
    assert_eq!(listed[0].master_slave_server_group_id, id);
    delete_and_wait(&listeners, "db", TIMEOUT).await;
    eventually("the group object to be gone", TIMEOUT, || async {
        api.get_opt("db").await.unwrap().is_none().then_some(())
    })
    .await;
    let left = slb
        .describe_master_slave_server_groups(&DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: lb,
        })
        .await
        .unwrap()
        .master_slave_server_groups;
    assert!(left.is_empty(), "the group is deleted: {left:?}");
    let reasons = event_reasons(&scene.client, scene.ns()).await;
    assert!(reasons.iter().any(|r| r == "Created"), "{reasons:?}");
    assert!(reasons.iter().any(|r| r == "Deleted"), "{reasons:?}");

    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn a_group_created_before_a_crash_is_found_again_and_duplicates_are_removed() {
    let scene = Scene::with_emulator(
        "op-vsg-crash",
        start_emulator_with_ecs(&ecs_inventory()).await,
    )
    .await;
    let lb = instance(&scene, "lb").await;
    scene.stop_operator().await;

    // While no operator runs: the object, and the groups a crashed create (retried once) left behind.
    let api: Api<SlbVServerGroup> = scene.api();
    let object = api
        .create(
            &PostParams::default(),
            &group(
                "crash",
                json!({"instanceRef": {"name": "lb"}, "backends": backends_json(&[("i-0001", 80, None)])}),
            ),
        )
        .await
        .unwrap();
    let uid = object.metadata.uid.unwrap();
    let mut left_behind = Vec::new();
    for _ in 0..2 {
        let created = scene
            .slb()
            .create_vserver_group(&slb_api::CreateVServerGroupRequest {
                load_balancer_id: lb.clone(),
                v_server_group_name: creation_name(&uid),
                backend_servers: vec![VServerBackendServer {
                    server_id: "i-0001".into(),
                    port: Some(80),
                    weight: Some(100),
                }],
            })
            .await
            .unwrap();
        left_behind.push(created.v_server_group_id);
    }

    scene.run_operator(|_| {}).await;
    // Changes to the instance wake the group's reconcile again and again, so that some run on a
    // cached copy that has not yet seen the status the previous one wrote.
    let instances: Api<SlbInstance> = scene.api();
    let touches = tokio::spawn({
        let instances = instances.clone();
        async move {
            for touch in 0.. {
                let patch = json!({"metadata": {"annotations": {"test/touch": touch.to_string()}}});
                let _ = instances
                    .patch("lb", &PatchParams::default(), &Patch::Merge(patch))
                    .await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let ready = ready_group(&api, "crash").await;
    touches.abort();
    let id = ready.status.unwrap().v_server_group_id.unwrap();
    assert!(left_behind.contains(&id), "{id} is one of {left_behind:?}");
    assert_eq!(
        group_names(scene.slb(), &lb).await,
        [format!("{}/crash", scene.ns())],
        "one group, renamed; the duplicate is gone"
    );
    assert_eq!(
        scene
            .emulator
            .counters()
            .by_action
            .get("CreateVServerGroup"),
        Some(&2),
        "no third group"
    );

    delete_and_wait(&api, "crash", TIMEOUT).await;
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn a_service_backed_group_follows_its_service_appearing_and_changing() {
    let scene = Scene::with_emulator(
        "op-vsg-svcref",
        start_emulator_with_ecs(&ecs_inventory()).await,
    )
    .await;
    instance(&scene, "lb").await;
    let api: Api<SlbVServerGroup> = scene.api();
    create(&api, "svc", json!({"instanceRef": {"name": "lb"}, "serviceRef": {"name": "edge", "port": 80, "weighting": "Equal"}})).await;
    let ready_reason = |reason: &'static str, needle: &'static str| {
        let api = api.clone();
        async move {
            eventually(&format!("Ready reason {reason}"), TIMEOUT, || async {
                let object = api.get("svc").await.ok()?;
                let ready = object
                    .conditions()
                    .into_iter()
                    .find(|c| c.type_ == "Ready")?;
                (ready.reason == reason && ready.message.contains(needle)).then_some(())
            })
            .await
        }
    };
    ready_reason("ReferenceNotFound", "Service").await;

    // A ClusterIP Service has no NodePort to send traffic to.
    let services: Api<Service> = scene.api();
    services
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "edge"},
                "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    ready_reason("ReconcileError", "nodePort").await;

    // As a NodePort Service with the default externalTrafficPolicy (Cluster), every ready node is a
    // backend, even with no endpoint at all.
    let changed = services
        .patch(
            "edge",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"type": "NodePort"}})),
        )
        .await
        .unwrap();
    let node_port = changed.spec.unwrap().ports.unwrap()[0].node_port.unwrap();
    let ready = ready_group(&api, "svc").await;
    let id = ready.status.unwrap().v_server_group_id.unwrap();
    let expected: BTreeMap<String, u32> = (1..=3)
        .map(|i| (format!("i-{i:04}:{node_port}"), 100))
        .collect();
    assert_eq!(remote_backends(scene.slb(), &id).await, expected);

    delete_and_wait(&api, "svc", TIMEOUT).await;
    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn a_recorded_group_on_another_load_balancer_is_never_changed_or_deleted() {
    let scene = Scene::with_emulator(
        "op-vsg-elsewhere",
        start_emulator_with_ecs(&ecs_inventory()).await,
    )
    .await;
    let slb = scene.slb();
    instance(&scene, "lb").await;
    let api: Api<SlbVServerGroup> = scene.api();
    let backends = backends_json(&[("i-0001", 80, None)]);
    create(
        &api,
        "a",
        json!({"instanceRef": {"name": "lb"}, "backends": backends}),
    )
    .await;
    ready_group(&api, "a").await;

    // Someone else's group, on a load balancer made by hand.
    let other = made_by_hand(slb, "someone-else").await.load_balancer_id;
    let theirs = slb
        .create_vserver_group(&slb_api::CreateVServerGroupRequest {
            load_balancer_id: other.clone(),
            v_server_group_name: "theirs".into(),
            backend_servers: vec![VServerBackendServer {
                server_id: "i-0002".into(),
                port: Some(80),
                weight: Some(100),
            }],
        })
        .await
        .unwrap()
        .v_server_group_id;
    let writes_before = scene.emulator.counters().writes;

    // A status written by hand names their group; a spec change makes the operator look.
    api.patch_status(
        "a",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"vServerGroupId": theirs}})),
    )
    .await
    .unwrap();
    let backends = backends_json(&[("i-0003", 80, None)]);
    patch_spec(&api, "a", json!({"backends": backends})).await;
    let message = wait_not_ready(&api, "a", "NotOwned", TIMEOUT).await;
    assert!(message.contains(&theirs), "{message}");

    // Deleting the object leaves their group alone too.
    delete_and_wait(&api, "a", TIMEOUT).await;
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        Vec::<String>::new(),
        "nothing was written"
    );
    assert_eq!(group_names(slb, &other).await, ["theirs"]);
    let kept: BTreeMap<String, u32> = [("i-0002:80".to_owned(), 100)].into();
    assert_eq!(remote_backends(slb, &theirs).await, kept);

    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}
