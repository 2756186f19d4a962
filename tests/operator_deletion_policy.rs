//! deletionPolicy of groups and rules against the local control plane and an in-process
//! slb-emulator: an Orphan instance leaves everything on its load balancer in place when all of it
//! is deleted at once, and a deletion that keeps failing (SLB refuses, or refuses the operator's
//! credentials) shows in Ready until Orphan lets it go.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use operator_support::*;
use serde_json::json;
use slb_api::{
    CreateLoadBalancerTCPListenerRequest, DescribeMasterSlaveServerGroupsRequest,
    DescribeRulesRequest, ServerGroupIds,
};
use slb_operator::controller::instance::ADOPTED_BY_TAG;
use slb_operator::crd::{
    SlbInstance, SlbListener, SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup,
};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Creates the SlbInstance `lb` with `spec` and returns its load balancer ID once it is Ready.
async fn instance(scene: &Scene, spec: serde_json::Value) -> String {
    ready_instance(&scene.client, scene.ns(), "lb", spec, TIMEOUT).await
}

#[tokio::test]
async fn an_orphaned_instance_leaves_its_groups_listeners_and_rules_in_place() {
    let scene = Scene::start("op-orphan").await;
    let ns = scene.ns();
    let lb = instance(&scene, json!({"deletionPolicy": "Orphan"})).await;
    let group_id = ready_one_backend_group(&scene, "web", TIMEOUT).await;
    let listeners: Api<SlbListener> = scene.api();
    create_http_listener(&listeners, "web").await;
    wait_ready(&listeners, "http", TIMEOUT).await;
    let rules: Api<SlbRule> = scene.api();
    create(
        &rules,
        "api",
        json!({"listenerRef": {"name": "http"}, "url": "/api",
                       "vServerGroupRef": {"name": "web"}}),
    )
    .await;
    let rule = wait_ready(&rules, "api", TIMEOUT).await;
    let rule_id = rule.status.unwrap().rule_id.unwrap();
    let master_slave: Api<SlbMasterSlaveServerGroup> = scene.api();
    let pair = |server: &str| json!({"serverId": server, "port": 5432});
    create(
        &master_slave,
        "db",
        json!({"instanceRef": {"name": "lb"}, "name": "db",
               "master": pair("i-0001"), "slave": pair("i-0002")}),
    )
    .await;
    let pair_id = wait_ready(&master_slave, "db", TIMEOUT)
        .await
        .status
        .unwrap()
        .master_slave_server_group_id
        .unwrap();

    // All at once, as a namespace deletion does: the instance goes first, and nothing waits on
    // DependentsExist for good.
    let instances: Api<SlbInstance> = scene.api();
    let groups: Api<SlbVServerGroup> = scene.api();
    let delete = DeleteParams::default();
    instances.delete("lb", &delete).await.unwrap();
    groups.delete("web", &delete).await.unwrap();
    master_slave.delete("db", &delete).await.unwrap();
    listeners.delete("http", &delete).await.unwrap();
    rules.delete("api", &delete).await.unwrap();
    gone(&rules, "api", TIMEOUT).await;
    gone(&listeners, "http", TIMEOUT).await;
    gone(&groups, "web", TIMEOUT).await;
    gone(&master_slave, "db", TIMEOUT).await;
    gone(&instances, "lb", TIMEOUT).await;

    // SLB keeps the load balancer with its group, listener and rule.
    assert!(load_balancer_ids(scene.slb()).await.contains(&lb));
    assert_eq!(vserver_group_ids(scene.slb(), &lb).await, [group_id]);
    let remote_rules: Vec<String> = scene
        .slb()
        .describe_rules(&DescribeRulesRequest {
            load_balancer_id: lb.clone(),
            listener_port: 80,
        })
        .await
        .unwrap()
        .rules
        .into_iter()
        .map(|r| r.rule_id)
        .collect();
    assert_eq!(remote_rules, [rule_id]);
    let pairs = scene
        .slb()
        .describe_master_slave_server_groups(&DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap();
    let pair_ids: Vec<String> = pairs
        .master_slave_server_groups
        .into_iter()
        .map(|group| group.master_slave_server_group_id)
        .collect();
    assert_eq!(pair_ids, [pair_id]);
    let reasons = event_reasons(&scene.client, ns).await;
    assert!(reasons.iter().any(|r| r == "Orphaned"), "{reasons:?}");
    assert!(!reasons.iter().any(|r| r == "Deleted"), "{reasons:?}");

    scene.end().await;
}

#[tokio::test]
async fn a_deletion_that_keeps_failing_shows_in_ready_until_orphan_lets_it_go() {
    let scene = Scene::start("op-stuck").await;
    let ns = scene.ns();
    let lb = instance(&scene, json!({})).await;
    let group_id = ready_one_backend_group(&scene, "web", TIMEOUT).await;

    // A listener made outside the operator uses the group: SLB refuses to delete it.
    scene
        .slb()
        .create_load_balancer_tcp_listener(&CreateLoadBalancerTCPListenerRequest {
            load_balancer_id: lb.clone(),
            listener_port: 8080,
            backend_server_port: 80,
            bandwidth: -1,
            server_groups: ServerGroupIds {
                v_server_group_id: Some(group_id.clone()),
                master_slave_server_group_id: None,
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let groups: Api<SlbVServerGroup> = scene.api();
    groups
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    let ready = eventually("the stuck deletion in Ready", TIMEOUT, || async {
        let group = groups.get("web").await.ok()?;
        group.metadata.deletion_timestamp.as_ref()?;
        let conditions = group.status?.conditions;
        conditions
            .into_iter()
            .find(|c| c.type_ == "Ready" && c.status == "False")
            .filter(|c| c.message.contains("still uses it"))
    })
    .await;
    assert_eq!(ready.reason, "ReconcileError", "{ready:?}");
    assert!(ready.message.contains(&group_id), "{ready:?}");
    assert_eq!(
        vserver_group_ids(scene.slb(), &lb).await,
        std::slice::from_ref(&group_id)
    );

    // Orphan lets it go, and leaves the group to the listener that uses it.
    groups
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"deletionPolicy": "Orphan"}})),
        )
        .await
        .unwrap();
    gone(&groups, "web", TIMEOUT).await;
    assert_eq!(vserver_group_ids(scene.slb(), &lb).await, [group_id]);
    let reasons = event_reasons(&scene.client, ns).await;
    assert!(
        reasons.iter().any(|r| r == "DependentsExist"),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r == "Orphaned"), "{reasons:?}");

    // The instance (Delete) takes the load balancer with what is left on it.
    let instances: Api<SlbInstance> = scene.api();
    instances
        .delete("lb", &DeleteParams::default())
        .await
        .unwrap();
    gone(&instances, "lb", TIMEOUT).await;
    assert!(!load_balancer_ids(scene.slb()).await.contains(&lb));

    scene.end().await;
}

