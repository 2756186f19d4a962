//! deletionPolicy of groups and rules against the local control plane and an in-process
//! slb-emulator: an Orphan instance leaves everything on its load balancer in place when all of it
//! is deleted at once, and a deletion that keeps failing shows in Ready until Orphan lets it go.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use operator_support::*;
use serde_json::json;
use slb_api::{
    CreateLoadBalancerTCPListenerRequest, DescribeRulesRequest, DescribeVServerGroupsRequest,
    ServerGroupIds, SlbApi,
};
use slb_operator::crd::{SlbInstance, SlbListener, SlbRule, SlbVServerGroup};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The conditions of a status that may be missing.
macro_rules! conditions {
    () => {
        |object| {
            object
                .status
                .as_ref()
                .map(|s| s.conditions.clone())
                .unwrap_or_default()
        }
    };
}

/// Creates the SlbInstance `lb` with `spec` and returns its load balancer ID once it is Ready.
async fn ready_instance(client: &Client, namespace: &str, spec: serde_json::Value) -> String {
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    api.create(
        &PostParams::default(),
        &object::<SlbInstance>("SlbInstance", "lb", spec),
    )
    .await
    .unwrap();
    let ready = wait_ready(&api, "lb", TIMEOUT, conditions!()).await;
    ready.status.unwrap().load_balancer_id.unwrap()
}

/// Creates the SlbVServerGroup `web` on `lb` and returns its ID once it is Ready.
async fn ready_group(client: &Client, namespace: &str) -> String {
    let api: Api<SlbVServerGroup> = Api::namespaced(client.clone(), namespace);
    api.create(
        &PostParams::default(),
        &object::<SlbVServerGroup>(
            "SlbVServerGroup",
            "web",
            json!({"instanceRef": {"name": "lb"}, "backends": [{"serverId": "i-0001", "port": 80}]}),
        ),
    )
    .await
    .unwrap();
    let ready = wait_ready(&api, "web", TIMEOUT, conditions!()).await;
    ready.status.unwrap().v_server_group_id.unwrap()
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

async fn gone<K>(api: &Api<K>, name: &str)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    eventually(&format!("{name} to be gone"), TIMEOUT, || async {
        api.get_opt(name).await.unwrap().is_none().then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_orphaned_instance_leaves_its_groups_listeners_and_rules_in_place() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-orphan").await;
    let ns = namespace.name.as_str();
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, ns).await;
    let slb = slb_client(&emulator);
    let lb = ready_instance(&client, ns, json!({"deletionPolicy": "Orphan"})).await;
    let group_id = ready_group(&client, ns).await;
    let listeners: Api<SlbListener> = Api::namespaced(client.clone(), ns);
    listeners
        .create(
            &PostParams::default(),
            &object::<SlbListener>(
                "SlbListener",
                "http",
                json!({"instanceRef": {"name": "lb"}, "listenerPort": 80, "protocol": "HTTP",
                       "backendServerPort": 80, "vServerGroupRef": {"name": "web"}}),
            ),
        )
        .await
        .unwrap();
    wait_ready(&listeners, "http", TIMEOUT, conditions!()).await;
    let rules: Api<SlbRule> = Api::namespaced(client.clone(), ns);
    rules
        .create(
            &PostParams::default(),
            &object::<SlbRule>(
                "SlbRule",
                "api",
                json!({"listenerRef": {"name": "http"}, "url": "/api",
                       "vServerGroupRef": {"name": "web"}}),
            ),
        )
        .await
        .unwrap();
    let rule = wait_ready(&rules, "api", TIMEOUT, conditions!()).await;
    let rule_id = rule.status.unwrap().rule_id.unwrap();

    // All at once, as a namespace deletion does: the instance goes first, and nothing waits on
    // DependentsExist for good.
    let instances: Api<SlbInstance> = Api::namespaced(client.clone(), ns);
    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), ns);
    let delete = DeleteParams::default();
    instances.delete("lb", &delete).await.unwrap();
    groups.delete("web", &delete).await.unwrap();
    listeners.delete("http", &delete).await.unwrap();
    rules.delete("api", &delete).await.unwrap();
    gone(&rules, "api").await;
    gone(&listeners, "http").await;
    gone(&groups, "web").await;
    gone(&instances, "lb").await;

    // SLB keeps the load balancer with its group, listener and rule.
    assert!(load_balancer_ids(slb.as_ref()).await.contains(&lb));
    assert_eq!(group_ids(slb.as_ref(), &lb).await, [group_id]);
    let remote_rules: Vec<String> = slb
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
    let reasons = event_reasons(&client, ns).await;
    assert!(reasons.iter().any(|r| r == "Orphaned"), "{reasons:?}");
    assert!(!reasons.iter().any(|r| r == "Deleted"), "{reasons:?}");

    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn a_deletion_that_keeps_failing_shows_in_ready_until_orphan_lets_it_go() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-stuck").await;
    let ns = namespace.name.as_str();
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, ns).await;
    let slb = slb_client(&emulator);
    let lb = ready_instance(&client, ns, json!({})).await;
    let group_id = ready_group(&client, ns).await;

    // A listener made outside the operator uses the group: SLB refuses to delete it.
    slb.create_load_balancer_tcp_listener(&CreateLoadBalancerTCPListenerRequest {
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
    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), ns);
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
        group_ids(slb.as_ref(), &lb).await,
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
    gone(&groups, "web").await;
    assert_eq!(group_ids(slb.as_ref(), &lb).await, [group_id]);
    let reasons = event_reasons(&client, ns).await;
    assert!(
        reasons.iter().any(|r| r == "DependentsExist"),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r == "Orphaned"), "{reasons:?}");

    // The instance (Delete) takes the load balancer with what is left on it.
    let instances: Api<SlbInstance> = Api::namespaced(client.clone(), ns);
    instances
        .delete("lb", &DeleteParams::default())
        .await
        .unwrap();
    gone(&instances, "lb").await;
    assert!(!load_balancer_ids(slb.as_ref()).await.contains(&lb));

    operator.stop().await;
    namespace.delete().await;
}
