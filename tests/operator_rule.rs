//! SlbRule against the local control plane and an in-process slb-emulator, with the SlbInstance,
//! SlbListener and SlbVServerGroup controllers: create, repoint, delete; a group still used by a rule
//! is not deleted; missing references that appear; drift restored.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use operator_support::*;
use serde_json::json;
use slb_api::{DescribeRulesRequest, DescribeVServerGroupsRequest, SetRuleRequest, SlbApi};
use slb_operator::crd::{
    SlbInstance, SlbListener, SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup,
};

/// Generous, for the run with injected faults; the other tests finish long before.
const TIMEOUT: Duration = Duration::from_secs(120);

fn rule_conditions(rule: &SlbRule) -> Vec<Condition> {
    rule.status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default()
}

fn group_conditions(group: &SlbVServerGroup) -> Vec<Condition> {
    group
        .status
        .as_ref()
        .map(|s| s.conditions.clone())
        .unwrap_or_default()
}

async fn create_instance(client: &Client, namespace: &str) -> String {
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    api.create(
        &PostParams::default(),
        &object::<SlbInstance>("SlbInstance", "lb", json!({})),
    )
    .await
    .unwrap();
    let ready = wait_ready(&api, "lb", TIMEOUT, |i| {
        i.status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default()
    })
    .await;
    ready.status.unwrap().load_balancer_id.unwrap()
}

/// Creates an SlbVServerGroup on `lb` with one backend and returns its ID once it is Ready.
async fn create_group(client: &Client, namespace: &str, name: &str) -> String {
    let api: Api<SlbVServerGroup> = Api::namespaced(client.clone(), namespace);
    api.create(
        &PostParams::default(),
        &object::<SlbVServerGroup>(
            "SlbVServerGroup",
            name,
            json!({"instanceRef": {"name": "lb"}, "backends": [{"serverId": "i-0001", "port": 80}]}),
        ),
    )
    .await
    .unwrap();
    let ready = wait_ready(&api, name, TIMEOUT, group_conditions).await;
    ready.status.unwrap().v_server_group_id.unwrap()
}

/// Creates the HTTP SlbListener `http` on port 80, sending its default traffic to group `a`.
/// It is Ready only once group `a` is.
async fn create_listener(client: &Client, namespace: &str) {
    let api: Api<SlbListener> = Api::namespaced(client.clone(), namespace);
    api.create(
        &PostParams::default(),
        &object::<SlbListener>(
            "SlbListener",
            "http",
            json!({"instanceRef": {"name": "lb"}, "listenerPort": 80, "protocol": "HTTP",
                   "backendServerPort": 80, "vServerGroupRef": {"name": "a"}}),
        ),
    )
    .await
    .unwrap();
}

async fn listener_ready(client: &Client, namespace: &str) {
    let api: Api<SlbListener> = Api::namespaced(client.clone(), namespace);
    wait_ready(&api, "http", TIMEOUT, |l| {
        l.status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default()
    })
    .await;
}

fn rule_spec(group: &str) -> serde_json::Value {
    json!({"listenerRef": {"name": "http"}, "domain": "www.example.com", "url": "/api",
           "vServerGroupRef": {"name": group}})
}

/// The rules on port 80 as `(id, name, group id)`.
async fn remote_rules(slb: &dyn SlbApi, lb: &str) -> Vec<(String, String, String)> {
    slb.describe_rules(&DescribeRulesRequest {
        load_balancer_id: lb.to_owned(),
        listener_port: 80,
    })
    .await
    .unwrap()
    .rules
    .into_iter()
    .map(|r| {
        (
            r.rule_id,
            r.rule_name,
            r.v_server_group_id.unwrap_or_default(),
        )
    })
    .collect()
}

async fn group_ids(slb: &dyn SlbApi, lb: &str) -> Vec<String> {
    slb.describe_vserver_groups(&DescribeVServerGroupsRequest {
        load_balancer_id: lb.to_owned(),
    })
    .await
    .unwrap()
    .v_server_groups
    .into_iter()
    .map(|g| g.v_server_group_id)
    .collect()
}

