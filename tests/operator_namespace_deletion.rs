//! Deleting a namespace, the most common way users remove things: every example (each kind, an HTTPS
//! listener with a certificate from a Secret, an annotated Service) is applied to a namespace and
//! becomes Ready; then the namespace is deleted. It must be gone within 60 s and leave nothing of
//! it in SLB, even though the apiserver refuses every Event in a namespace being deleted, and also
//! when the emulator fails calls at random, and when the operator is killed half-way through. Every
//! create without a ClientToken answered too late (it happened, the operator cannot know) must
//! leave no duplicate behind either.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{
    DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use kube::discovery::pinned_kind;
use kube::{Api, Client, ResourceExt};
use operator_support::*;
use slb_emulator::{Config as EmulatorConfig, Emulator, Faults, RunningEmulator, TransitionDelays};
use slb_operator::conditions::is_ready;
use slb_operator::controller::service::LOAD_BALANCER_READY;
use slb_operator::crd::{
    SlbInstance, SlbListener, SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup,
};

const READY_TIMEOUT: Duration = Duration::from_secs(120);
const NAMESPACE_GONE_WITHIN: Duration = Duration::from_secs(60);

/// Applies every document of `examples/*.yaml` to `namespace`, as `kubectl apply -n` would.
async fn apply_examples(client: &Client, namespace: &str) -> usize {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut applied = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value: serde_json::Value = serde::Deserialize::deserialize(document).unwrap();
            if value.is_null() {
                continue;
            }
            let mut object: DynamicObject = serde_json::from_value(value).unwrap();
            object.metadata.namespace = Some(namespace.to_owned());
            let types = object.types.clone().expect("apiVersion and kind");
            let gvk = GroupVersionKind::try_from(&types).unwrap();
            let (resource, _) = pinned_kind(client, &gvk).await.unwrap();
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), namespace, &resource);
            api.patch(
                &object.name_any(),
                &PatchParams::apply("examples").force(),
                &Patch::Apply(&object),
            )
            .await
            .unwrap_or_else(|e| panic!("{} applies: {e}", file.display()));
            applied += 1;
        }
    }
    applied
}

/// Waits until every object of `K` in the namespace is Ready; returns how many there are.
async fn all_ready<K>(client: &Client, namespace: &str, kind: &str) -> usize
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K: kube::core::object::HasStatus,
    K::Status: serde::Serialize,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    eventually(
        &format!("every {kind} to be Ready"),
        READY_TIMEOUT,
        || async {
            let objects = api.list(&ListParams::default()).await.ok()?.items;
            let ready = objects.iter().all(|object| {
                let conditions: Vec<Condition> = object
                    .status()
                    .and_then(|s| serde_json::to_value(s).ok())
                    .and_then(|s| serde_json::from_value(s["conditions"].clone()).ok())
                    .unwrap_or_default();
                is_ready(&conditions, object.meta().generation)
            });
            (!objects.is_empty() && ready).then_some(objects.len())
        },
    )
    .await
}

async fn start_emulator_with(faults: Faults) -> RunningEmulator {
    // No ECS inventory: the examples name ECS instances of their own. Listener transitions take
    // as long as in the emulator users run, not the instant ones of the other tests.
    let config = EmulatorConfig {
        faults,
        delays: TransitionDelays::uniform(Duration::from_millis(TransitionDelays::SERVED_MS)),
        ..EmulatorConfig::for_tests()
    };
    Emulator::start(config).await.expect("the emulator starts")
}

