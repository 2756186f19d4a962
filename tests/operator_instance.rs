//! SlbInstance against the local control plane and an in-process slb-emulator: create, update,
//! delete, adoption with Orphan, load balancers of another object or cluster left alone, drift
//! restored, and no calls in the steady state.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use operator_support::*;
use serde_json::json;
use slb_api::{AddTagsRequest, DeleteLoadBalancerRequest, SetLoadBalancerNameRequest, Tag};
use slb_operator::conditions::is_ready;
use slb_operator::controller::instance::{CLUSTER_ID_TAG, OWNER_UID_TAG};
use slb_operator::crd::SlbInstance;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Waits until the object is Ready for its current generation.
async fn ready(api: &Api<SlbInstance>, name: &str) -> SlbInstance {
    wait_ready(api, name, TIMEOUT).await
}

#[tokio::test]
async fn an_instance_is_created_tagged_updated_and_deleted() {
    let scene = Scene::start("op-instance").await;
    let api: Api<SlbInstance> = scene.api();

    let spec =
        json!({"internetChargeType": "paybybandwidth", "bandwidth": 10, "tags": {"team": "shop"}});
    create(&api, "web", spec).await;
    let created = ready(&api, "web").await;
    let status = created.status.clone().unwrap();
    let id = status
        .load_balancer_id
        .clone()
        .expect("the ID is in the status");
    assert_eq!(status.region_id.as_deref(), Some(REGION));
    assert!(status.address.is_some(), "{status:?}");
    assert_eq!(status.load_balancer_status.as_deref(), Some("active"));
    assert_eq!(
        load_balancer_ids(scene.slb()).await,
        std::slice::from_ref(&id),
        "exactly one load balancer"
    );

    let remote = load_balancer(scene.slb(), &id)
        .await
        .expect("the load balancer exists");
    assert_eq!(remote.load_balancer_name, format!("{}/web", scene.ns()));
    assert_eq!(remote.bandwidth, Some(10));
    let tags = load_balancer_tags(scene.slb(), &id).await;
    assert_eq!(tags.get(OWNER_UID_TAG), created.uid().as_ref());
    assert_eq!(
        tags.get(CLUSTER_ID_TAG).map(String::as_str),
        Some("test-cluster")
    );
    assert_eq!(tags.get("team").map(String::as_str), Some("shop"));

    let change = json!({"spec": {
        "name": "shop-renamed",
        "status": "inactive",
        "bandwidth": 20,
        "loadBalancerSpec": "slb.s2.small",
        // A merge patch: null removes the key.
        "tags": {"env": "prod", "team": null},
    }});
    api.patch("web", &PatchParams::default(), &Patch::Merge(&change))
        .await
        .unwrap();
    let updated = ready(&api, "web").await;
    assert_eq!(
        updated
            .status
            .as_ref()
            .unwrap()
            .load_balancer_status
            .as_deref(),
        Some("inactive")
    );
    let remote = load_balancer(scene.slb(), &id).await.unwrap();
    assert_eq!(remote.load_balancer_name, "shop-renamed");
    assert_eq!(remote.bandwidth, Some(20));
    assert_eq!(
        remote.load_balancer_spec,
        Some(slb_api::LoadBalancerSpec::S2Small)
    );
    let tags = load_balancer_tags(scene.slb(), &id).await;
    assert_eq!(
        tags.get("env").map(String::as_str),
        Some("prod"),
        "{tags:?}"
    );
    assert!(
        !tags.contains_key("team"),
        "a tag removed from the spec is removed: {tags:?}"
    );
    assert!(
        tags.contains_key(OWNER_UID_TAG),
        "the ownership tags stay: {tags:?}"
    );
    assert_eq!(
        load_balancer_ids(scene.slb()).await,
        std::slice::from_ref(&id),
        "an update never creates"
    );

    delete_and_wait(&api, "web", TIMEOUT).await;
    assert!(
        load_balancer_ids(scene.slb()).await.is_empty(),
        "the load balancer is deleted"
    );
    scene
        .assert_events(&["Created", "Updated", "Deleted"])
        .await;

    scene.end().await;
}

#[tokio::test]
async fn an_adopted_load_balancer_is_left_untouched_and_orphaned() {
    let scene = Scene::without_operator("op-adopt", start_emulator().await).await;
    let slb = scene.slb();
    let existing = made_by_hand(slb, "made-by-hand").await;
    let writes_before = scene.emulator.counters().writes;
    scene.run_operator(|_| {}).await;
    let api: Api<SlbInstance> = scene.api();

    let spec = json!({"loadBalancerId": existing.load_balancer_id});
    create(&api, "legacy", spec).await;
    let adopted = ready(&api, "legacy").await;
    let status = adopted.status.unwrap();
    assert_eq!(
        status.load_balancer_id.as_deref(),
        Some(existing.load_balancer_id.as_str())
    );
    assert_eq!(status.address.as_deref(), Some(existing.address.as_str()));

    delete_and_wait(&api, "legacy", TIMEOUT).await;
    let remote = load_balancer(scene.slb(), &existing.load_balancer_id)
        .await
        .expect("an orphaned load balancer stays");
    assert_eq!(remote.load_balancer_name, "made-by-hand");
    // The only writes: the adoption tag, added when adopting and removed when letting go.
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        ["AddTags", "RemoveTags"]
    );
    let tags = load_balancer_tags(scene.slb(), &existing.load_balancer_id).await;
    assert!(tags.is_empty(), "{tags:?}");

    scene.end().await;
}