async fn delete_and_wait<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.delete(name, &DeleteParams::default()).await.unwrap();
    eventually(&format!("{name} to be gone"), TIMEOUT, || async {
        api.get_opt(name).await.unwrap().is_none().then_some(())
    })
    .await;
}

/// Deletes everything the tests create, in dependency order.
async fn delete_all(client: &Client, namespace: &str) {
    let rules: Api<SlbRule> = Api::namespaced(client.clone(), namespace);
    for rule in rules.list(&ListParams::default()).await.unwrap() {
        delete_and_wait(&rules, &rule.metadata.name.unwrap()).await;
    }
    let listeners: Api<SlbListener> = Api::namespaced(client.clone(), namespace);
    delete_and_wait(&listeners, "http").await;
    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), namespace);
    for group in groups.list(&ListParams::default()).await.unwrap() {
        delete_and_wait(&groups, &group.metadata.name.unwrap()).await;
    }
    let instances: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    delete_and_wait(&instances, "lb").await;
}

#[tokio::test]
async fn a_rule_is_created_repointed_and_deleted_and_holds_its_group_until_then() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-rule").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let lb = create_instance(&client, &namespace.name).await;
    let group_a = create_group(&client, &namespace.name, "a").await;
    let group_b = create_group(&client, &namespace.name, "b").await;
    create_listener(&client, &namespace.name).await;
    listener_ready(&client, &namespace.name).await;

    let api: Api<SlbRule> = Api::namespaced(client.clone(), &namespace.name);
    api.create(
        &PostParams::default(),
        &object::<SlbRule>("SlbRule", "api", rule_spec("a")),
    )
    .await
    .unwrap();
    let created = wait_ready(&api, "api", TIMEOUT, rule_conditions).await;
    let status = created.status.unwrap();
    let rule_id = status.rule_id.clone().expect("the rule ID is recorded");
    assert_eq!(status.load_balancer_id.as_deref(), Some(lb.as_str()));
    assert_eq!(status.listener_port, Some(80));
    assert_eq!(
        remote_rules(slb.as_ref(), &lb).await,
        [(
            rule_id.clone(),
            format!("{}/api", namespace.name),
            group_a.clone()
        )]
    );

    // Repointed to group b: one SetRule, same rule.
    api.patch(
        "api",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"vServerGroupRef": {"name": "b"}}})),
    )
    .await
    .unwrap();
    wait_ready(&api, "api", TIMEOUT, rule_conditions).await;
    assert_eq!(
        remote_rules(slb.as_ref(), &lb).await,
        [(
            rule_id.clone(),
            format!("{}/api", namespace.name),
            group_b.clone()
        )]
    );
    assert_eq!(emulator.counters().by_action.get("SetRule"), Some(&1));

    // Domain and url cannot change in SLB, so the apiserver refuses it.
    let refused = api
        .patch(
            "api",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"url": "/v2"}})),
        )
        .await
        .expect_err("url is immutable")
        .to_string();
    assert!(refused.contains("url is immutable"), "{refused}");

    // Group b is still used by the rule: it stays, and its condition says why.
    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), &namespace.name);
    groups.delete("b", &DeleteParams::default()).await.unwrap();
    let blocked = eventually("group b to report it is in use", TIMEOUT, || async {
        let group = groups.get("b").await.ok()?;
        let ready = group_conditions(&group)
            .into_iter()
            .find(|c| c.type_ == "Ready")?;
        ready.message.contains("still uses it").then_some(ready)
    })
    .await;
    assert_eq!(blocked.status, "False");
    assert!(group_ids(slb.as_ref(), &lb).await.contains(&group_b));

    // Once the rule is gone, so is group b.
    delete_and_wait(&api, "api").await;
    assert!(remote_rules(slb.as_ref(), &lb).await.is_empty());
    eventually("group b to be deleted", TIMEOUT, || async {
        groups.get_opt("b").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(!group_ids(slb.as_ref(), &lb).await.contains(&group_b));
    let reasons = event_reasons(&client, &namespace.name).await;
    for reason in ["Created", "Updated", "Deleted", "DependentsExist"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "no {reason} event in {reasons:?}"
        );
    }

    delete_all(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn a_rule_waits_for_its_references_and_drift_is_restored() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-rule-ref").await;
    let emulator = start_emulator().await;
    let operator =
        Operator::start(&client, &emulator, &namespace.name, Duration::from_secs(3)).await;
    let slb = slb_client(&emulator);
    let api: Api<SlbRule> = Api::namespaced(client.clone(), &namespace.name);
    api.create(
        &PostParams::default(),
        &object::<SlbRule>("SlbRule", "api", rule_spec("a")),
    )
    .await
    .unwrap();
    let reason_of = |wanted: &'static str| {
        let api = api.clone();
        async move {
            eventually(&format!("the rule to report {wanted}"), TIMEOUT, || async {
                let rule = api.get("api").await.ok()?;
                let ready = rule_conditions(&rule)
                    .into_iter()
                    .find(|c| c.type_ == "Ready")?;
                (ready.reason == wanted).then_some(ready.message)
            })
            .await
        }
    };
    let message = reason_of("ReferenceNotFound").await;
    assert!(message.contains("SlbListener"), "{message}");

    let lb = create_instance(&client, &namespace.name).await;
    // The listener waits for group a, and the rule for the listener.
    create_listener(&client, &namespace.name).await;
    let message = reason_of("ReferenceNotReady").await;
    assert!(message.contains("SlbListener"), "{message}");
    let group_a = create_group(&client, &namespace.name, "a").await;
    listener_ready(&client, &namespace.name).await;
    let ready = wait_ready(&api, "api", TIMEOUT, rule_conditions).await;
    let rule_id = ready.status.unwrap().rule_id.unwrap();

    // The listener sends traffic to group a, so the group reports the health of its backend.
    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), &namespace.name);
    let health = eventually("a health summary on group a", TIMEOUT, || async {
        groups.get("a").await.ok()?.status?.health
    })
    .await;
    assert_eq!(health.normal + health.abnormal + health.unavailable, 1);

    // Repointed outside to another group: restored.
    let other = slb
        .create_vserver_group(&slb_api::CreateVServerGroupRequest {
            load_balancer_id: lb.clone(),
            v_server_group_name: "made-by-hand".into(),
            backend_servers: Vec::new(),
        })
        .await
        .unwrap()
        .v_server_group_id;
    slb.set_rule(&SetRuleRequest {
        rule_id: rule_id.clone(),
        v_server_group_id: Some(other.clone()),
    })
    .await
    .unwrap();
    eventually("the rule to point at group a again", TIMEOUT, || async {
        let rules = remote_rules(slb.as_ref(), &lb).await;
        (rules.first().map(|r| r.2.as_str()) == Some(group_a.as_str())).then_some(())
    })
    .await;
    eventually("a DriftRestored event", TIMEOUT, || async {
        event_reasons(&client, &namespace.name)
            .await
            .iter()
            .any(|r| r == "DriftRestored")
            .then_some(())
    })
    .await;

    assert!(
        group_ids(slb.as_ref(), &lb).await.contains(&other),
        "the group made by hand is never touched"
    );

    delete_all(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn groups_and_rules_converge_under_faults_without_duplicates_or_leaks() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-rule-faults").await;
    let mut config = slb_emulator::Config::for_tests();
    config.faults = slb_emulator::Faults {
        error_503_rate: 0.10,
        processing_same_request_rate: 0.05,
        latency_ms: 50,
        seed: 11,
        ..slb_emulator::Faults::default()
    };
    let emulator = slb_emulator::Emulator::start(config)
        .await
        .expect("the emulator starts");
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let lb = create_instance(&client, &namespace.name).await;

    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), &namespace.name);
    let many: Vec<serde_json::Value> = (1..=25)
        .map(|i| json!({"serverId": format!("i-{i:04}"), "port": 80, "weight": i}))
        .collect();
    groups
        .create(
            &PostParams::default(),
            &object::<SlbVServerGroup>(
                "SlbVServerGroup",
                "a",
                json!({"instanceRef": {"name": "lb"}, "backends": many}),
            ),
        )
        .await
        .unwrap();
    create_group(&client, &namespace.name, "b").await;
    let pairs: Api<SlbMasterSlaveServerGroup> = Api::namespaced(client.clone(), &namespace.name);
    pairs
        .create(
            &PostParams::default(),
            &object::<SlbMasterSlaveServerGroup>(
                "SlbMasterSlaveServerGroup",
                "pair",
                json!({"instanceRef": {"name": "lb"},
                       "master": {"serverId": "i-0001", "port": 5432},
                       "slave": {"serverId": "i-0002", "port": 5432}}),
            ),
        )
        .await
        .unwrap();
    create_listener(&client, &namespace.name).await;
    let rules: Api<SlbRule> = Api::namespaced(client.clone(), &namespace.name);
    rules
        .create(
            &PostParams::default(),
            &object::<SlbRule>("SlbRule", "api", rule_spec("b")),
        )
        .await
        .unwrap();
    let group_a = wait_ready(&groups, "a", TIMEOUT, group_conditions).await;
    listener_ready(&client, &namespace.name).await;
    wait_ready(&rules, "api", TIMEOUT, rule_conditions).await;
    wait_ready(&pairs, "pair", TIMEOUT, |p| {
        p.status
            .as_ref()
            .map(|s| s.conditions.clone())
            .unwrap_or_default()
    })
    .await;

    // Exactly one of each, whatever was retried.
    let mut names: Vec<String> = slb
        .describe_vserver_groups(&DescribeVServerGroupsRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap()
        .v_server_groups
        .into_iter()
        .map(|g| g.v_server_group_name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{}/a", namespace.name),
            format!("{}/b", namespace.name)
        ]
    );
    let id_a = group_a.status.unwrap().v_server_group_id.unwrap();
    let backends = slb
        .describe_vserver_group_attribute(&slb_api::DescribeVServerGroupAttributeRequest {
            v_server_group_id: id_a,
        })
        .await
        .unwrap()
        .backend_servers;
    assert_eq!(backends.len(), 25);
    assert_eq!(remote_rules(slb.as_ref(), &lb).await.len(), 1);
    let master_slave = || async {
        slb.describe_master_slave_server_groups(&slb_api::DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap()
        .master_slave_server_groups
    };
    assert_eq!(master_slave().await.len(), 1);

    // Everything but the instance deleted at once: the rule and the listener release the groups.
    rules.delete("api", &DeleteParams::default()).await.unwrap();
    let listeners: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    listeners
        .delete("http", &DeleteParams::default())
        .await
        .unwrap();
    for name in ["a", "b"] {
        groups.delete(name, &DeleteParams::default()).await.unwrap();
    }
    pairs
        .delete("pair", &DeleteParams::default())
        .await
        .unwrap();
    eventually("every object to be gone", TIMEOUT, || async {
        let left = rules.list(&ListParams::default()).await.ok()?.items.len()
            + listeners
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .len()
            + groups.list(&ListParams::default()).await.ok()?.items.len()
            + pairs.list(&ListParams::default()).await.ok()?.items.len();
        (left == 0).then_some(())
    })
    .await;
    assert!(
        group_ids(slb.as_ref(), &lb).await.is_empty(),
        "no group leaked"
    );
    assert!(
        master_slave().await.is_empty(),
        "no master-slave group leaked"
    );
    // The rules went with the listener: SLB keeps no rule without its listener.

    let instances: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);
    delete_and_wait(&instances, "lb").await;
    operator.stop().await;
    namespace.delete().await;
}