/// Applies every example (and the Secret of the HTTPS listener's certificate) to `namespace` and
/// waits until all of it is Ready; returns what SLB then holds.
async fn populate(
    client: &Client,
    namespace: &str,
    emulator: &RunningEmulator,
) -> BTreeSet<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    Api::<Secret>::namespaced(client.clone(), namespace)
        .create(
            &PostParams::default(),
            &tls_secret("web-tls", &self_signed(dir.path(), "web")),
        )
        .await
        .unwrap();
    assert!(apply_examples(client, namespace).await >= 10);
    assert_eq!(
        all_ready::<SlbInstance>(client, namespace, "SlbInstance").await,
        2
    );
    assert!(all_ready::<SlbListener>(client, namespace, "SlbListener").await >= 4);
    assert!(all_ready::<SlbVServerGroup>(client, namespace, "SlbVServerGroup").await >= 3);
    all_ready::<SlbMasterSlaveServerGroup>(client, namespace, "SlbMasterSlaveServerGroup").await;
    all_ready::<SlbRule>(client, namespace, "SlbRule").await;
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    eventually(
        "the Service's load balancer to be ready",
        READY_TIMEOUT,
        || async {
            let service = services.get("storefront").await.ok()?;
            let conditions = service.status?.conditions?;
            conditions
                .iter()
                .any(|c| c.type_ == LOAD_BALANCER_READY && c.status == "True")
                .then_some(())
        },
    )
    .await;
    let before = slb_objects(&emulator.state());
    let load_balancers = before.iter().filter(|(k, _)| k == "load_balancers");
    assert_eq!(load_balancers.count(), 2, "{before:?}");
    assert!(
        before.iter().any(|(k, _)| k == "server_certificates"),
        "{before:?}"
    );
    before
}

/// Waits until the namespace is gone, at most [`NAMESPACE_GONE_WITHIN`] after `since`.
async fn wait_gone(client: &Client, namespace: &str, since: Instant) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    eventually(
        "the namespace to be gone",
        NAMESPACE_GONE_WITHIN.saturating_sub(since.elapsed()),
        || async {
            namespaces
                .get_opt(namespace)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    println!("namespace {namespace} was gone after {:?}", since.elapsed());
}

async fn delete_namespace(client: &Client, namespace: &str) {
    Api::<Namespace>::all(client.clone())
        .delete(namespace, &DeleteParams::default())
        .await
        .unwrap();
}

async fn deleting_the_namespace_leaves_nothing(prefix: &str, faults: Faults) {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, prefix).await;
    let name = namespace.name.clone();
    let emulator = start_emulator_with(faults).await;
    let operator = Operator::start_on_watches(&client, &emulator, &name).await;
    populate(&client, &name, &emulator).await;

    let started = Instant::now();
    delete_namespace(&client, &name).await;
    wait_gone(&client, &name, started).await;
    let after = slb_objects(&emulator.state());
    assert!(after.is_empty(), "left in SLB: {after:?}");
    operator.stop().await;
}

#[tokio::test]
async fn deleting_a_namespace_deletes_every_slb_object_in_it() {
    deleting_the_namespace_leaves_nothing("op-nsdel", Faults::default()).await;
}

#[tokio::test]
async fn deleting_a_namespace_under_faults_deletes_every_slb_object_in_it() {
    let faults = Faults {
        error_503_rate: 0.10,
        processing_same_request_rate: 0.05,
        seed: 11,
        ..Faults::default()
    };
    deleting_the_namespace_leaves_nothing("op-nsdel-faults", faults).await;
}

/// The operator binary is SIGKILLed while the namespace's SLB objects are being deleted, with some
/// of them gone and others not, and started again: the namespace is gone within 60 s of the
/// restart, and nothing is left in SLB.
#[tokio::test]
async fn deleting_a_namespace_survives_the_operator_killed_half_way() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-nsdel-kill").await;
    let name = namespace.name.clone();
    let emulator = start_emulator_with(Faults::default()).await;
    let mut operator = spawn_operator(&emulator.url(), &name, "test-cluster");
    let before = populate(&client, &name, &emulator).await;

    // Every call takes a while, so that the deletion is caught half-way.
    emulator.set_faults(Faults {
        latency_ms: 250,
        ..Faults::default()
    });
    delete_namespace(&client, &name).await;
    let deleted = eventually(
        "a few SLB objects to be deleted",
        NAMESPACE_GONE_WITHIN,
        || async {
            let deletes = emulator
                .calls()
                .iter()
                .filter(|call| call.write && call.action.starts_with("Delete"))
                .count();
            (deletes >= 3).then_some(deletes)
        },
    )
    .await;
    operator.start_kill().expect("SIGKILL the operator");
    operator.wait().await.expect("the operator is gone");
    let left = slb_objects(&emulator.state());
    assert!(
        !left.is_empty(),
        "the kill must land half-way, or this test proves nothing: {deleted} deletes, left {left:?}"
    );
    println!(
        "killed after {deleted} deletes, with {} of {} load balancers and certificates left",
        left.len(),
        before.len()
    );

    emulator.set_faults(Faults::default());
    let restarted_at = Instant::now();
    let mut restarted = spawn_operator(&emulator.url(), &name, "test-cluster");
    wait_gone(&client, &name, restarted_at).await;
    let after = slb_objects(&emulator.state());
    assert!(after.is_empty(), "left in SLB: {after:?}");
    restarted.start_kill().ok();
    let _ = restarted.wait().await;
}

