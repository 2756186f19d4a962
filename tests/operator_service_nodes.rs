//! Which nodes a Service's groups hold, end to end: nodes of the test's own (kwok nodes labelled
//! `slb-test/pool=<namespace>`, chosen with `backend-label`) that carry each exclusion the cloud
//! controller manager honours are never backends, and come back when it is cleared; and the backend
//! annotations as SLB sees them: `default-weight`, `ignore-weight-update`, `connection-drain` on
//! (weight 0, then removed after the timeout) and off (removed at once), `backend-type: ecs`.
//!
//! The nodes carry a NoSchedule taint of their own so that no pod of another test lands on them;
//! they are deleted at the end, failed or not.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use k8s_openapi::api::core::v1::{Node, Service};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use operator_support::*;
use serde_json::{Value, json};
use slb_api::{
    DescribeVServerGroupAttributeRequest, ModifyVServerGroupBackendServersRequest,
    VServerBackendServer,
};
use slb_operator::crd::SlbVServerGroup;

const TIMEOUT: Duration = Duration::from_secs(30);
const PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";
const POOL_LABEL: &str = "slb-test/pool";

fn annotation(short_name: &str) -> String {
    format!("{PREFIX}{short_name}")
}

/// The test's nodes: their names, for the cleanup, and the pool label that selects them.
struct Pool {
    nodes: Api<Node>,
    pool: String,
    names: std::sync::Mutex<Vec<String>>,
}

impl Pool {
    fn new(scene: &Scene) -> Self {
        Self {
            nodes: Api::all(scene.client.clone()),
            pool: scene.ns().to_owned(),
            names: std::sync::Mutex::default(),
        }
    }

    /// Creates the node `<pool>-<suffix>` on ECS instance `instance`, in the pool; kwok plays its
    /// kubelet (and makes it Ready) unless `kwok` is false. `extra` is merged into the Node.
    async fn add(&self, suffix: &str, instance: &str, kwok: bool, extra: Value) -> String {
        let name = format!("{}-{suffix}", self.pool);
        let mut node = json!({
            "metadata": {
                "name": name,
                "labels": {"kubernetes.io/hostname": name, POOL_LABEL: self.pool},
            },
            "spec": {
                "providerID": format!("{REGION}.{instance}"),
                "taints": self.own_taints(),
            },
        });
        if kwok {
            node["metadata"]["annotations"] =
                json!({"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"});
        }
        merge(&mut node, extra);
        self.names.lock().unwrap().push(name.clone());
        self.nodes
            .create(
                &PostParams::default(),
                &serde_json::from_value(node).unwrap(),
            )
            .await
            .expect("a test node");
        name
    }

    async fn patch(&self, name: &str, patch: Value) {
        self.nodes
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }

    /// The taints a node of the pool has when nothing else taints it.
    fn own_taints(&self) -> Value {
        json!([{"key": POOL_LABEL, "value": self.pool, "effect": "NoSchedule"}])
    }

    /// Waits until kwok has made the nodes `names` Ready.
    async fn ready(&self, names: &[&str]) {
        eventually("kwok to make the nodes Ready", TIMEOUT, || async {
            for name in names {
                let node = self.nodes.get(name).await.ok()?;
                let conditions = node.status?.conditions?;
                conditions
                    .iter()
                    .find(|c| c.type_ == "Ready" && c.status == "True")?;
            }
            Some(())
        })
        .await;
    }

    async fn delete_all(&self) {
        let names = self.names.lock().unwrap().clone();
        for name in names {
            let _ = self.nodes.delete(&name, &DeleteParams::default()).await;
        }
    }
}

/// JSON merge of `patch` into `target` (objects merged key by key, anything else replaced).
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}

/// Held by each test for its run: every test's operator watches all Nodes, so one test's node
/// changes would wake the other's groups and hide a node change that failed to wake them.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `body` with a scene whose emulator knows `instances`, and a pool of nodes; deletes the
/// nodes and ends the scene whether or not `body` panics.
async fn with_pool(prefix: &str, instances: &[&str], body: impl AsyncFnOnce(&Scene, &Pool)) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let instances: Vec<String> = instances.iter().map(|i| (*i).to_owned()).collect();
    let scene = Scene::with_emulator(prefix, start_emulator_with_ecs(&instances).await).await;
    let pool = Pool::new(&scene);
    let outcome = AssertUnwindSafe(body(&scene, &pool)).catch_unwind().await;
    pool.delete_all().await;
    scene.end().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A LoadBalancer Service of ours on port 80, every node of the pool a candidate (Cluster).
