//! `--watch-namespaces` with two namespaces: objects in both, made before the operator starts and
//! while it runs, are served by one operator (one watcher per namespace, merged), while an SlbInstance and a Service of type LoadBalancer in a third,
//! unwatched namespace are left alone: no finalizer, no status, nothing in SLB.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::{Api, Client, ResourceExt};
use operator_support::*;
use serde_json::json;
use slb_operator::controller::runtime::FINALIZER;
use slb_operator::controller::service::SERVICE_FINALIZER;
use slb_operator::crd::SlbInstance;

const TIMEOUT: Duration = Duration::from_secs(60);

async fn create_instance(client: &Client, namespace: &str) -> Api<SlbInstance> {
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    create(&api, "web", json!({"internetChargeType": "paybytraffic"})).await;
    api
}

async fn create_front_service(client: &Client, namespace: &str) -> Api<Service> {
    let spec = json!({
        "type": "LoadBalancer",
        "loadBalancerClass": "slb.operator.dev/slb",
        "ports": [{"port": 80, "targetPort": 8080}],
    });
    create_service(client, namespace, "front", json!({}), spec).await;
    Api::namespaced(client.clone(), namespace)
}

#[tokio::test]
async fn only_the_watched_namespaces_are_served() {
    let client = cluster_client().await;
    let first = TestNamespace::create(&client, "op-watch-a").await;
    let second = TestNamespace::create(&client, "op-watch-b").await;
    let unwatched = TestNamespace::create(&client, "op-watch-no").await;
    let emulator = start_emulator().await;
    // The objects exist before the operator starts, so that they come with its first listing of
    // each namespace (merged into one store), and the unwatched ones would be served by the time the
    // watched ones are if the operator saw them.
    let ignored_instances = create_instance(&client, &unwatched.name).await;
    let ignored_services = create_front_service(&client, &unwatched.name).await;
    let mut instances = Vec::new();
    for namespace in [&first.name, &second.name] {
        instances.push(create_instance(&client, namespace).await);
    }
    let watched = vec![first.name.clone(), second.name.clone()];
    let operator = Operator::start_with(&client, &emulator, &first.name, |config| {
        config.watch_namespaces = watched;
    })
    .await;
    let mut served = Vec::new();
    for api in &instances {
        let ready = wait_ready(api, "web", TIMEOUT).await;
        assert!(ready.status.as_ref().unwrap().load_balancer_id.is_some());
        served.push(ready.uid().unwrap());
    }
    // One made while the operator watches.
    let services = create_front_service(&client, &second.name).await;
    eventually(
        "the watched Service to get the operator's finalizer",
        TIMEOUT,
        || async {
            let service = services.get("front").await.ok()?;
            service
                .finalizers()
                .iter()
                .any(|f| f == SERVICE_FINALIZER)
                .then_some(())
        },
    )
    .await;

    let instance = ignored_instances.get("web").await.unwrap();
    assert!(
        instance.finalizers().iter().all(|f| f != FINALIZER),
        "the unwatched SlbInstance got a finalizer: {:?}",
        instance.finalizers()
    );
    assert!(
        instance.status.is_none(),
        "the unwatched SlbInstance got a status: {:?}",
        instance.status
    );
    let service = ignored_services.get("front").await.unwrap();
    assert!(
        service.finalizers().is_empty(),
        "the unwatched Service got a finalizer: {:?}",
        service.finalizers()
    );
    // Nothing in SLB names the unwatched SlbInstance (its owner tag would carry its uid), and no
    // child was made for the unwatched Service.
    let state = emulator.state().to_string();
    for uid in &served {
        assert!(
            state.contains(uid),
            "the owner tag of {uid} is in the state"
        );
    }
    let uid = instance.uid().unwrap();
    assert!(!state.contains(&uid), "SLB holds something of {uid}");
    let ignored_children: Api<SlbInstance> = Api::namespaced(client.clone(), &unwatched.name);
    assert!(ignored_children.get_opt("front").await.unwrap().is_none());

    operator.stop().await;
    for namespace in [first, second, unwatched] {
        namespace.delete().await;
    }
}
