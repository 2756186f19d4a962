//! Adoption is the cluster admin's decision: `deletionPolicy: Delete` on an adopted or taken-over
//! load balancer deletes it only with `--allow-deleting-adopted` (otherwise it is orphaned, and the
//! Ready condition says so from the first status on), outside `--adoption-namespaces` adopting or
//! taking over gives `NotOwned` with no call that changes anything in SLB, and of two objects
//! adopting one load balancer at once exactly one holds it, also when one's tag lands late.
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
use slb_api::{AddTagsRequest, SlbApi, Tag};
use slb_emulator::{Config as EmulatorConfig, Emulator, Faults};
use slb_operator::conditions::READY;
use slb_operator::controller::instance::ADOPTED_BY_TAG;
use slb_operator::crd::SlbInstance;

const TIMEOUT: Duration = Duration::from_secs(30);
const NAME: &str = "legacy";
const LEFT_IN_PLACE: &str = "deleting this object will leave it in place";
const TAKING_OVER: &str = "migrated";
/// The cloud controller manager's name of a load balancer: `a` and a Service's uid.
const CCM_NAME: &str = "a0b9d3a4e6f1c4a579a631d2f5c7e8a9";

/// Every Ready condition the object `name` shows, in order, as its watch sees it from before its
/// creation.
fn record_ready_conditions(api: &Api<SlbInstance>, name: &str) -> Arc<Mutex<Vec<Condition>>> {
    let seen = Arc::new(Mutex::new(Vec::<Condition>::new()));
    let recorder = seen.clone();
    let stream = watcher(
        api.clone(),
        watcher::Config::default().fields(&format!("metadata.name={name}")),
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

/// Asserts that Ready conditions were `seen`, the last True, and that each warned that deleting the
/// object leaves the load balancer in place.
fn assert_every_ready_condition_warns(seen: &Mutex<Vec<Condition>>) {
    let seen = seen.lock().unwrap().clone();
    let last = seen.last().expect("a Ready condition was seen");
    assert_eq!(last.status, "True", "{seen:?}");
    for ready in &seen {
        assert!(
            ready.message.contains(LEFT_IN_PLACE),
            "every Ready condition warns that the load balancer stays: {seen:?}"
        );
    }
}

async fn adopt(api: &Api<SlbInstance>, id: &str) {
    create(
        api,
        NAME,
        json!({"loadBalancerId": id, "deletionPolicy": "Delete"}),
    )
    .await;
}

/// Creates the SlbInstance that takes over the cloud controller manager's load balancer `ccm_name`.
async fn take_over(api: &Api<SlbInstance>, ccm_name: &str) {
    create(api, TAKING_OVER, json!({"takeOverFromCcm": ccm_name})).await;
}

/// A load balancer as the cloud controller manager makes them, named and tagged [`CCM_NAME`]: its ID.
async fn ccm_load_balancer(slb: &dyn SlbApi) -> String {
    let id = made_by_hand(slb, CCM_NAME).await.load_balancer_id;
    let tags = vec![
        Tag::new("kubernetes.do.not.delete", CCM_NAME),
        Tag::new("ack.aliyun.com", "c0ffee"),
    ];
    let request = AddTagsRequest {
        load_balancer_id: id.clone(),
        tags,
    };
    slb.add_tags(&request).await.unwrap();
    id
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
    let seen = record_ready_conditions(&api, NAME);

    adopt(&api, &id).await;
    wait_ready(&api, NAME, TIMEOUT).await;
    assert_every_ready_condition_warns(&seen);

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
    let (scene, id, _) = adoptable("op-adopt-refused").await;
    let ccms = ccm_load_balancer(scene.slb()).await;
    let writes_before = scene.emulator.counters().writes;
    scene
        .run_operator(|config| {
            // The admin's namespace, not this one.
            config.adoption_namespaces = Some(vec!["platform-team".into()]);
            config.allow_deleting_adopted = true;
        })
        .await;
    let api: Api<SlbInstance> = scene.api();

    adopt(&api, &id).await;
    take_over(&api, CCM_NAME).await;
    for name in [NAME, TAKING_OVER] {
        let refused = wait_not_ready(&api, name, "NotOwned", TIMEOUT).await;
        assert!(refused.contains("--adoption-namespaces"), "{refused}");
        let status = api.get(name).await.unwrap().status.unwrap_or_default();
        assert_eq!(status.load_balancer_id, None, "{name} holds nothing");
    }
    scene.wait_for_event("NotOwned", TIMEOUT).await;

    // Deleting them, even with --allow-deleting-adopted, leaves the load balancers alone too.
    delete_and_wait(&api, NAME, TIMEOUT).await;
    delete_and_wait(&api, TAKING_OVER, TIMEOUT).await;
    assert!(load_balancer(scene.slb(), &id).await.is_some());
    assert!(load_balancer(scene.slb(), &ccms).await.is_some());
    let after = writes_after(&scene.emulator, writes_before);
    assert!(after.is_empty(), "no call changed anything: {after:?}");
    scene.end().await;
}

#[tokio::test]
async fn without_the_flag_a_taken_over_load_balancer_is_left_in_place_and_ready_says_so() {
    let scene = Scene::without_operator("op-takeover-keep", start_emulator().await).await;
    let ccms = ccm_load_balancer(scene.slb()).await;
    scene.run_operator(|_| {}).await;
    let api: Api<SlbInstance> = scene.api();
    let seen = record_ready_conditions(&api, TAKING_OVER);

    take_over(&api, CCM_NAME).await;
    let ready = wait_ready(&api, TAKING_OVER, TIMEOUT).await;
    assert_eq!(ready.status.unwrap().load_balancer_id.as_ref(), Some(&ccms));
    assert_every_ready_condition_warns(&seen);
    // Dropping takeOverFromCcm from the spec does not make the load balancer one it created.
    let dropped = patch_spec(&api, TAKING_OVER, json!({"takeOverFromCcm": null})).await;
    assert_eq!(dropped.spec.take_over_from_ccm, None);
    let recorded = wait_ready(&api, TAKING_OVER, TIMEOUT).await.status.unwrap();
    assert_eq!(recorded.taken_over_from_ccm.as_deref(), Some(CCM_NAME));

    delete_and_wait(&api, TAKING_OVER, TIMEOUT).await;
    assert!(
        load_balancer(scene.slb(), &ccms).await.is_some(),
        "the load balancer stays"
    );
    scene.assert_events(&["TookOver", "Orphaned"]).await;
    scene.end().await;
}

#[tokio::test]
async fn of_two_objects_adopting_one_load_balancer_at_once_exactly_one_holds_it() {
    // Every call takes long enough that both objects find the load balancer unclaimed before
    // either has tagged it.
    let mut config = EmulatorConfig::for_tests();
    config.faults = Faults {
        latency_ms: 300,
        ..Faults::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let scene = Scene::without_operator("op-adopt-race", emulator).await;
    let id = made_by_hand(scene.slb(), "made-by-hand")
        .await
        .load_balancer_id;
    scene.run_operator(|_| {}).await;
    let api: Api<SlbInstance> = scene.api();

    let spec = json!({"loadBalancerId": id});
    let (first, second) = tokio::join!(
        create(&api, "first", spec.clone()),
        create(&api, "second", spec)
    );
    let uids =
        [first, second].map(|object| (object.metadata.name.unwrap(), object.metadata.uid.unwrap()));
    let holder = eventually("one Ready, the other Conflict", TIMEOUT, || async {
        let mut holders = Vec::new();
        for (name, _) in &uids {
            let object = api.get(name).await.ok()?;
            let ready = object.conditions().into_iter().find(|c| c.type_ == READY)?;
            match (ready.status.as_str(), ready.reason.as_str()) {
                ("True", _) => holders.push(name.clone()),
                ("False", "Conflict") => {}
                _ => return None,
            }
        }
        (holders.len() == 1).then(|| holders.remove(0))
    })
    .await;
    let holder_uid = &uids.iter().find(|(name, _)| *name == holder).unwrap().1;
    let tags = load_balancer_tags(scene.slb(), &id).await;
    assert_eq!(tags.get(ADOPTED_BY_TAG), Some(holder_uid), "{tags:?}");
    let recorded: Vec<_> = api
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|object| object.status?.load_balancer_id)
        .collect();
    assert_eq!(recorded, [id], "only the holder records the load balancer");
    scene.end().await;
}

#[tokio::test]
async fn an_adoption_tag_overwritten_after_it_was_read_back_makes_the_holder_a_conflict() {
    let (scene, id, _) = adoptable("op-adopt-late").await;
    scene.run_operator_resyncing(Duration::from_secs(2)).await;
    let api: Api<SlbInstance> = scene.api();
    adopt(&api, &id).await;
    wait_ready(&api, NAME, TIMEOUT).await;

    // Another object's AddTags, planned while the load balancer was unclaimed, lands late.
    let other_uid = "4f9e2c1a-0000-4000-8000-00000000late";
    let request = AddTagsRequest {
        load_balancer_id: id.clone(),
        tags: vec![Tag::new(ADOPTED_BY_TAG, other_uid)],
    };
    scene.slb().add_tags(&request).await.unwrap();
    let writes_before = scene.emulator.counters().writes;
    // The next resync, without a spec change, reads the tags again.
    let message = wait_not_ready(&api, NAME, "Conflict", TIMEOUT).await;
    assert!(message.contains(other_uid), "{message}");

    // Its deletion leaves the load balancer and the other object's tag alone.
    delete_and_wait(&api, NAME, TIMEOUT).await;
    assert!(load_balancer(scene.slb(), &id).await.is_some());
    let tags = load_balancer_tags(scene.slb(), &id).await;
    assert_eq!(
        tags.get(ADOPTED_BY_TAG).map(String::as_str),
        Some(other_uid)
    );
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        Vec::<String>::new()
    );
    scene.end().await;
}