async fn create_service(scene: &Scene, pool: &Pool, name: &str, mut annotations: Value) {
    annotations[annotation("backend-label")] = json!(format!("{POOL_LABEL}={}", pool.pool));
    let spec = json!({
        "type": "LoadBalancer",
        "loadBalancerClass": "slb.operator.dev/slb",
        "externalTrafficPolicy": "Cluster",
        "ports": [{"port": 80, "targetPort": 8080}]
    });
    operator_support::create_service(&scene.client, scene.ns(), name, annotations, spec).await;
}

/// Waits until the Service `name` is Ready (every child Ready, so its groups are settled), and
/// returns the condition's message.
async fn service_ready(scene: &Scene, name: &str) -> String {
    let services: Api<Service> = scene.api();
    eventually(
        &format!("the Service {name} to be Ready"),
        TIMEOUT,
        || async {
            let (status, _, message) = load_balancer_ready(&services.get(name).await.ok()?)?;
            (status == "True").then_some(message)
        },
    )
    .await
}

/// The SlbVServerGroup of the Service `service`, once it has a group in SLB.
async fn group_of(scene: &Scene, service: &str) -> SlbVServerGroup {
    let api: Api<SlbVServerGroup> = scene.api();
    eventually(&format!("the group of {service}"), TIMEOUT, || async {
        let groups = api.list(&ListParams::default()).await.ok()?;
        groups.items.into_iter().find(|group| {
            group
                .spec
                .service_ref
                .as_ref()
                .is_some_and(|r| r.name == service)
                && group
                    .status
                    .as_ref()
                    .is_some_and(|s| s.v_server_group_id.is_some())
        })
    })
    .await
}

fn group_id(group: &SlbVServerGroup) -> String {
    group
        .status
        .as_ref()
        .unwrap()
        .v_server_group_id
        .clone()
        .unwrap()
}

/// The group's backends in SLB: weight by ECS instance.
async fn backends(scene: &Scene, group_id: &str) -> BTreeMap<String, u32> {
    let group = scene
        .slb()
        .describe_vserver_group_attribute(&DescribeVServerGroupAttributeRequest {
            v_server_group_id: group_id.to_owned(),
        })
        .await
        .unwrap();
    group
        .backend_servers
        .into_iter()
        .map(|b| (b.server_id, b.weight.unwrap_or(100)))
        .collect()
}

