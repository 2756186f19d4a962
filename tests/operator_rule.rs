//! SlbRule against the local control plane and an in-process slb-emulator, with the SlbInstance,
//! SlbListener and SlbVServerGroup controllers: create, repoint, delete; a group still used by a rule
//! is not deleted; missing references that appear; drift restored; a create left unanswered.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use operator_support::*;
use serde_json::json;
use slb_api::{DescribeRulesRequest, DescribeVServerGroupsRequest, SetRuleRequest, SlbApi};
use slb_emulator::{Faults, RunningEmulator};
use slb_operator::crd::{
    SlbInstance, SlbListener, SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup,
};

/// Generous, for the run with injected faults; the other tests finish long before.
const TIMEOUT: Duration = Duration::from_secs(120);

async fn create_instance(scene: &Scene) -> String {
    ready_instance(&scene.client, scene.ns(), "lb", json!({}), TIMEOUT).await
}

/// Creates an SlbVServerGroup on `lb` with one backend and returns its ID once it is Ready.
async fn create_group(scene: &Scene, name: &str) -> String {
    ready_one_backend_group(scene, name, TIMEOUT).await
}

/// Creates the HTTP SlbListener `http` on port 80, sending its default traffic to group `a`.
/// It is Ready only once group `a` is.
async fn create_listener(scene: &Scene) {
    create_http_listener(&scene.api(), "a").await;
}

