//! The operator installed as users install it, on the local cluster's real node: the emulator from its image
//! (hack/charts/slb-emulator, keys in a Secret, reached through its Service by name), then `helm install` of the
//! chart with the local operator image pinned by digest. Two replicas become Ready through their real `/readyz`,
//! use in-cluster config and their ServiceAccount token, and elect a leader through the Lease; the examples
//! become Ready; deleting the leader pod hands over to the standby within the lease duration and no write reaches
//! SLB twice; `helm upgrade` rolls the Deployment while objects keep being reconciled; `/metrics` is scraped
//! through its Service; `helm uninstall` keeps the CRDs.
//!
//! Needs `hack/cluster.sh up --real-node`, `SLB_REGISTRY` (from `hack/cluster.sh env`) and the images pushed
//! there (`hack/image.sh --push "$SLB_REGISTRY"`): `hack/test.sh` does all of it. Without them the test fails
//! and says what is missing; it is never skipped.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::Api;
use kube::api::ListParams;
use operator_support::{TestNamespace, cluster_client, eventually, lease_holder};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const REAL_NODE: &str = "slb-node-1";
const TOLERATION: &str = "node.slb.operator.dev/real";
const LEASE_DURATION: Duration = Duration::from_secs(10);
const KINDS: &str =
    "slbinstances,slblisteners,slbvservergroups,slbmasterslaveservergroups,slbrules";

fn tools_bin() -> PathBuf {
    let output = std::process::Command::new(Path::new(REPO).join("hack/build-tools.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("hack/build-tools.sh runs");
    assert!(output.status.success(), "hack/build-tools.sh failed");
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// Runs `program` in the repository with `stdin`, and returns its exit success, stdout and stderr.
async fn exec(program: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(REPO)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", program.display()));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).await.unwrap();
        drop(pipe);
    }
    let output = child.wait_with_output().await.unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `program` and fails the test unless it succeeds; returns its stdout.
async fn run(program: &Path, args: &[&str]) -> String {
    run_with_input(program, args, None).await
}

async fn run_with_input(program: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let (ok, stdout, stderr) = exec(program, args, stdin).await;
    assert!(
        ok,
        "{} {} failed:\n{stdout}{stderr}",
        program.display(),
        args.join(" ")
    );
    stdout
}

/// GET `url` from this host (Service addresses are routed to the node's bridge; kube-proxy does the rest).
async fn http_get(url: &str) -> Option<String> {
    let (ok, body, _) = exec(Path::new("curl"), &["-fsS", "--max-time", "5", url], None).await;
    ok.then_some(body)
}

/// The image in the local registry, pinned by the digest hack/image.sh built it with.
fn image(name: &str) -> (String, String) {
    let registry = std::env::var("SLB_REGISTRY")
        .expect("SLB_REGISTRY is not set: run `hack/cluster.sh up --real-node` and `eval \"$(hack/cluster.sh env)\"`");
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{REPO}/target"));
    let digest =
        std::fs::read_to_string(format!("{target}/image/{name}/digest")).unwrap_or_else(|e| {
            panic!("no digest for {name} ({e}): run `hack/image.sh --push \"$SLB_REGISTRY\"`")
        });
    (format!("{registry}/{name}"), digest.trim().to_owned())
}

async fn cluster_ip(services: &Api<Service>, name: &str) -> String {
    services
        .get(name)
        .await
        .unwrap()
        .spec
        .and_then(|s| s.cluster_ip)
        .expect("a ClusterIP")
}

/// Renames the load balancer of the SlbInstance `web` with kubectl, and waits until every object
/// is Ready again.
async fn rename_web(kubectl: &Path, ns: &str, name: &str, timeout: Duration) {
    let patch = format!(r#"{{"spec":{{"name":"{name}"}}}}"#);
    let args = [
        "-n",
        ns,
        "patch",
        "slbinstance",
        "web",
        "--type=merge",
        "-p",
        &patch,
    ];
    run(kubectl, &args).await;
    wait_all_ready(kubectl, ns, timeout).await;
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The operator's pods that are Ready and not terminating, by name, with their node.
async fn ready_operator_pods(pods: &Api<Pod>, release: &str) -> BTreeMap<String, String> {
    let selector = format!("app.kubernetes.io/instance={release}");
    pods.list(&ListParams::default().labels(&selector))
        .await
        .map(|list| list.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| is_ready(p) && p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| Some((p.metadata.name?, p.spec?.node_name?)))
        .collect()
}

/// The objects of `kinds` (kubectl resource list) whose `condition` is not True for their generation.
async fn not_ready(kubectl: &Path, ns: &str, kinds: &str, condition: &str) -> Vec<String> {
    let out = run(kubectl, &["-n", ns, "get", kinds, "-o", "json"]).await;
    let list: Value = serde_json::from_str(&out).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] != "Service" || o["spec"]["type"] == "LoadBalancer")
        .filter(|o| {
            let generation = &o["metadata"]["generation"];
            !o["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| {
                    c["type"] == condition
                        && c["status"] == "True"
                        && (o["kind"] == "Service" || &c["observedGeneration"] == generation)
                })
        })
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or("?"),
                o["metadata"]["name"]
            )
        })
        .collect()
}

