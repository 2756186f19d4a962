//! Two replicas with leader election: only the Lease holder runs the controllers; when it shuts
//! down (SIGTERM) it stops, and the standby takes the Lease and reconciles; a leader that can no
//! longer renew its Lease stops before the Lease runs out, so the two never act at once.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use operator_support::*;
use serde_json::json;
use slb_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, RunningEmulator};
use slb_operator::crd::SlbInstance;
use tokio::process::{Child, Command};

const TIMEOUT: Duration = Duration::from_secs(60);
const LEASE: &str = "slb-operator-test";

/// A replica whose Lease lasts 5 s: a leader that stops renewing loses it quickly.
fn spawn_replica(emulator: &RunningEmulator, namespace: &str, identity: &str) -> Child {
    spawn_replica_as(emulator, namespace, identity, None, SHORT_LEASE)
}

const SHORT_LEASE: &str = "5s";

/// A replica, with the kubeconfig at `kubeconfig` instead of the tests' own.
fn spawn_replica_as(
    emulator: &RunningEmulator,
    namespace: &str,
    identity: &str,
    kubeconfig: Option<&std::path::Path>,
    lease_duration: &str,
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slb-operator"));
    if let Some(kubeconfig) = kubeconfig {
        command.env("KUBECONFIG", kubeconfig);
    }
    command
        .args([
            "run",
            &format!("--endpoint={}", emulator.url()),
            &format!("--region={REGION}"),
            "--cluster-id=leader-test",
            &format!("--watch-namespaces={namespace}"),
            "--metrics-addr=127.0.0.1:0",
            "--leader-elect=true",
            &format!("--lease-name={LEASE}"),
            &format!("--lease-namespace={namespace}"),
            &format!("--identity={identity}"),
            &format!("--lease-duration={lease_duration}"),
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

/// Wall-clock milliseconds, as the emulator's call log records arrivals.
fn now_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since_epoch.as_millis()).unwrap()
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    lease_holder(leases, LEASE).await
}

#[tokio::test]
async fn the_standby_takes_over_when_the_leader_shuts_down() {
    let scene = Scene::without_operator("op-leader", start_emulator().await).await;
    let (client, ns, emulator) = (&scene.client, scene.ns(), &scene.emulator);
    let leases: Api<Lease> = scene.api();
    // A Lease far longer than the takeover may take: the standby must see it released, not wait it out.
    let mut a = spawn_replica_as(emulator, ns, "replica-a", None, "60s");
    let mut b = spawn_replica_as(emulator, ns, "replica-b", None, "60s");

    let first = eventually("a leader", TIMEOUT, || holder(&leases)).await;
    let api: Api<SlbInstance> = scene.api();
    let spec = json!({"name": "before-failover"});
    let id = ready_instance(client, ns, "web", spec, TIMEOUT).await;

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
        "the standby to take the released Lease within seconds, not at the end of its 60 s",
        Duration::from_secs(5),
        || async { holder(&leases).await.filter(|h| *h != first) },
    )
    .await;
    assert_ne!(second, first);

    patch_spec(&api, "web", json!({"name": "after-failover"})).await;
    eventually("the new leader to apply the change", TIMEOUT, || async {
        let remote = load_balancer(scene.slb(), &id).await?;
        (remote.load_balancer_name == "after-failover").then_some(())
    })
    .await;

    delete_and_wait(&api, "web", TIMEOUT).await;
    standby.kill().await.unwrap();
    scene.end().await;
}

/// A kubeconfig for the ServiceAccount `name` of `namespace`: the tests' cluster, with a token.
async fn service_account_kubeconfig(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
    use k8s_openapi::api::core::v1::ServiceAccount;
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    accounts
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .unwrap();
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    let token = accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap()
        .status
        .unwrap()
        .token;
    let admin = kube::config::Kubeconfig::read().unwrap();
    let cluster = admin.clusters[0].cluster.clone().unwrap();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {
            "server": cluster.server,
            "certificate-authority": cluster.certificate_authority,
        }}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": name}}],
        "current-context": "local",
    });
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    path
}

/// Grants `rules` to the ServiceAccount `account` of `namespace`: cluster-wide, or in `namespace`.
async fn grant(
    client: &kube::Client,
    namespace: &str,
    account: &str,
    name: &str,
    rules: serde_json::Value,
    cluster_wide: bool,
) {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    let subjects = json!([{"kind": "ServiceAccount", "name": account, "namespace": namespace}]);
    let role = json!({"metadata": {"name": name}, "rules": rules});
    let binding = |role_kind: &str| {
        json!({
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
            "subjects": subjects,
        })
    };
    if cluster_wide {
        create_object(&Api::<ClusterRole>::all(client.clone()), role).await;
        let bindings = Api::<ClusterRoleBinding>::all(client.clone());
        create_object(&bindings, binding("ClusterRole")).await;
    } else {
        create_object(&Api::<Role>::namespaced(client.clone(), namespace), role).await;
        let bindings = Api::<RoleBinding>::namespaced(client.clone(), namespace);
        create_object(&bindings, binding("Role")).await;
    }
}

