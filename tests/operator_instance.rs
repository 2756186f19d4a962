//! SlbInstance against the local control plane and an in-process slb-emulator: create, update,
//! delete, adoption with Orphan, drift restored, and no calls in the steady state.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use operator_support::*;
use serde_json::json;
use slb_api::{
    CreateLoadBalancerRequest, DeleteLoadBalancerRequest, DescribeLoadBalancerAttributeRequest,
    DescribeLoadBalancerAttributeResponse, DescribeTagsRequest, SetLoadBalancerNameRequest, SlbApi,
};
use slb_operator::conditions::is_ready;
use slb_operator::controller::instance::{CLUSTER_ID_TAG, OWNER_UID_TAG};
use slb_operator::crd::SlbInstance;

const TIMEOUT: Duration = Duration::from_secs(30);

fn instance(name: &str, spec: serde_json::Value) -> SlbInstance {
    serde_json::from_value(json!({
        "apiVersion": "slb.operator.dev/v1alpha1",
        "kind": "SlbInstance",
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

/// Waits until the object is Ready for its current generation.
async fn ready(api: &Api<SlbInstance>, name: &str) -> SlbInstance {
    eventually(
        &format!("SlbInstance {name} to be Ready"),
        TIMEOUT,
        || async {
            let object = api.get(name).await.ok()?;
            let status = object.status.as_ref()?;
            is_ready(&status.conditions, object.metadata.generation).then_some(object.clone())
        },
    )
    .await
}

async fn attribute(slb: &dyn SlbApi, id: &str) -> Option<DescribeLoadBalancerAttributeResponse> {
    slb.describe_load_balancer_attribute(&DescribeLoadBalancerAttributeRequest {
        load_balancer_id: id.to_owned(),
        ..Default::default()
    })
    .await
    .ok()
}

#[tokio::test]
async fn an_instance_is_created_tagged_updated_and_deleted() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-instance").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);

    let spec =
        json!({"internetChargeType": "paybybandwidth", "bandwidth": 10, "tags": {"team": "shop"}});
    api.create(&PostParams::default(), &instance("web", spec))
        .await
        .unwrap();
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
        load_balancer_ids(slb.as_ref()).await,
        std::slice::from_ref(&id),
        "exactly one load balancer"
    );

    let remote = attribute(slb.as_ref(), &id)
        .await
        .expect("the load balancer exists");
    assert_eq!(remote.load_balancer_name, format!("{}/web", namespace.name));
    assert_eq!(remote.bandwidth, Some(10));
    let tags = slb
        .describe_tags(&DescribeTagsRequest {
            load_balancer_id: Some(id.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .tag_sets;
    let tag = |key: &str| {
        tags.iter()
            .find(|t| t.tag_key == key)
            .and_then(|t| t.tag_value.clone())
    };
    assert_eq!(tag(OWNER_UID_TAG), created.uid());
    assert_eq!(tag(CLUSTER_ID_TAG).as_deref(), Some("test-cluster"));
    assert_eq!(tag("team").as_deref(), Some("shop"));

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
    let remote = attribute(slb.as_ref(), &id).await.unwrap();
    assert_eq!(remote.load_balancer_name, "shop-renamed");
    assert_eq!(remote.bandwidth, Some(20));
    assert_eq!(
        remote.load_balancer_spec,
        Some(slb_api::LoadBalancerSpec::S2Small)
    );
    let tags = slb
        .describe_tags(&DescribeTagsRequest {
            load_balancer_id: Some(id.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .tag_sets;
    assert!(
        tags.iter()
            .any(|t| t.tag_key == "env" && t.tag_value.as_deref() == Some("prod")),
        "{tags:?}"
    );
    assert!(
        !tags.iter().any(|t| t.tag_key == "team"),
        "a tag removed from the spec is removed: {tags:?}"
    );
    assert!(
        tags.iter().any(|t| t.tag_key == OWNER_UID_TAG),
        "the ownership tags stay: {tags:?}"
    );
    assert_eq!(
        load_balancer_ids(slb.as_ref()).await,
        std::slice::from_ref(&id),
        "an update never creates"
    );

    api.delete("web", &DeleteParams::default()).await.unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt("web").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(
        load_balancer_ids(slb.as_ref()).await.is_empty(),
        "the load balancer is deleted"
    );
    let reasons = event_reasons(&client, &namespace.name).await;
    for reason in ["Created", "Updated", "Deleted"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "no {reason} event in {reasons:?}"
        );
    }

    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn an_adopted_load_balancer_is_left_untouched_and_orphaned() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-adopt").await;
    let emulator = start_emulator().await;
    let slb = slb_client(&emulator);
    let existing = slb
        .create_load_balancer(&CreateLoadBalancerRequest {
            load_balancer_name: Some("made-by-hand".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let writes_before = emulator.counters().writes;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);

    let spec = json!({"loadBalancerId": existing.load_balancer_id});
    api.create(&PostParams::default(), &instance("legacy", spec))
        .await
        .unwrap();
    let adopted = ready(&api, "legacy").await;
    let status = adopted.status.unwrap();
    assert_eq!(
        status.load_balancer_id.as_deref(),
        Some(existing.load_balancer_id.as_str())
    );
    assert_eq!(status.address.as_deref(), Some(existing.address.as_str()));

    api.delete("legacy", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt("legacy").await.unwrap().is_none().then_some(())
    })
    .await;
    let remote = attribute(slb.as_ref(), &existing.load_balancer_id)
        .await
        .expect("an orphaned load balancer stays");
    assert_eq!(remote.load_balancer_name, "made-by-hand");
    // The only writes: the adoption tag, added when adopting and removed when letting go.
    let writes: Vec<String> = emulator
        .calls()
        .into_iter()
        .filter(|call| call.write)
        .map(|call| call.action)
        .collect();
    assert_eq!(writes.len(), writes_before as usize + 2, "{writes:?}");
    assert_eq!(writes[writes_before as usize..], ["AddTags", "RemoveTags"]);
    let tags = slb
        .describe_tags(&slb_api::DescribeTagsRequest {
            load_balancer_id: Some(existing.load_balancer_id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(tags.tag_sets.is_empty(), "{:?}", tags.tag_sets);

    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn drift_is_restored_with_an_event_and_the_steady_state_makes_no_calls() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-drift").await;
    let emulator = start_emulator().await;
    let slb = slb_client(&emulator);
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);

    // A long resync first: once Ready, nothing at all may be called while idle.
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    api.create(
        &PostParams::default(),
        &instance("web", json!({"name": "declared"})),
    )
    .await
    .unwrap();
    let id = ready(&api, "web")
        .await
        .status
        .unwrap()
        .load_balancer_id
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = emulator.counters();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = emulator.counters();
    assert_eq!(after.writes, before.writes, "no writes in the steady state");
    assert_eq!(
        after.calls, before.calls,
        "no calls before the resync period"
    );
    operator.stop().await;

    // A short resync: a change made outside is noticed and undone.
    let operator =
        Operator::start(&client, &emulator, &namespace.name, Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    slb.set_load_balancer_name(&SetLoadBalancerNameRequest {
        load_balancer_id: id.clone(),
        load_balancer_name: "edited-in-console".into(),
    })
    .await
    .unwrap();
    eventually("the name to be restored", TIMEOUT, || async {
        let remote = attribute(slb.as_ref(), &id).await?;
        (remote.load_balancer_name == "declared").then_some(())
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
        attribute(slb.as_ref(), &id)
            .await
            .unwrap()
            .load_balancer_name,
        "declared"
    );

    // Idle again: resyncs describe, but never write.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = emulator.counters();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        emulator.counters().writes,
        before.writes,
        "resyncs of an unchanged object write nothing"
    );
    assert_eq!(load_balancer_ids(slb.as_ref()).await, [id]);

    api.delete("web", &DeleteParams::default()).await.unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt("web").await.unwrap().is_none().then_some(())
    })
    .await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn an_slb_error_shows_in_the_ready_condition_and_a_warning_event() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-error").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);

    api.create(
        &PostParams::default(),
        &instance("nowhere", json!({"regionId": "mars-north-1"})),
    )
    .await
    .unwrap();
    let message = eventually("Ready False with the SLB error", TIMEOUT, || async {
        let object = api.get("nowhere").await.ok()?;
        let ready = object
            .status?
            .conditions
            .into_iter()
            .find(|c| c.type_ == "Ready")?;
        (ready.status == "False" && ready.reason == "ReconcileError").then_some(ready.message)
    })
    .await;
    assert!(message.starts_with("SLB API call failed"), "{message}");
    let events: Api<Event> = Api::namespaced(client.clone(), &namespace.name);
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
    assert!(emulator.counters().writes == 0, "nothing was created");

    api.delete("nowhere", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt("nowhere")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    operator.stop().await;
    namespace.delete().await;
}
