//! The crash test: the operator is killed with SIGKILL after SLB has created the load balancer but
//! before the operator could record its ID in status, and the spec changes before the restart.
//! After it, exactly one load balancer exists, with the changed spec, and the SlbInstance becomes
//! Ready with that ID.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use kube::Api;
use operator_support::*;
use serde_json::json;
use slb_emulator::Faults;
use slb_operator::crd::SlbInstance;

#[tokio::test]
async fn a_kill_between_create_and_status_write_leaves_exactly_one_load_balancer() {
    let scene = Scene::without_operator("op-crash", start_emulator().await).await;
    let (emulator, slb) = (&scene.emulator, scene.slb());
    // Every call is processed and then its answer is held: the window between CreateLoadBalancer
    // taking effect and the operator learning the ID (and writing it to status) lasts seconds.
    emulator.set_faults(Faults {
        hang_rate: 1.0,
        hang_ms: 5_000,
        ..Faults::default()
    });
    let mut operator = spawn_operator(&emulator.url(), scene.ns(), "crash-test");

    let api: Api<SlbInstance> = scene.api();
    create(&api, "crash", json!({"internetChargeType": "paybytraffic"})).await;

    // The test's own calls would be held as well, and the call log is written only once an answer
    // is sent, so it watches the emulator's state instead.
    eventually(
        "CreateLoadBalancer to take effect in SLB",
        Duration::from_secs(60),
        || async { (emulator.load_balancers().len() == 1).then_some(()) },
    )
    .await;
    operator.start_kill().expect("SIGKILL the operator");
    operator.wait().await.expect("the operator is gone");
    let status = api.get("crash").await.unwrap().status.unwrap_or_default();
    assert!(
        status.load_balancer_id.is_none(),
        "the kill must land before the ID reached the status, or this test proves nothing"
    );
    assert!(
        status.pending_create.is_some(),
        "the create was recorded before it was sent"
    );
    // The spec changes while no operator runs: the recorded create is what gets repeated, as the
    // same ClientToken with other parameters would be refused.
    patch_spec(&api, "crash", json!({"name": "renamed-after-crash"})).await;

    emulator.set_faults(Faults::default());
    assert_eq!(
        load_balancer_ids(slb).await.len(),
        1,
        "the create took effect"
    );

    let mut restarted = spawn_operator(&emulator.url(), scene.ns(), "crash-test");
    let ready = wait_ready(&api, "crash", Duration::from_secs(60)).await;
    let ids = load_balancer_ids(slb).await;
    assert_eq!(
        ids.len(),
        1,
        "exactly one load balancer after the restart: {ids:?}"
    );
    let status = ready.status.unwrap_or_default();
    assert_eq!(
        status.load_balancer_id,
        ids.first().cloned(),
        "the status names the one load balancer"
    );
    assert_eq!(status.pending_create, None, "nothing left in flight");
    assert_eq!(
        attribute(slb, &ids[0]).await.load_balancer_name,
        "renamed-after-crash",
        "the spec changed during the crash applies"
    );
    restarted.start_kill().ok();
    let _ = restarted.wait().await;
    scene.end().await;
}