/// The operator binary watching the scene's namespace with an AccessKey the emulator does not know,
/// as after a rotation that went wrong. Killed when dropped.
fn operator_with_unknown_access_key(scene: &Scene) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_slb-operator"))
        .args([
            "run",
            "--endpoint",
            &scene.emulator.url(),
            "--region",
            REGION,
        ])
        .args([
            "--cluster-id",
            "test-cluster",
            "--watch-namespaces",
            scene.ns(),
        ])
        .args(["--metrics-addr", "127.0.0.1:0", "--leader-elect", "false"])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tNoSuchAccessKey")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the operator binary starts")
}

#[tokio::test]
async fn a_deletion_refused_for_the_credentials_shows_in_ready_until_orphan_lets_it_go() {
    let scene = Scene::start("op-bad-key").await;
    let lb = instance(&scene, json!({})).await;
    let by_hand = made_by_hand(scene.slb(), "made-by-hand").await;
    let adopted_spec = json!({"loadBalancerId": by_hand.load_balancer_id});
    ready_instance(&scene.client, scene.ns(), "adopted", adopted_spec, TIMEOUT).await;
    scene.stop_operator().await;
    let mut operator = operator_with_unknown_access_key(&scene);

    // An adopted instance (Orphan by default) goes at once; the adoption tag it could not remove
    // is named in a Warning.
    let instances: Api<SlbInstance> = scene.api();
    delete_and_wait(&instances, "adopted", TIMEOUT).await;
    let warned = events_about(&scene.client, scene.ns(), "SlbAuth", "adopted").await;
    let names_the_tag = |e: &k8s_openapi::api::events::v1::Event| {
        e.note
            .as_deref()
            .is_some_and(|n| n.contains(ADOPTED_BY_TAG))
    };
    assert!(warned.iter().any(names_the_tag), "{warned:?}");

    instances
        .delete("lb", &DeleteParams::default())
        .await
        .unwrap();
    let ready = eventually("the refused deletion in Ready", TIMEOUT, || async {
        let instance = instances.get("lb").await.ok()?;
        instance.metadata.deletion_timestamp.as_ref()?;
        let conditions = instance.status?.conditions;
        conditions
            .into_iter()
            .find(|c| c.type_ == "Ready" && c.status == "False")
            .filter(|c| c.message.contains("Illegal user"))
    })
    .await;
    assert_eq!(ready.reason, "ReconcileError", "{ready:?}");
    scene.wait_for_event("SlbAuth", TIMEOUT).await;

    // Orphan lets it go without asking SLB anything, and the load balancer stays.
    patch_spec(&instances, "lb", json!({"deletionPolicy": "Orphan"})).await;
    gone(&instances, "lb", TIMEOUT).await;
    assert!(load_balancer(scene.slb(), &lb).await.is_some());
    scene.assert_events(&["Orphaned"]).await;

    operator.kill().await.unwrap();
    scene.end().await;
}