/// Load balancers another object or another cluster holds, by their tags: adopting either is
/// refused with NotOwned and a Warning, and nothing in SLB changes, not even on delete.
#[tokio::test]
async fn a_load_balancer_tagged_for_another_object_or_cluster_is_never_touched() {
    let scene = Scene::without_operator("op-foreign", start_emulator().await).await;
    let slb = scene.slb();
    let mut foreign = Vec::new();
    for (name, cluster) in [
        ("other-object", "test-cluster"),
        ("other-cluster", "elsewhere"),
    ] {
        let id = made_by_hand(slb, name).await.load_balancer_id;
        slb.add_tags(&AddTagsRequest {
            load_balancer_id: id.clone(),
            tags: vec![
                Tag::new(OWNER_UID_TAG, "0b1d2a6e-0000-4000-8000-000000000000"),
                Tag::new(CLUSTER_ID_TAG, cluster),
            ],
        })
        .await
        .unwrap();
        let tags = load_balancer_tags(slb, &id).await;
        foreign.push((name, id, tags));
    }
    let writes_before = scene.emulator.counters().writes;
    // The tests' operator runs as cluster "test-cluster".
    scene.run_operator(|_| {}).await;
    let api: Api<SlbInstance> = scene.api();

    for (name, id, _) in &foreign {
        create(&api, name, json!({"loadBalancerId": id})).await;
        let refused = wait_not_ready(&api, name, "NotOwned", TIMEOUT).await;
        assert!(refused.contains(id.as_str()), "{refused}");
    }
    scene.wait_for_event("NotOwned", TIMEOUT).await;
    for (name, _, _) in &foreign {
        delete_and_wait(&api, name, TIMEOUT).await;
    }
    for (name, id, tags) in &foreign {
        let remote = load_balancer(slb, id).await.expect("it stays");
        assert_eq!(&remote.load_balancer_name, name);
        assert_eq!(&load_balancer_tags(slb, id).await, tags);
    }
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        Vec::<String>::new()
    );

    scene.end().await;
}

#[tokio::test]
async fn drift_is_restored_with_an_event_and_the_steady_state_makes_no_calls() {
    let scene = Scene::without_operator("op-drift", start_emulator().await).await;
    let slb = scene.slb();
    let api: Api<SlbInstance> = scene.api();

    // A long resync first: once Ready, nothing at all may be called while idle.
    scene.run_operator(|_| {}).await;
    create(&api, "web", json!({"name": "declared"})).await;
    let id = ready(&api, "web")
        .await
        .status
        .unwrap()
        .load_balancer_id
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = scene.emulator.counters();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = scene.emulator.counters();
    assert_eq!(after.writes, before.writes, "no writes in the steady state");
    assert_eq!(
        after.calls, before.calls,
        "no calls before the resync period"
    );
    scene.stop_operator().await;

    // A short resync: a change made outside is noticed and undone.
    scene.run_operator_resyncing(Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    slb.set_load_balancer_name(&SetLoadBalancerNameRequest {
        load_balancer_id: id.clone(),
        load_balancer_name: "edited-in-console".into(),
    })
    .await
    .unwrap();
    eventually("the name to be restored", TIMEOUT, || async {
        let remote = load_balancer(scene.slb(), &id).await?;
        (remote.load_balancer_name == "declared").then_some(())
    })
    .await;
    scene.wait_for_event("DriftRestored", TIMEOUT).await;
    // Deleted outside: a new one is created in its place, and recorded.
    slb.delete_load_balancer(&DeleteLoadBalancerRequest {
        load_balancer_id: id.clone(),
    })
    .await
    .unwrap();
    let id = eventually("a replacement load balancer", TIMEOUT, || async {
        let object = api.get("web").await.ok()?;
        let status = object.status?;
        let replacement = status.load_balancer_id.filter(|new| *new != id)?;
        is_ready(&status.conditions, object.metadata.generation).then_some(replacement)
    })
    .await;
    assert_eq!(
        load_balancer(scene.slb(), &id)
            .await
            .unwrap()
            .load_balancer_name,
        "declared"
    );

    // Idle again: resyncs describe, but never write.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = scene.emulator.counters();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        scene.emulator.counters().writes,
        before.writes,
        "resyncs of an unchanged object write nothing"
    );
    assert_eq!(load_balancer_ids(scene.slb()).await, [id]);

    delete_and_wait(&api, "web", TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn an_slb_error_shows_in_the_ready_condition_and_a_warning_event() {
    let scene = Scene::start("op-error").await;
    let api: Api<SlbInstance> = scene.api();

    create(&api, "nowhere", json!({"regionId": "mars-north-1"})).await;
    let message = wait_not_ready(&api, "nowhere", "ReconcileError", TIMEOUT).await;
    assert!(message.starts_with("SLB API call failed"), "{message}");
    let events: Api<Event> = scene.api();
    eventually("a Warning event", TIMEOUT, || async {
        let listed = events.list(&ListParams::default()).await.ok()?;
        listed
            .items
            .into_iter()
            .any(|e| {
                e.type_.as_deref() == Some("Warning")
                    && e.reason.as_deref().is_some_and(|r| r.starts_with("Slb"))
            })
            .then_some(())
    })
    .await;
    assert!(scene.emulator.counters().writes == 0, "nothing was created");

    delete_and_wait(&api, "nowhere", TIMEOUT).await;
    scene.end().await;
}