/// Waits up to `within` until the group holds exactly `expected` (instance, weight).
async fn holds(
    scene: &Scene,
    group_id: &str,
    within: Duration,
    what: &str,
    expected: &[(&str, u32)],
) {
    let expected: BTreeMap<String, u32> = expected
        .iter()
        .map(|(id, w)| ((*id).to_owned(), *w))
        .collect();
    let mut last = BTreeMap::new();
    let found = tokio::time::timeout(within, async {
        loop {
            last = backends(scene, group_id).await;
            if last == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "{what}: the group holds {last:?}, not {expected:?}"
    );
}

#[tokio::test]
async fn excluded_nodes_are_never_backends_and_return_when_cleared() {
    let instances = [
        "i-excl01", "i-excl02", "i-excl03", "i-excl04", "i-excl05", "i-excl06", "i-excl07",
        "i-excl08", "i-excl09",
    ];
    with_pool("op-svc-nodes", &instances, async |scene, pool| {
        let label = |key: &str, value: &str| json!({"metadata": {"labels": {key: value}}});
        let clean = pool.add("clean", "i-excl01", true, json!({})).await;
        // Kubernetes reads its own label as a boolean: `false` keeps the node.
        let k8s_label = "node.kubernetes.io/exclude-from-external-load-balancers";
        let labelled_false = pool
            .add("false", "i-excl02", true, label(k8s_label, "false"))
            .await;
        let mut excluded = Vec::new();
        for (suffix, instance, key) in [
            ("k8s", "i-excl03", k8s_label),
            (
                "alpha",
                "i-excl04",
                "alpha.service-controller.kubernetes.io/exclude-balancer",
            ),
            (
                "alibaba",
                "i-excl05",
                "service.alibabacloud.com/exclude-node",
            ),
            (
                "beta",
                "i-excl06",
                "service.beta.kubernetes.io/exclude-node",
            ),
        ] {
            excluded.push(pool.add(suffix, instance, true, label(key, "true")).await);
        }
        let cordoned = pool
            .add(
                "cordoned",
                "i-excl07",
                true,
                json!({"spec": {"unschedulable": true}}),
            )
            .await;
        let mut taints = pool.own_taints();
        taints
            .as_array_mut()
            .unwrap()
            .push(json!({"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}));
        let autoscaled = pool
            .add(
                "autoscaled",
                "i-excl08",
                true,
                json!({"spec": {"taints": taints}}),
            )
            .await;
        // kwok leaves a node without its annotation alone, so it stays as created: NotReady.
        let not_ready = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        pool.add("not-ready", "i-excl09", false, not_ready).await;
        let mut managed = vec![clean.as_str(), labelled_false.as_str()];
        managed.extend(excluded.iter().map(String::as_str));
        managed.extend([cordoned.as_str(), autoscaled.as_str()]);
        pool.ready(&managed).await;

        create_service(
            scene,
            pool,
            "web",
            json!({annotation("remove-unscheduled-backend"): "on"}),
        )
        .await;
        let id = group_id(&group_of(scene, "web").await);
        holds(
            scene,
            &id,
            TIMEOUT,
            "only the nodes without an exclusion",
            &[("i-excl01", 100), ("i-excl02", 100)],
        )
        .await;

        // Exclusions cleared once the group has settled: the node changes wake it, and the nodes
        // come back sooner than its own next look (30 s after its last change).
        service_ready(scene, "web").await;
        let own_taints = pool.own_taints();
        pool.patch(&autoscaled, json!({"spec": {"taints": own_taints}}))
            .await;
        pool.patch(&cordoned, json!({"spec": {"unschedulable": null}}))
            .await;
        holds(
            scene,
            &id,
            Duration::from_secs(10),
            "the uncordoned and untainted nodes back",
            &[
                ("i-excl01", 100),
                ("i-excl02", 100),
                ("i-excl07", 100),
                ("i-excl08", 100),
            ],
        )
        .await;

        let services: Api<Service> = scene.api();
        delete_services(&services, &["web"], TIMEOUT).await;
    })
    .await;
}

/// The backend-changing calls on group `group_id` since call `since` that name `instance`:
/// (action, when it arrived in ms, the instance's weight in it).
fn calls_naming(
    scene: &Scene,
    since: u64,
    group_id: &str,
    instance: &str,
) -> Vec<(String, u64, Option<u64>)> {
    let mut found = Vec::new();
    for call in scene.emulator.calls() {
        if call.sequence <= since
            || call.parameters.get("VServerGroupId").map(String::as_str) != Some(group_id)
        {
            continue;
        }
        let param = match call.action.as_str() {
            "ModifyVServerGroupBackendServers" => "NewBackendServers",
            "RemoveVServerGroupBackendServers" | "AddVServerGroupBackendServers" => {
                "BackendServers"
            }
            _ => continue,
        };
        let servers: Vec<Value> = call
            .parameters
            .get(param)
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        for server in servers.iter().filter(|s| s["ServerId"] == instance) {
            // The SDKs send numbers as numbers or strings.
            let weight = server["Weight"]
                .as_u64()
                .or_else(|| server["Weight"].as_str()?.parse().ok());
            found.push((call.action.clone(), call.arrived_ms, weight));
        }
    }
    found
}

fn last_call(scene: &Scene) -> u64 {
    scene
        .emulator
        .calls()
        .last()
        .map_or(0, |call| call.sequence)
}

#[tokio::test]
async fn backend_annotations_set_weights_keep_them_and_drain_leaving_nodes() {
    let instances = ["i-wght01", "i-wght02", "i-wght03"];
    with_pool("op-svc-weights", &instances, async |scene, pool| {
        let a = pool.add("a", "i-wght01", true, json!({})).await;
        let b = pool.add("b", "i-wght02", true, json!({})).await;
        pool.ready(&[&a, &b]).await;
        create_service(
            scene,
            pool,
            "kept",
            json!({
                "service.beta.kubernetes.io/backend-type": "ecs",
                annotation("default-weight"): "40",
                annotation("ignore-weight-update"): "on",
                annotation("connection-drain"): "on",
                // The least the annotation allows.
                annotation("connection-drain-timeout"): "10",
            }),
        )
        .await;
        create_service(
            scene,
            pool,
            "plain",
            json!({annotation("connection-drain"): "off"}),
        )
        .await;
        let kept_group = group_of(scene, "kept").await;
        let kept = group_id(&kept_group);
        let plain = group_id(&group_of(scene, "plain").await);
        holds(
            scene,
            &kept,
            TIMEOUT,
            "default-weight",
            &[("i-wght01", 40), ("i-wght02", 40)],
        )
        .await;
        holds(
            scene,
            &plain,
            TIMEOUT,
            "the default",
            &[("i-wght01", 100), ("i-wght02", 100)],
        )
        .await;
        // backend-type ecs is what the operator does: the Service is served, nothing ignored.
        let services: Api<Service> = scene.api();
        let message = service_ready(scene, "kept").await;
        assert!(!message.contains("ignored"), "{message}");

        // ignore-weight-update: a weight changed in SLB stays through the reconcile that adds a
        // node (done once the status records the new node).
        let kept_service = services.get("kept").await.unwrap();
        let node_port = kept_service.spec.unwrap().ports.unwrap()[0].node_port;
        let server = |weight| VServerBackendServer {
            server_id: "i-wght01".into(),
            port: node_port.and_then(|p| u16::try_from(p).ok()),
            weight: Some(weight),
        };
        scene
            .slb()
            .modify_vserver_group_backend_servers(&ModifyVServerGroupBackendServersRequest {
                v_server_group_id: kept.clone(),
                old_backend_servers: vec![server(40)],
                new_backend_servers: vec![server(7)],
            })
            .await
            .unwrap();
        let c = pool.add("c", "i-wght03", true, json!({})).await;
        let groups: Api<SlbVServerGroup> = scene.api();
        let kept_name = kept_group.name_any();
        eventually(
            "the kept group's status to record the new node",
            TIMEOUT,
            || async {
                let status = groups.get(&kept_name).await.ok()?.status?;
                status
                    .backends
                    .iter()
                    .any(|b| b.server_id == "i-wght03")
                    .then_some(())
            },
        )
        .await;
        holds(
            scene,
            &kept,
            TIMEOUT,
            "the weight set in SLB kept",
            &[("i-wght01", 7), ("i-wght02", 40), ("i-wght03", 40)],
        )
        .await;
        holds(
            scene,
            &plain,
            TIMEOUT,
            "the new node",
            &[("i-wght01", 100), ("i-wght02", 100), ("i-wght03", 100)],
        )
        .await;

        // The node leaves the pool: with the drain, weight 0 first and gone after the timeout;
        // without, gone at once.
        let mark = last_call(scene);
        pool.patch(&c, json!({"metadata": {"labels": {POOL_LABEL: null}}}))
            .await;
        holds(
            scene,
            &plain,
            TIMEOUT,
            "the node gone",
            &[("i-wght01", 100), ("i-wght02", 100)],
        )
        .await;
        holds(
            scene,
            &kept,
            TIMEOUT,
            "the node drained and gone",
            &[("i-wght01", 7), ("i-wght02", 40)],
        )
        .await;
        let plain_calls = calls_naming(scene, mark, &plain, "i-wght03");
        let actions: Vec<&str> = plain_calls.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            ["RemoveVServerGroupBackendServers"],
            "{plain_calls:?}"
        );
        let kept_calls = calls_naming(scene, mark, &kept, "i-wght03");
        let [(first, drained_at, weight), (then, removed_at, _)] = kept_calls.as_slice() else {
            panic!("a drain and a removal: {kept_calls:?}");
        };
        assert_eq!(
            (first.as_str(), *weight, then.as_str()),
            (
                "ModifyVServerGroupBackendServers",
                Some(0),
                "RemoveVServerGroupBackendServers"
            ),
            "{kept_calls:?}"
        );
        let drained_for = Duration::from_millis(removed_at - drained_at);
        assert!(
            (Duration::from_secs(9)..Duration::from_secs(20)).contains(&drained_for),
            "drained for {drained_for:?}, not connection-drain-timeout's 10 s"
        );

        delete_services(&services, &["kept", "plain"], TIMEOUT).await;
    })
    .await;
}
