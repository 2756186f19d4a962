//! The operator is killed (SIGKILL) after CreateLoadBalancer was processed but before its answer
//! arrived, so before the status write. After a restart exactly one load balancer exists and the
//! object becomes Ready.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::process::Stdio;
use std::time::Duration;

use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use operator_support::*;
use serde_json::json;
use slb_api::DescribeLoadBalancersRequest;
use slb_emulator::{
    DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_ACCOUNT_ID, Faults, RunningEmulator,
};
use slb_operator::conditions::is_ready;
use slb_operator::crd::SlbInstance;
use tokio::process::{Child, Command};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The operator binary, watching `namespace`, against the emulator.
fn spawn_operator(emulator: &RunningEmulator, namespace: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_slb-operator"))
        .args([
            "run",
            &format!("--endpoint={}", emulator.url()),
            &format!("--region={REGION}"),
            "--cluster-id=crash-test",
            &format!("--watch-namespace={namespace}"),
            "--metrics-addr=127.0.0.1:0",
        ])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the operator binary starts")
}

/// How many load balancers the emulator holds, read from its state (no API call, so no fault).
fn load_balancers_in_state(emulator: &RunningEmulator) -> usize {
    emulator.state()["accounts"][DEMO_ACCOUNT_ID]["load_balancers"]
        .as_object()
        .map_or(0, serde_json::Map::len)
}

async fn wait_ready(api: &Api<SlbInstance>, name: &str) -> SlbInstance {
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

async fn crash_between_create_and_status_write(
    client: &Client,
    emulator: &RunningEmulator,
    namespace: &str,
) {
    // Every call is processed at once but answered only after 4 s: the window to kill in.
    emulator.set_faults(Faults {
        hang_rate: 1.0,
        hang_ms: 4_000,
        ..Faults::default()
    });
    let mut operator = spawn_operator(emulator, namespace);
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    let instance = serde_json::from_value(json!({
        "apiVersion": "slb.operator.dev/v1alpha1",
        "kind": "SlbInstance",
        "metadata": {"name": "web"},
        "spec": {"name": "crash-test"},
    }))
    .unwrap();
    api.create(&PostParams::default(), &instance).await.unwrap();
    eventually("CreateLoadBalancer to be processed", TIMEOUT, || async {
        (load_balancers_in_state(emulator) > 0).then_some(())
    })
    .await;
    operator.kill().await.expect("SIGKILL");
    let status = api.get("web").await.unwrap().status.unwrap_or_default();
    assert_eq!(
        status.load_balancer_id, None,
        "the kill came after the status write; the window was missed"
    );
}

#[tokio::test]
async fn a_crash_between_create_and_status_write_never_makes_a_second_load_balancer() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-crash").await;
    let emulator = start_emulator().await;
    crash_between_create_and_status_write(&client, &emulator, &namespace.name).await;

    emulator.set_faults(Faults::default());
    let mut operator = spawn_operator(&emulator, &namespace.name);
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);
    let ready = wait_ready(&api, "web").await;
    let slb = slb_client(&emulator);
    let listed = slb
        .describe_load_balancers(&DescribeLoadBalancersRequest::default())
        .await
        .unwrap();
    let ids: Vec<String> = listed
        .load_balancers
        .into_iter()
        .map(|lb| lb.load_balancer_id)
        .collect();
    assert_eq!(ids.len(), 1, "exactly one load balancer: {ids:?}");
    assert_eq!(ready.status.unwrap().load_balancer_id.as_ref(), ids.first());

    api.delete("web", &DeleteParams::default()).await.unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt("web").await.unwrap().is_none().then_some(())
    })
    .await;
    assert_eq!(
        load_balancers_in_state(&emulator),
        0,
        "no load balancer leaked"
    );
    operator.kill().await.unwrap();
    namespace.delete().await;
}