async fn listener_ready(scene: &Scene) {
    wait_ready(&scene.api::<SlbListener>(), "http", TIMEOUT).await;
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

/// Deletes everything the tests create, in dependency order.
async fn delete_all(scene: &Scene) {
    let rules: Api<SlbRule> = scene.api();
    for rule in rules.list(&ListParams::default()).await.unwrap() {
        delete_and_wait(&rules, &rule.metadata.name.unwrap(), TIMEOUT).await;
    }
    let listeners: Api<SlbListener> = scene.api();
    delete_and_wait(&listeners, "http", TIMEOUT).await;
    let groups: Api<SlbVServerGroup> = scene.api();
    for group in groups.list(&ListParams::default()).await.unwrap() {
        delete_and_wait(&groups, &group.metadata.name.unwrap(), TIMEOUT).await;
    }
    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
}

#[tokio::test]
async fn a_rule_is_created_repointed_and_deleted_and_holds_its_group_until_then() {
    let scene = Scene::start("op-rule").await;
    let lb = create_instance(&scene).await;
    let group_a = create_group(&scene, "a").await;
    let group_b = create_group(&scene, "b").await;
    create_listener(&scene).await;
    listener_ready(&scene).await;

    let api: Api<SlbRule> = scene.api();
    create(&api, "api", rule_spec("a")).await;
    let created = wait_ready(&api, "api", TIMEOUT).await;
    let status = created.status.unwrap();
    let rule_id = status.rule_id.clone().expect("the rule ID is recorded");
    assert_eq!(status.load_balancer_id.as_deref(), Some(lb.as_str()));
    assert_eq!(status.listener_port, Some(80));
    assert_eq!(
        remote_rules(scene.slb(), &lb).await,
        [(
            rule_id.clone(),
            format!("{}/api", scene.ns()),
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
    wait_ready(&api, "api", TIMEOUT).await;
    assert_eq!(
        remote_rules(scene.slb(), &lb).await,
        [(
            rule_id.clone(),
            format!("{}/api", scene.ns()),
            group_b.clone()
        )]
    );
    assert_eq!(scene.emulator.counters().by_action.get("SetRule"), Some(&1));

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
    let groups: Api<SlbVServerGroup> = scene.api();
    groups.delete("b", &DeleteParams::default()).await.unwrap();
    let blocked = eventually("group b to report it is in use", TIMEOUT, || async {
        let group = groups.get("b").await.ok()?;
        let ready = group
            .conditions()
            .into_iter()
            .find(|c| c.type_ == "Ready")?;
        ready.message.contains("still uses it").then_some(ready)
    })
    .await;
    assert_eq!(blocked.status, "False");
    assert!(vserver_group_ids(scene.slb(), &lb).await.contains(&group_b));

    // Once the rule is gone, so is group b.
    delete_and_wait(&api, "api", TIMEOUT).await;
    assert!(remote_rules(scene.slb(), &lb).await.is_empty());
    eventually("group b to be deleted", TIMEOUT, || async {
        groups.get_opt("b").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(!vserver_group_ids(scene.slb(), &lb).await.contains(&group_b));
    scene
        .assert_events(&["Created", "Updated", "Deleted", "DependentsExist"])
        .await;

    delete_all(&scene).await;
    scene.end().await;
}

#[tokio::test]
async fn a_rule_waits_for_its_references_and_drift_is_restored() {
    let scene = Scene::without_operator("op-rule-ref", start_emulator().await).await;
    scene.run_operator_resyncing(Duration::from_secs(3)).await;
    let slb = scene.slb();
    let api: Api<SlbRule> = scene.api();
    create(&api, "api", rule_spec("a")).await;
    let reason_of = |wanted: &'static str| {
        let api = api.clone();
        async move {
            eventually(&format!("the rule to report {wanted}"), TIMEOUT, || async {
                let rule = api.get("api").await.ok()?;
                let ready = rule.conditions().into_iter().find(|c| c.type_ == "Ready")?;
                (ready.reason == wanted).then_some(ready.message)
            })
            .await
        }
    };
    let message = reason_of("ReferenceNotFound").await;
    assert!(message.contains("SlbListener"), "{message}");

    let lb = create_instance(&scene).await;
    // The listener waits for group a, and the rule for the listener.
    create_listener(&scene).await;
    let message = reason_of("ReferenceNotReady").await;
    assert!(message.contains("SlbListener"), "{message}");
    let group_a = create_group(&scene, "a").await;
    listener_ready(&scene).await;
    let ready = wait_ready(&api, "api", TIMEOUT).await;
    let rule_id = ready.status.unwrap().rule_id.unwrap();

    // The listener sends traffic to group a, so the group reports the health of its backend.
    let groups: Api<SlbVServerGroup> = scene.api();
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
        let rules = remote_rules(scene.slb(), &lb).await;
        (rules.first().map(|r| r.2.as_str()) == Some(group_a.as_str())).then_some(())
    })
    .await;
    scene.wait_for_event("DriftRestored", TIMEOUT).await;

    assert!(
        vserver_group_ids(scene.slb(), &lb).await.contains(&other),
        "the group made by hand is never touched"
    );

    delete_all(&scene).await;
    scene.end().await;
}

#[tokio::test]
async fn groups_and_rules_converge_under_faults_without_duplicates_or_leaks() {
    let scene = Scene::with_emulator("op-rule-faults", start_faulty_emulator(11).await).await;
    let slb = scene.slb();
    let lb = create_instance(&scene).await;

    let groups: Api<SlbVServerGroup> = scene.api();
    let many: Vec<serde_json::Value> = (1..=25)
        .map(|i| json!({"serverId": format!("i-{i:04}"), "port": 80, "weight": i}))
        .collect();
    create(
        &groups,
        "a",
        json!({"instanceRef": {"name": "lb"}, "backends": many}),
    )
    .await;
    create_group(&scene, "b").await;
    let pairs: Api<SlbMasterSlaveServerGroup> = scene.api();
    create(
        &pairs,
        "pair",
        json!({"instanceRef": {"name": "lb"},
                       "master": {"serverId": "i-0001", "port": 5432},
                       "slave": {"serverId": "i-0002", "port": 5432}}),
    )
    .await;
    create_listener(&scene).await;
    let rules: Api<SlbRule> = scene.api();
    create(&rules, "api", rule_spec("b")).await;
    let group_a = wait_ready(&groups, "a", TIMEOUT).await;
    listener_ready(&scene).await;
    wait_ready(&rules, "api", TIMEOUT).await;
    wait_ready(&pairs, "pair", TIMEOUT).await;

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
        [format!("{}/a", scene.ns()), format!("{}/b", scene.ns())]
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
    assert_eq!(remote_rules(scene.slb(), &lb).await.len(), 1);
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
    let listeners: Api<SlbListener> = scene.api();
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
        vserver_group_ids(scene.slb(), &lb).await.is_empty(),
        "no group leaked"
    );
    assert!(
        master_slave().await.is_empty(),
        "no master-slave group leaked"
    );
    // The rules went with the listener: SLB keeps no rule without its listener.

    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "lb", TIMEOUT).await;
    scene.end().await;
}

/// The rules the emulator holds, as `(id, name)`, read from its state: under the hang fault the
/// API's answers would be held as well.
fn rules_in_state(emulator: &RunningEmulator) -> Vec<(String, String)> {
    emulator
        .load_balancers()
        .values()
        .filter_map(|lb| lb["rules"].as_object())
        .flatten()
        .map(|(id, rule)| {
            (
                id.clone(),
                rule["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_rule_created_without_an_answer_is_found_again_after_a_restart_never_made_twice() {
    let scene = Scene::without_operator("op-rule-hang", start_emulator().await).await;
    let emulator = &scene.emulator;
    let mut operator = spawn_operator(&emulator.url(), scene.ns(), "rule-hang-test");
    let lb = create_instance(&scene).await;
    create_group(&scene, "a").await;
    create_listener(&scene).await;
    listener_ready(&scene).await;

    // Every call is processed and then its answer is held: CreateRules takes effect, and the
    // operator is killed before it learns the rule's ID.
    emulator.set_faults(Faults {
        hang_rate: 1.0,
        hang_ms: 5_000,
        ..Faults::default()
    });
    let api: Api<SlbRule> = scene.api();
    create(&api, "api", rule_spec("a")).await;
    eventually(
        "CreateRules to take effect in SLB",
        Duration::from_secs(60),
        || async { (!rules_in_state(emulator).is_empty()).then_some(()) },
    )
    .await;
    operator.start_kill().expect("SIGKILL the operator");
    operator.wait().await.expect("the operator is gone");
    emulator.set_faults(Faults::default());
    let status = api.get("api").await.unwrap().status.unwrap_or_default();
    assert_eq!(
        status.rule_id, None,
        "the kill must land before the ID reached the status, or this test proves nothing"
    );
    let name = format!("{}/api", scene.ns());
    assert_eq!(
        status.pending_create_name.as_deref(),
        Some(name.as_str()),
        "the create was recorded before it was sent"
    );

    let mut restarted = spawn_operator(&emulator.url(), scene.ns(), "rule-hang-test");
    let ready = wait_ready(&api, "api", TIMEOUT).await;
    let rules = remote_rules(scene.slb(), &lb).await;
    assert_eq!(rules.len(), 1, "exactly one rule: {rules:?}");
    let status = ready.status.unwrap_or_default();
    assert_eq!(status.rule_id.as_deref(), Some(rules[0].0.as_str()));
    assert_eq!(rules[0].1, name);
    assert_eq!(status.pending_create_name, None, "nothing left in flight");

    delete_all(&scene).await;
    restarted.start_kill().ok();
    let _ = restarted.wait().await;
    scene.end().await;
}

/// A create SLB refuses takes back the name written ahead of it, on every attempt: a rule that
/// takes the name later is someone else's. The second attempt is the one that matters, as it
/// starts from a status that already holds no pending name.
#[tokio::test]
async fn a_create_slb_refuses_takes_back_its_pending_name_every_time() {
    let scene = Scene::start("op-rule-refused").await;
    let slb = scene.slb();
    let lb = create_instance(&scene).await;
    let group_a = create_group(&scene, "a").await;
    create_listener(&scene).await;
    listener_ready(&scene).await;
    // The domain and URL the rule asks for are taken by a rule made by hand.
    rule_made_by_hand(slb, &lb, "made-by-hand", "/api", group_a).await;
    let api: Api<SlbRule> = scene.api();
    create(&api, "api", rule_spec("a")).await;
    let refused = || {
        scene
            .emulator
            .calls()
            .iter()
            .filter(|call| call.action == "CreateRules" && call.code != "OK")
            .count()
    };
    for attempt in 1..=2 {
        eventually(&format!("refusal {attempt}"), TIMEOUT, || async {
            (refused() >= attempt).then_some(())
        })
        .await;
        // The take-back is written before the reconcile ends; the next attempt is seconds away.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let status = api.get("api").await.unwrap().status.unwrap();
        assert_eq!(status.pending_create_name, None, "after refusal {attempt}");
        assert_eq!(status.rule_id, None);
    }
    // Deleting the refused rule touches nothing: the one rule is the one made by hand.
    delete_and_wait(&api, "api", TIMEOUT).await;
    let rules = remote_rules(slb, &lb).await;
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].1, "made-by-hand");

    delete_all(&scene).await;
    scene.end().await;
}

/// A rule made by hand on port 80 of a load balancer made by hand: that load balancer's ID and the
/// rule's.
async fn someone_elses_rule(slb: &dyn SlbApi) -> (String, String) {
    let other = made_by_hand(slb, "someone-else").await.load_balancer_id;
    let group = slb
        .create_vserver_group(&slb_api::CreateVServerGroupRequest {
            load_balancer_id: other.clone(),
            v_server_group_name: "theirs".into(),
            backend_servers: Vec::new(),
        })
        .await
        .unwrap()
        .v_server_group_id;
    slb.create_load_balancer_http_listener(&hand_made_http(&other, 80))
        .await
        .unwrap();
    let theirs = rule_made_by_hand(slb, &other, "theirs", "/theirs", group).await;
    (other, theirs)
}

/// A rule made by hand for `www.example.com` and `url` on port 80 of `lb`: its ID.
async fn rule_made_by_hand(
    slb: &dyn SlbApi,
    lb: &str,
    name: &str,
    url: &str,
    group: String,
) -> String {
    let created = slb
        .create_rules(&slb_api::CreateRulesRequest {
            load_balancer_id: lb.to_owned(),
            listener_port: 80,
            rule_list: vec![slb_api::NewRule {
                rule_name: name.to_owned(),
                domain: Some("www.example.com".into()),
                url: Some(url.to_owned()),
                v_server_group_id: Some(group),
            }],
        })
        .await
        .unwrap();
    created.rules[0].rule_id.clone()
}

#[tokio::test]
async fn a_recorded_rule_that_is_not_on_its_listener_is_never_deleted() {
    let scene = Scene::start("op-rule-elsewhere").await;
    let slb = scene.slb();
    create_instance(&scene).await;
    create_group(&scene, "a").await;
    create_listener(&scene).await;
    listener_ready(&scene).await;
    let api: Api<SlbRule> = scene.api();
    create(&api, "api", rule_spec("a")).await;
    wait_ready(&api, "api", TIMEOUT).await;
    let (other, theirs) = someone_elses_rule(slb).await;
    let writes_before = scene.emulator.counters().writes;

    // A status written by hand names their rule, on another load balancer than the one recorded.
    api.patch_status(
        "api",
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"ruleId": theirs}})),
    )
    .await
    .unwrap();
    delete_and_wait(&api, "api", TIMEOUT).await;
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        Vec::<String>::new(),
        "nothing was written"
    );
    let left: Vec<String> = remote_rules(slb, &other)
        .await
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(left, [theirs]);
    delete_all(&scene).await;
    scene.end().await;
}
