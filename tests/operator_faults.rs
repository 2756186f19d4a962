//! The fault run: with the emulator failing 10% of calls with 503, 5% with ProcessingSameRequest, and
//! adding 50 ms to every call, the scenarios still converge, with no duplicate and, after every object
//! is deleted, no leaked SLB object.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::collections::BTreeSet;
use std::time::Duration;

use kube::Api;
use kube::api::{DeleteParams, ListParams};
use operator_support::*;
use serde_json::json;
use slb_operator::conditions::is_ready;
use slb_operator::crd::SlbInstance;

const INSTANCES: usize = 4;
const TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn scenarios_converge_under_faults_without_duplicates_or_leaks() {
    let scene = Scene::with_emulator("op-faults", start_faulty_emulator(7).await).await;
    let api: Api<SlbInstance> = scene.api();

    for i in 0..INSTANCES {
        let spec = json!({"internetChargeType": "paybytraffic", "tags": {"scenario": "faults"}});
        create(&api, &format!("lb-{i}"), spec).await;
    }

    let ids = eventually("every SlbInstance to be Ready", TIMEOUT, || async {
        let listed = api.list(&ListParams::default()).await.ok()?;
        let ready: BTreeSet<String> = listed
            .items
            .iter()
            .filter(|o| {
                o.status
                    .as_ref()
                    .is_some_and(|s| is_ready(&s.conditions, o.metadata.generation))
            })
            .filter_map(|o| o.status.as_ref()?.load_balancer_id.clone())
            .collect();
        (ready.len() == INSTANCES).then_some(ready)
    })
    .await;
    let held: BTreeSet<String> = slb_objects(&scene.emulator.state())
        .into_iter()
        .filter(|(kind, _)| kind == "load_balancers")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(held, ids, "one load balancer per SlbInstance, no duplicate");
    let injected = scene
        .emulator
        .calls()
        .iter()
        .filter(|c| c.code == "ServiceUnavailable" || c.code == "ProcessingSameRequest")
        .count();
    assert!(injected > 0, "the run must actually have met faults");

    api.delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .unwrap();
    none_left(&api, TIMEOUT).await;
    let leaked = slb_objects(&scene.emulator.state());
    assert!(leaked.is_empty(), "SLB objects leaked: {leaked:?}");

    scene.end().await;
}