async fn wait_all_ready(kubectl: &Path, ns: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let mut pending = not_ready(kubectl, ns, KINDS, "Ready").await;
        pending.extend(
            not_ready(
                kubectl,
                ns,
                "services",
                "slb.operator.dev/LoadBalancerReady",
            )
            .await,
        );
        if pending.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not Ready after {timeout:?}: {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The emulator's call log: every successful write, as (action, parameters).
async fn writes(emulator: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let body = http_get(&format!("{emulator}/__admin/calls"))
        .await
        .expect("the emulator's call log through its Service");
    let log: Value = serde_json::from_str(&body).unwrap();
    log["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["write"] == true)
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_owned(),
                serde_json::from_value(c["parameters"].clone()).unwrap(),
            )
        })
        .collect()
}

/// The examples, in `ns` instead of `default`, with the Secret the HTTPS listener takes its certificate from.
async fn apply_examples(kubectl: &Path, ns: &str, dir: &Path) {
    let (key, cert) = (dir.join("tls.key"), dir.join("tls.crt"));
    run(
        Path::new("openssl"),
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=www.example.com",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ],
    )
    .await;
    run(
        kubectl,
        &[
            "-n",
            ns,
            "create",
            "secret",
            "tls",
            "web-tls",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    )
    .await;
    run_with_input(
        kubectl,
        &["-n", ns, "apply", "-f", "-"],
        Some(&examples(ns)),
    )
    .await;
}

fn examples(ns: &str) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(REPO).join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .replace("namespace: default", &format!("namespace: {ns}"))
        })
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[tokio::test]
async fn the_chart_runs_on_a_real_node_fails_over_upgrades_and_uninstalls() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "in-cluster").await;
    let ns = namespace.name.clone();
    let ns = ns.as_str();
    let release = format!("slb-operator-{}", ns.trim_start_matches("in-cluster-"));
    let bin = tools_bin();
    let (helm, kubectl) = (bin.join("helm"), bin.join("kubectl"));
    let scratch = tempfile::tempdir().unwrap();
    let started = Instant::now();

    // The emulator, from its image, knowing every node as an ECS instance (the real one included).
    let nodes: Api<Node> = Api::all(client.clone());
    let real_node = nodes.get_opt(REAL_NODE).await.unwrap().unwrap_or_else(|| {
        panic!("no node {REAL_NODE}: the cluster must be up with its real node (`hack/cluster.sh up --real-node`; hack/test.sh does it)")
    });
    assert!(
        real_node
            .status
            .and_then(|s| s.conditions)
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
        "the real node {REAL_NODE} is not Ready"
    );
    let ecs: Vec<String> = nodes
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.spec?.provider_id)
        .filter_map(|id| id.split_once('.').map(|(_, ecs)| ecs.to_owned()))
        .collect();
    assert!(
        ecs.contains(&"i-node0001".to_owned()),
        "the real node has no providerID: {ecs:?}"
    );
    // ... and the ECS instances the examples name as explicit backends.
    let mut ecs = ecs;
    for line in examples(ns).lines() {
        if let Some(id) = line
            .trim()
            .trim_start_matches("- ")
            .strip_prefix("serverId: ")
            && !ecs.contains(&id.to_owned())
        {
            ecs.push(id.to_owned());
        }
    }
    let on_real_node = json!({
        "nodeSelector": {"type": "real"},
        "tolerations": [{"key": TOLERATION, "operator": "Exists", "effect": "NoSchedule"}],
    });
    let (emulator_image, emulator_digest) = image("slb-emulator");
    let mut values = on_real_node.clone();
    values["image"] = json!({"repository": emulator_image, "digest": emulator_digest});
    values["ecsInstances"] = json!(ecs);
    let emulator_values = scratch.path().join("emulator.yaml");
    std::fs::write(&emulator_values, serde_json::to_string(&values).unwrap()).unwrap();
    run(
        &helm,
        &[
            "install",
            "slb-emulator",
            "hack/charts/slb-emulator",
            "-n",
            ns,
            "--wait",
            "--timeout",
            "180s",
            "-f",
            emulator_values.to_str().unwrap(),
        ],
    )
    .await;
    let services: Api<Service> = Api::namespaced(client.clone(), ns);
    let emulator = format!(
        "http://{}:9080",
        cluster_ip(&services, "slb-emulator").await
    );

    // The operator, as users install it; the emulator by its Service's DNS name, its keys from its Secret.
    let (operator_image, operator_digest) = image("slb-operator");
    let mut values = on_real_node.clone();
    values["image"] = json!({"repository": operator_image, "digest": operator_digest});
    values["replicaCount"] = json!(2);
    values["slb"] = json!({"endpoint": format!("http://slb-emulator.{ns}.svc.cluster.local:9080"), "clusterId": "in-cluster"});
    values["credentials"] = json!({"existingSecret": "slb-emulator-keys"});
    values["watchNamespaces"] = json!([ns]);
    values["leaderElection"] = json!({"leaseDuration": format!("{}s", LEASE_DURATION.as_secs())});
    values["logJson"] = json!(false);
    let operator_values = scratch.path().join("operator.yaml");
    std::fs::write(&operator_values, serde_json::to_string(&values).unwrap()).unwrap();
    run(
        &helm,
        &[
            "install",
            &release,
            "charts/slb-operator",
            "-n",
            ns,
            "--wait",
            "--timeout",
            "180s",
            "-f",
            operator_values.to_str().unwrap(),
        ],
    )
    .await;

    // Two replicas on the real node, Ready (the kubelet probes /readyz), running the pinned image.
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let replicas = eventually("two Ready replicas", Duration::from_secs(60), || async {
        let ready = ready_operator_pods(&pods, &release).await;
        (ready.len() == 2).then_some(ready)
    })
    .await;
    for (pod, node) in &replicas {
        assert_eq!(node, REAL_NODE, "{pod} runs on {node}");
        let status = pods.get(pod).await.unwrap().status.unwrap();
        let image_id = &status.container_statuses.unwrap()[0].image_id;
        assert!(
            image_id.ends_with(&operator_digest),
            "{pod} runs {image_id}, not {operator_digest}"
        );
    }
    let leases: Api<Lease> = Api::namespaced(client.clone(), ns);
    let leader = eventually("a leader", Duration::from_secs(60), || async {
        lease_holder(&leases, "slb-operator")
            .await
            .filter(|h| replicas.contains_key(h))
    })
    .await;

    // The examples: every kind, a Service of type LoadBalancer (Services, their status, EndpointSlices, Nodes),
    // an HTTPS listener (Secrets) — the pods' RBAC proven on every path.
    apply_examples(&kubectl, ns, scratch.path()).await;
    wait_all_ready(&kubectl, ns, Duration::from_secs(180)).await;
    let events = run(
        &kubectl,
        &["-n", ns, "get", "events.events.k8s.io", "-o", "json"],
    )
    .await;
    let events: Value = serde_json::from_str(&events).unwrap();
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reportingController"]
                .as_str()
                .is_some_and(|c| c.contains("slb-operator"))),
        "the operator published no Event"
    );
    for pod in replicas.keys() {
        let logs = run(&kubectl, &["-n", ns, "logs", pod]).await;
        assert!(
            !logs.to_lowercase().contains("forbidden"),
            "{pod} was refused something:\n{logs}"
        );
    }

    // /metrics through its Service: reconcile and SLB API call series, with labels that name no object.
    let metrics_url = format!(
        "http://{}:8080/metrics",
        cluster_ip(&services, &format!("{release}-metrics")).await
    );
    let metrics = eventually(
        "the leader's /metrics through the Service (it reaches either replica)",
        Duration::from_secs(30),
        || async {
            http_get(&metrics_url)
                .await
                .filter(|m| m.contains("\nslb_operator_leader 1\n"))
        },
    )
    .await;
    // Each replica says whether it leads: the standby's scrape is not empty.
    for pod in replicas.keys() {
        let ip = pods
            .get(pod)
            .await
            .unwrap()
            .status
            .and_then(|s| s.pod_ip)
            .expect("a pod IP");
        let own = http_get(&format!("http://{ip}:8080/metrics"))
            .await
            .unwrap_or_else(|| panic!("{pod}'s /metrics"));
        let expected = format!("\nslb_operator_leader {}\n", u8::from(*pod == leader));
        assert!(own.contains(&expected), "{pod}: no {expected:?} in\n{own}");
    }
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert!(
        series
            .iter()
            .any(|s| s.starts_with("slb_operator_reconcile")),
        "no reconcile series:\n{metrics}"
    );
    assert!(
        series.iter().any(|s| s.contains("CreateLoadBalancer")),
        "no SLB API call series:\n{metrics}"
    );
    assert!(series.len() < 2000, "{} series", series.len());
    for s in &series {
        for name in ["web", "storefront", "api-v1", "db-proxy", ns] {
            assert!(
                !s.contains(&format!("=\"{name}\"")),
                "an object's name in a label: {s}"
            );
        }
    }

    // Failover: the leader pod goes (it releases the Lease on SIGTERM) and another replica holds it well within the
    // lease duration: the standby, which looks for a released Lease every second, or the leader's replacement pod,
    // whichever sees the released Lease first (on a warm node the replacement can start in under a second). The
    // new leader reconciles. Never two at once: the call log below.
    let deleted = Instant::now();
    run(
        &kubectl,
        &["-n", ns, "delete", "pod", &leader, "--wait=false"],
    )
    .await;
    let successor = eventually(
        "another replica to hold the Lease",
        LEASE_DURATION + Duration::from_secs(5),
        || async {
            lease_holder(&leases, "slb-operator")
                .await
                .filter(|h| *h != leader)
        },
    )
    .await;
    let took = deleted.elapsed();
    eprintln!("in-cluster: {successor} took over from {leader} after {took:?}");
    assert!(
        took <= LEASE_DURATION + Duration::from_secs(1),
        "the Lease changed hands after {took:?}, more than the lease duration {LEASE_DURATION:?}"
    );
    rename_web(&kubectl, ns, "web-after-failover", Duration::from_secs(90)).await;
    assert!(
        writes(&emulator)
            .await
            .iter()
            .any(|(action, p)| action == "SetLoadBalancerName"
                && p.get("LoadBalancerName")
                    .is_some_and(|n| n == "web-after-failover")),
        "the new leader did not rename the load balancer"
    );

    // helm upgrade with a changed value rolls the Deployment; an object changed meanwhile is reconciled.
    let before = ready_operator_pods(&pods, &release).await;
    let upgrade_args = [
        "upgrade",
        release.as_str(),
        "charts/slb-operator",
        "-n",
        ns,
        "--reuse-values",
        "--set",
        "logLevel=debug",
        "--wait",
        "--timeout",
        "180s",
    ];
    let upgrade = exec(&helm, &upgrade_args, None);
    let change = rename_web(&kubectl, ns, "web-during-upgrade", Duration::from_secs(120));
    let ((ok, out, err), ()) = tokio::join!(upgrade, change);
    assert!(ok, "helm upgrade failed:\n{out}{err}");
    let after = eventually(
        "two Ready replicas after the upgrade",
        Duration::from_secs(90),
        || async {
            let ready = ready_operator_pods(&pods, &release).await;
            (ready.len() == 2 && ready.keys().all(|p| !before.contains_key(p))).then_some(ready)
        },
    )
    .await;
    eventually(
        "a leader after the upgrade",
        Duration::from_secs(60),
        || async {
            lease_holder(&leases, "slb-operator")
                .await
                .filter(|h| after.contains_key(h))
        },
    )
    .await;
    assert!(
        writes(&emulator)
            .await
            .iter()
            .any(|(action, p)| action == "SetLoadBalancerName"
                && p.get("LoadBalancerName")
                    .is_some_and(|n| n == "web-during-upgrade")),
        "the change made during the upgrade was not reconciled"
    );

    // The examples go (the finalizers need the operator), then no write was ever made twice.
    run_with_input(
        &kubectl,
        &[
            "-n",
            ns,
            "delete",
            "-f",
            "-",
            "--wait=true",
            "--timeout=180s",
        ],
        Some(&examples(ns)),
    )
    .await;
    let all = writes(&emulator).await;
    let mut seen = BTreeSet::new();
    let twice: Vec<_> = all.iter().filter(|w| !seen.insert((*w).clone())).collect();
    assert!(twice.is_empty(), "writes made twice: {twice:?}");
    assert!(
        all.iter().any(|(a, _)| a == "DeleteLoadBalancer"),
        "no load balancer was deleted"
    );

    // helm uninstall keeps the CRDs.
    run(&helm, &["uninstall", &release, "-n", ns, "--wait"]).await;
    for crd in KINDS.split(',') {
        run(
            &kubectl,
            &["get", "crd", &format!("{crd}.slb.operator.dev")],
        )
        .await;
    }
    run(&helm, &["uninstall", "slb-emulator", "-n", ns, "--wait"]).await;
    namespace.delete().await;
    eprintln!("in-cluster: took {:?}", started.elapsed());
}
