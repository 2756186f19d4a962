//! Adoption is the cluster admin's decision: `deletionPolicy: Delete` on an adopted load balancer
//! deletes it only with `--allow-deleting-adopted` (otherwise it is orphaned, and the Ready
//! condition says so from the first status on), and outside `--adoption-namespaces` adopting gives
//! `NotOwned` with no call that changes anything in SLB.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use operator_support::*;
use serde_json::json;
use slb_api::{CreateLoadBalancerRequest, DescribeLoadBalancerAttributeRequest, SlbApi};
use slb_emulator::RunningEmulator;
use slb_operator::conditions::READY;
use slb_operator::crd::SlbInstance;

const TIMEOUT: Duration = Duration::from_secs(30);
const NAME: &str = "legacy";
const LEFT_IN_PLACE: &str = "deleting this object will leave it in place";

/// A load balancer made outside the operator; its ID.
async fn made_by_hand(slb: &dyn SlbApi) -> String {
    slb.create_load_balancer(&CreateLoadBalancerRequest {
        load_balancer_name: Some("made-by-hand".into()),
        ..Default::default()
    })
    .await
    .unwrap()
    .load_balancer_id
}

async fn exists(slb: &dyn SlbApi, id: &str) -> bool {
    slb.describe_load_balancer_attribute(&DescribeLoadBalancerAttributeRequest {
        load_balancer_id: id.to_owned(),
        ..Default::default()
    })
    .await
    .is_ok()
}

/// The actions of the successful state-changing calls the emulator logged, after the first `skip`.
fn writes(emulator: &RunningEmulator, skip: u64) -> Vec<String> {
    let mut writes: Vec<String> = emulator
        .calls()
        .into_iter()
        .filter(|call| call.write)
        .map(|call| call.action)
        .collect();
    writes.drain(..skip as usize);
    writes
}

/// Every Ready condition the object shows, in order, as its watch sees it from before its creation.
fn record_ready_conditions(api: &Api<SlbInstance>) -> Arc<Mutex<Vec<Condition>>> {
    let seen = Arc::new(Mutex::new(Vec::<Condition>::new()));
    let recorder = seen.clone();
    let stream = watcher(
        api.clone(),
        watcher::Config::default().fields(&format!("metadata.name={NAME}")),
    )
    .applied_objects();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(Ok(object)) = stream.next().await {
            let ready = object
                .status
                .into_iter()
                .flat_map(|s| s.conditions)
                .find(|c| c.type_ == READY);
            if let Some(ready) = ready {
                let mut seen = recorder.lock().unwrap();
                if seen.last() != Some(&ready) {
                    seen.push(ready);
                }
            }
        }
    });
    seen
}

async fn adopt(api: &Api<SlbInstance>, id: &str) {
    api.create(
        &PostParams::default(),
        &object(
            "SlbInstance",
            NAME,
            json!({"loadBalancerId": id, "deletionPolicy": "Delete"}),
        ),
    )
    .await
    .unwrap();
}

async fn delete_and_wait(api: &Api<SlbInstance>) {
    api.delete(NAME, &DeleteParams::default()).await.unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt(NAME).await.unwrap().is_none().then_some(())
    })
    .await;
}

fn ready_conditions(instance: &SlbInstance) -> Vec<Condition> {
    instance.status.clone().unwrap_or_default().conditions
}

async fn setup(prefix: &str) -> (Client, TestNamespace, RunningEmulator, Arc<dyn SlbApi>) {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, prefix).await;
    let emulator = start_emulator().await;
    let slb = slb_client(&emulator);
    (client, namespace, emulator, slb)
}

#[tokio::test]
async fn without_the_flag_an_adopted_load_balancer_is_orphaned_and_ready_says_so_from_the_start() {
    let (client, namespace, emulator, slb) = setup("op-adopt-keep").await;
    let id = made_by_hand(slb.as_ref()).await;
    let writes_before = emulator.counters().writes;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);
    let seen = record_ready_conditions(&api);

    adopt(&api, &id).await;
    wait_ready(&api, NAME, TIMEOUT, ready_conditions).await;
    let seen = seen.lock().unwrap().clone();
    let first = seen.first().expect("a Ready condition was seen");
    assert_eq!(first.status, "True", "{seen:?}");
    for ready in &seen {
        assert!(
            ready.message.contains(LEFT_IN_PLACE),
            "every Ready condition warns that the load balancer stays: {seen:?}"
        );
    }

    delete_and_wait(&api).await;
    assert!(exists(slb.as_ref(), &id).await, "the load balancer stays");
    // The only writes: the adoption tag, added and then removed.
    assert_eq!(writes(&emulator, writes_before), ["AddTags", "RemoveTags"]);
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn with_the_flag_an_adopted_load_balancer_with_delete_is_deleted() {
    let (client, namespace, emulator, slb) = setup("op-adopt-delete").await;
    let id = made_by_hand(slb.as_ref()).await;
    let writes_before = emulator.counters().writes;
    let operator = Operator::start_with(&client, &emulator, &namespace.name, |config| {
        config.allow_deleting_adopted = true;
    })
    .await;
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);

    adopt(&api, &id).await;
    let ready = wait_ready(&api, NAME, TIMEOUT, ready_conditions).await;
    let message = ready_conditions(&ready)
        .into_iter()
        .find(|c| c.type_ == READY)
        .unwrap()
        .message;
    assert!(!message.contains(LEFT_IN_PLACE), "{message}");

    delete_and_wait(&api).await;
    assert!(
        !exists(slb.as_ref(), &id).await,
        "the load balancer is deleted"
    );
    assert_eq!(
        writes(&emulator, writes_before),
        ["AddTags", "DeleteLoadBalancer"]
    );
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn outside_the_adoption_namespaces_adopting_is_not_owned_and_writes_nothing() {
    let (client, namespace, emulator, slb) = setup("op-adopt-refused").await;
    let id = made_by_hand(slb.as_ref()).await;
    let writes_before = emulator.counters().writes;
    let operator = Operator::start_with(&client, &emulator, &namespace.name, |config| {
        // The admin's namespace, not this one.
        config.adoption_namespaces = Some(vec!["platform-team".into()]);
        config.allow_deleting_adopted = true;
    })
    .await;
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);

    adopt(&api, &id).await;
    let refused = eventually("Ready=False, NotOwned", TIMEOUT, || async {
        let object = api.get(NAME).await.ok()?;
        ready_conditions(&object)
            .into_iter()
            .find(|c| c.type_ == READY && c.status == "False" && c.reason == "NotOwned")
    })
    .await;
    assert!(
        refused.message.contains("--adoption-namespaces"),
        "{}",
        refused.message
    );
    eventually("a NotOwned Warning Event", TIMEOUT, || async {
        event_reasons(&client, &namespace.name)
            .await
            .iter()
            .any(|r| r == "NotOwned")
            .then_some(())
    })
    .await;
    let status = api.get(NAME).await.unwrap().status.unwrap_or_default();
    assert_eq!(status.load_balancer_id, None, "not adopted");

    // Deleting it, even with --allow-deleting-adopted, leaves the load balancer alone too.
    delete_and_wait(&api).await;
    assert!(exists(slb.as_ref(), &id).await);
    let after = writes(&emulator, writes_before);
    assert!(after.is_empty(), "no call changed anything: {after:?}");
    operator.stop().await;
    namespace.delete().await;
}