/// Every create without a ClientToken (groups, rules, listeners, certificate uploads) is answered
/// after the operator's call timeout: it happened, but the operator cannot know. A create sent again
/// after one would leave a duplicate that nothing records, so deleting the namespace must still
/// leave nothing in SLB.
#[tokio::test]
async fn ambiguous_creates_leave_no_duplicate_behind() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-nsdel-hang").await;
    let name = namespace.name.clone();
    let creates_without_token = [
        "CreateVServerGroup",
        "CreateMasterSlaveServerGroup",
        "CreateRules",
        "CreateLoadBalancerHTTPListener",
        "CreateLoadBalancerHTTPSListener",
        "CreateLoadBalancerTCPListener",
        "CreateLoadBalancerUDPListener",
        "UploadServerCertificate",
    ];
    let emulator = start_emulator_with(Faults {
        hang_rate: 1.0,
        hang_ms: 1_500,
        hang_actions: creates_without_token.map(String::from).to_vec(),
        ..Faults::default()
    })
    .await;
    let timeout = ["--slb-call-timeout", "500ms"];
    let mut operator = spawn_operator_with(&emulator.url(), &name, "test-cluster", &timeout);
    populate(&client, &name, &emulator).await;
    let hung = emulator.counters().hung_by_action;
    println!("answers held past the timeout: {hung:?}");
    for action in [
        "CreateVServerGroup",
        "CreateMasterSlaveServerGroup",
        "CreateRules",
        "CreateLoadBalancerHTTPSListener",
        "UploadServerCertificate",
    ] {
        assert!(hung.contains_key(action), "{action} never hung: {hung:?}");
    }
    // Deleting a load balancer takes its groups and rules with it, so a duplicate of those would
    // not outlive the namespace: compare them with what the objects recorded now.
    let recorded = recorded_ids(&client, &name).await;
    assert_eq!(groups_and_rules_in_slb(&emulator), recorded);

    emulator.set_faults(Faults::default());
    let started = Instant::now();
    delete_namespace(&client, &name).await;
    wait_gone(&client, &name, started).await;
    let after = slb_objects(&emulator.state());
    assert!(after.is_empty(), "left in SLB: {after:?}");
    operator.start_kill().ok();
    let _ = operator.wait().await;
}

/// The IDs of the VServer groups, master-slave groups and rules every load balancer holds.
fn groups_and_rules_in_slb(emulator: &RunningEmulator) -> BTreeSet<(String, String)> {
    let mut held = BTreeSet::new();
    for lb in emulator.load_balancers().values() {
        for kind in ["vserver_groups", "master_slave_groups", "rules"] {
            for id in lb[kind].as_object().into_iter().flat_map(|ids| ids.keys()) {
                held.insert((kind.to_owned(), id.clone()));
            }
        }
    }
    held
}

/// The IDs the namespace's objects recorded, as [`groups_and_rules_in_slb`] names them.
async fn recorded_ids(client: &Client, namespace: &str) -> BTreeSet<(String, String)> {
    let params = ListParams::default();
    let mut recorded = BTreeSet::new();
    let groups = Api::<SlbVServerGroup>::namespaced(client.clone(), namespace);
    for group in groups.list(&params).await.unwrap() {
        let id = group.status.and_then(|s| s.v_server_group_id);
        recorded.insert(("vserver_groups".to_owned(), id.expect("recorded")));
    }
    let master_slave = Api::<SlbMasterSlaveServerGroup>::namespaced(client.clone(), namespace);
    for group in master_slave.list(&params).await.unwrap() {
        let id = group.status.and_then(|s| s.master_slave_server_group_id);
        recorded.insert(("master_slave_groups".to_owned(), id.expect("recorded")));
    }
    let rules = Api::<SlbRule>::namespaced(client.clone(), namespace);
    for rule in rules.list(&params).await.unwrap() {
        let id = rule.status.and_then(|s| s.rule_id);
        recorded.insert(("rules".to_owned(), id.expect("recorded")));
    }
    recorded
}