#[tokio::test]
async fn a_leader_that_cannot_renew_stops_before_the_standby_takes_over() {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
    let scene = Scene::without_operator("op-fence", start_emulator().await).await;
    let (client, ns, emulator) = (&scene.client, scene.ns(), &scene.emulator);
    let leases: Api<Lease> = scene.api();
    let dir = tempfile::tempdir().unwrap();

    // Replica A runs as a ServiceAccount whose Lease permission the test can take away.
    let everything_but_leases = format!("{}-operator", ns);
    grant(
        client,
        ns,
        "replica-a",
        &everything_but_leases,
        json!([{
            "apiGroups": ["", "apps", "discovery.k8s.io", "events.k8s.io", "slb.operator.dev"],
            "resources": ["*"],
            "verbs": ["*"],
        }]),
        true,
    )
    .await;
    grant(
        client,
        ns,
        "replica-a",
        "leases",
        json!([{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]}]),
        false,
    )
    .await;
    let kubeconfig = service_account_kubeconfig(client, ns, "replica-a", dir.path()).await;
    let mut a = spawn_replica_as(emulator, ns, "replica-a", Some(&kubeconfig), SHORT_LEASE);
    eventually("replica A to lead", TIMEOUT, || async {
        holder(&leases).await.filter(|h| h == "replica-a")
    })
    .await;
    let mut b = spawn_replica(emulator, ns, "replica-b");
    // A is busy when it loses the Lease: an instance renamed every 200 ms keeps it writing, so a
    // leader that went on acting would show in the call log.
    let api: Api<SlbInstance> = scene.api();
    ready_instance(client, ns, "busy", json!({}), TIMEOUT).await;
    let renaming = tokio::spawn({
        let api = api.clone();
        async move {
            for round in 0.. {
                merge_patch(
                    &api,
                    "busy",
                    json!({"spec": {"name": format!("busy-{round}")}}),
                )
                .await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });

    // Its renewals start failing: it must stop before its Lease (5 s) can run out.
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .delete("leases", &DeleteParams::default())
        .await
        .unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(15), a.wait())
        .await
        .expect("the leader that cannot renew stops")
        .unwrap();
    let a_stopped = std::time::Instant::now();
    let a_stopped_ms = now_ms();
    let renamed_until_its_stop = emulator.calls().iter().any(|call| {
        call.action == "SetLoadBalancerName" && call.arrived_ms + 2_000 >= a_stopped_ms
    });
    assert!(
        renamed_until_its_stop,
        "A was writing in the 2 s before its fence"
    );
    let lease = leases.get(LEASE).await.unwrap().spec.unwrap();
    assert_eq!(
        lease.holder_identity.as_deref(),
        Some("replica-a"),
        "A stopped while its Lease was still valid: nobody took it yet ({exit})"
    );
    let writes_when_a_stopped = emulator.counters().writes;
    let b_acquired = eventually(
        "the standby to take the Lease",
        Duration::from_secs(20),
        || async {
            let spec = leases.get(LEASE).await.ok()?.spec?;
            (spec.holder_identity.as_deref() == Some("replica-b")).then_some(spec.acquire_time?.0)
        },
    )
    .await;
    assert!(a_stopped.elapsed() > Duration::ZERO);
    // Between A's stop and B's start nobody leads, so no write arrived, busy as the instance is
    // (read from the call log by arrival: B may already be writing when the test sees it lead).
    let b_acquired_ms = u64::try_from(b_acquired.as_millisecond()).unwrap();
    let unled: Vec<String> = emulator
        .calls()
        .into_iter()
        .filter(|call| {
            call.write && call.arrived_ms > a_stopped_ms && call.arrived_ms < b_acquired_ms
        })
        .map(|call| call.action)
        .collect();
    assert_eq!(unled, Vec::<String>::new(), "written while nobody led");

    // B acts as the leader now: the renames go on through it.
    eventually("B to carry on the renames", TIMEOUT, || async {
        (emulator.counters().writes > writes_when_a_stopped).then_some(())
    })
    .await;
    renaming.abort();
    ready_instance(client, ns, "web", json!({}), TIMEOUT).await;
    delete_and_wait(&api, "web", TIMEOUT).await;
    delete_and_wait(&api, "busy", TIMEOUT).await;
    b.kill().await.unwrap();
    let _ = Api::<ClusterRoleBinding>::all(client.clone())
        .delete(&everything_but_leases, &DeleteParams::default())
        .await;
    let _ = Api::<ClusterRole>::all(client.clone())
        .delete(&everything_but_leases, &DeleteParams::default())
        .await;
    scene.end().await;
}
