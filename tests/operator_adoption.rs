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
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use operator_support::*;
use serde_json::json;
use slb_operator::conditions::READY;
use slb_operator::crd::SlbInstance;

const TIMEOUT: Duration = Duration::from_secs(30);
const NAME: &str = "legacy";
const LEFT_IN_PLACE: &str = "deleting this object will leave it in place";

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
    create(
        api,
        NAME,
        json!({"loadBalancerId": id, "deletionPolicy": "Delete"}),
    )
    .await;
}

/// A scene without the operator yet, with a load balancer made by hand: its ID, and the number of
/// writes so far.
async fn adoptable(prefix: &str) -> (Scene, String, u64) {
    let scene = Scene::without_operator(prefix, start_emulator().await).await;
    let id = made_by_hand(scene.slb(), "made-by-hand")
        .await
        .load_balancer_id;
    let writes_before = scene.emulator.counters().writes;
    (scene, id, writes_before)
}

#[tokio::test]
async fn without_the_flag_an_adopted_load_balancer_is_orphaned_and_ready_says_so_from_the_start() {
    let (scene, id, writes_before) = adoptable("op-adopt-keep").await;
    scene.run_operator(|_| {}).await;
    let api: Api<SlbInstance> = scene.api();
    let seen = record_ready_conditions(&api);

    adopt(&api, &id).await;
    wait_ready(&api, NAME, TIMEOUT).await;
    let seen = seen.lock().unwrap().clone();
    let first = seen.first().expect("a Ready condition was seen");
    assert_eq!(first.status, "True", "{seen:?}");
    for ready in &seen {
        assert!(
            ready.message.contains(LEFT_IN_PLACE),
            "every Ready condition warns that the load balancer stays: {seen:?}"
        );
    }

    delete_and_wait(&api, NAME, TIMEOUT).await;
    assert!(
        load_balancer(scene.slb(), &id).await.is_some(),
        "the load balancer stays"
    );
    // The only writes: the adoption tag, added and then removed.
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        ["AddTags", "RemoveTags"]
    );
    scene.end().await;
}

#[tokio::test]
async fn with_the_flag_an_adopted_load_balancer_with_delete_is_deleted() {
    let (scene, id, writes_before) = adoptable("op-adopt-delete").await;
    scene
        .run_operator(|config| config.allow_deleting_adopted = true)
        .await;
    let api: Api<SlbInstance> = scene.api();

    adopt(&api, &id).await;
    let ready = wait_ready(&api, NAME, TIMEOUT).await;
    let message = ready
        .conditions()
        .into_iter()
        .find(|c| c.type_ == READY)
        .unwrap()
        .message;
    assert!(!message.contains(LEFT_IN_PLACE), "{message}");

    delete_and_wait(&api, NAME, TIMEOUT).await;
    assert!(
        load_balancer(scene.slb(), &id).await.is_none(),
        "the load balancer is deleted"
    );
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        ["AddTags", "DeleteLoadBalancer"]
    );
    scene.end().await;
}

#[tokio::test]
async fn outside_the_adoption_namespaces_adopting_is_not_owned_and_writes_nothing() {
    let (scene, id, writes_before) = adoptable("op-adopt-refused").await;
    scene
        .run_operator(|config| {
            // The admin's namespace, not this one.
            config.adoption_namespaces = Some(vec!["platform-team".into()]);
            config.allow_deleting_adopted = true;
        })
        .await;
    let api: Api<SlbInstance> = scene.api();

    adopt(&api, &id).await;
    let refused = wait_not_ready(&api, NAME, "NotOwned", TIMEOUT).await;
    assert!(refused.contains("--adoption-namespaces"), "{refused}");
    scene.wait_for_event("NotOwned", TIMEOUT).await;
    let status = api.get(NAME).await.unwrap().status.unwrap_or_default();
    assert_eq!(status.load_balancer_id, None, "not adopted");

    // Deleting it, even with --allow-deleting-adopted, leaves the load balancer alone too.
    delete_and_wait(&api, NAME, TIMEOUT).await;
    assert!(load_balancer(scene.slb(), &id).await.is_some());
    let after = writes_after(&scene.emulator, writes_before);
    assert!(after.is_empty(), "no call changed anything: {after:?}");
    scene.end().await;
}
