//! Two replicas with leader election: only the Lease holder runs the controllers; when it shuts
//! down (SIGTERM) it stops, and the standby takes the Lease and reconciles.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use operator_support::*;
use serde_json::json;
use slb_api::DescribeLoadBalancerAttributeRequest;
use slb_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, RunningEmulator};
use slb_operator::conditions::is_ready;
use slb_operator::crd::SlbInstance;
use tokio::process::{Child, Command};

const TIMEOUT: Duration = Duration::from_secs(60);
const LEASE: &str = "slb-operator-test";

fn spawn_replica(emulator: &RunningEmulator, namespace: &str, identity: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_slb-operator"))
        .args([
            "run",
            &format!("--endpoint={}", emulator.url()),
            &format!("--region={REGION}"),
            "--cluster-id=leader-test",
            &format!("--watch-namespace={namespace}"),
            "--metrics-addr=127.0.0.1:0",
            "--leader-elect=true",
            &format!("--lease-name={LEASE}"),
            &format!("--lease-namespace={namespace}"),
            &format!("--identity={identity}"),
            // A standby looks again when the Lease it saw expires, so a short Lease keeps the test quick.
            "--lease-duration=5s",
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

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt(LEASE)
        .await
        .ok()??
        .spec?
        .holder_identity
        .filter(|h| !h.is_empty())
}

#[tokio::test]
async fn the_standby_takes_over_when_the_leader_shuts_down() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-leader").await;
    let emulator = start_emulator().await;
    let slb = slb_client(&emulator);
    let leases: Api<Lease> = Api::namespaced(client.clone(), &namespace.name);
    let mut a = spawn_replica(&emulator, &namespace.name, "replica-a");
    let mut b = spawn_replica(&emulator, &namespace.name, "replica-b");

    let first = eventually("a leader", TIMEOUT, || holder(&leases)).await;
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), &namespace.name);
    let instance = serde_json::from_value(json!({
        "apiVersion": "slb.operator.dev/v1alpha1",
        "kind": "SlbInstance",
        "metadata": {"name": "web"},
        "spec": {"name": "before-failover"},
    }))
    .unwrap();
    api.create(&PostParams::default(), &instance).await.unwrap();
    let id = eventually("the SlbInstance to be Ready", TIMEOUT, || async {
        let object = api.get("web").await.ok()?;
        let status = object.status.clone()?;
        is_ready(&status.conditions, object.metadata.generation).then_some(status.load_balancer_id?)
    })
    .await;

    let (leader, standby) = if first == "replica-a" {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    let pid = leader.id().expect("the leader runs").to_string();
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(terminated.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), leader.wait())
        .await
        .expect("the leader exits on SIGTERM")
        .unwrap();
    assert!(exit.success(), "a SIGTERM is a clean shutdown: {exit}");
    let second = eventually(
        "the standby to take the Lease",
        Duration::from_secs(20),
        || async { holder(&leases).await.filter(|h| *h != first) },
    )
    .await;
    assert_ne!(second, first);

    let rename = json!({"spec": {"name": "after-failover"}});
    api.patch("web", &PatchParams::default(), &Patch::Merge(&rename))
        .await
        .unwrap();
    eventually("the new leader to apply the change", TIMEOUT, || async {
        let request = DescribeLoadBalancerAttributeRequest {
            load_balancer_id: id.clone(),
            ..Default::default()
        };
        let remote = slb.describe_load_balancer_attribute(&request).await.ok()?;
        (remote.load_balancer_name == "after-failover").then_some(())
    })
    .await;

    api.delete("web", &DeleteParams::default()).await.unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt("web").await.unwrap().is_none().then_some(())
    })
    .await;
    standby.kill().await.unwrap();
    namespace.delete().await;
}
