//! The Helm chart, installed for real: `helm lint`, `helm install` into the local control plane, and
//! then the operator run with the chart's own ServiceAccount token, so that its RBAC is proven to be
//! enough for a full create → Ready → delete cycle with leader election on.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kube::Api;
use operator_support::*;
use serde_json::json;
use slb_emulator::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET};
use slb_operator::crd::SlbInstance;
use tokio::process::Command;

const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/slb-operator");

/// The directory with helm and kubectl, built by hack/build-tools.sh (cached, so this is quick).
fn tools_bin() -> PathBuf {
    let output =
        std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/hack/build-tools.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("hack/build-tools.sh runs");
    assert!(output.status.success(), "hack/build-tools.sh failed");
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// Runs a tool to completion and returns its standard output; fails the test on a non-zero exit.
async fn run(program: &Path, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .await
        .expect("the tool starts");
    assert!(
        output.status.success(),
        "{} {} failed:\n{}{}",
        program.display(),
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `helm install` of the chart as `release` into `ns`, watching `ns`, with `values` (each a
/// `--set`) and then `flags`.
async fn install_chart(helm: &Path, release: &str, ns: &str, values: &[&str], flags: &[&str]) {
    let watch = format!("watchNamespaces={{{ns}}}");
    let mut args = vec![
        "install",
        release,
        CHART,
        "--namespace",
        ns,
        "--set",
        &watch,
    ];
    for value in values {
        args.extend(["--set", value]);
    }
    args.extend(flags);
    run(helm, &args).await;
}

#[tokio::test]
async fn the_chart_installs_and_its_rbac_suffices_for_the_operator() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "chart").await;
    let ns = namespace.name.as_str();
    // A release name that contains the chart name is used as is for the objects it creates.
    let release = format!("slb-operator-{ns}");
    let emulator = start_emulator().await;
    let bin = tools_bin();
    let (helm, kubectl) = (bin.join("helm"), bin.join("kubectl"));

    run(
        &helm,
        &["lint", CHART, "--strict", "--set", "slb.clusterId=lint"],
    )
    .await;
    let endpoint = format!("slb.endpoint={}", emulator.url());
    let key_id = format!("credentials.accessKeyId={DEMO_ACCESS_KEY_ID}");
    let key_secret = format!("credentials.accessKeySecret={DEMO_ACCESS_KEY_SECRET}");
    let values = [
        "slb.clusterId=chart-test",
        &endpoint,
        &key_id,
        &key_secret,
        "replicaCount=1",
    ];
    install_chart(
        &helm,
        &release,
        ns,
        &values,
        &["--wait", "--timeout", "90s"],
    )
    .await;

    // kwok plays the kubelet, so the pod is Ready but no container runs. The operator binary runs
    // here instead, with exactly the identity and permissions the chart gave the pod.
    let service_account = release.clone();
    let token = run(
        &kubectl,
        &[
            "create",
            "token",
            &service_account,
            "-n",
            ns,
            "--duration",
            "1h",
        ],
    )
    .await;
    let ca = run(
        &kubectl,
        &[
            "config",
            "view",
            "--raw",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.certificate-authority}",
        ],
    )
    .await;
    let server = run(
        &kubectl,
        &[
            "config",
            "view",
            "--minify",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ],
    )
    .await;
    let kubeconfig = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        kubeconfig.path(),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: '{server}', certificate-authority: '{ca}'}}\n\
             users:\n- name: u\n  user: {{token: '{}'}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u, namespace: {ns}}}\ncurrent-context: c\n",
            token.trim()
        ),
    )
    .unwrap();
    let mut operator = Command::new(env!("CARGO_BIN_EXE_slb-operator"))
        .args([
            "run",
            "--endpoint",
            &emulator.url(),
            "--region",
            REGION,
            "--cluster-id",
            "chart-test",
        ])
        .args(["--watch-namespaces", ns, "--metrics-addr", "127.0.0.1:0"])
        .args([
            "--leader-elect",
            "true",
            "--lease-namespace",
            ns,
            "--lease-name",
            "slb-operator",
        ])
        .env("KUBECONFIG", kubeconfig.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the operator starts");

    let api: Api<SlbInstance> = Api::namespaced(client.clone(), ns);
    create(
        &api,
        "via-chart",
        json!({"internetChargeType": "paybytraffic"}),
    )
    .await;
    // Ready under the chart's RBAC.
    wait_ready(&api, "via-chart", Duration::from_secs(60)).await;
    // Its finalizer released under the chart's RBAC.
    delete_and_wait(&api, "via-chart", Duration::from_secs(60)).await;
    assert!(
        operator.try_wait().unwrap().is_none(),
        "the operator must still be running"
    );

    operator.start_kill().ok();
    let _ = operator.wait().await;
    run(&helm, &["uninstall", &release, "--namespace", ns, "--wait"]).await;
    namespace.delete().await;
}

/// Runs kubectl as the chart's ServiceAccount (impersonated: the request is authorised exactly as the pods'
/// would be) and returns whether the apiserver allowed it, failing on anything but success or Forbidden.
async fn allowed_as(kubectl: &Path, service_account: &str, args: &[&str]) -> bool {
    let output = Command::new(kubectl)
        .arg(format!("--as={service_account}"))
        .args(args)
        .output()
        .await
        .expect("kubectl runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        return true;
    }
    assert!(
        stderr.contains("Forbidden") || stderr.contains("forbidden"),
        "kubectl {} failed for another reason than RBAC: {stderr}",
        args.join(" ")
    );
    false
}

#[tokio::test]
async fn the_service_account_may_do_nothing_beyond_what_the_chart_grants() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "chart-rbac").await;
    let ns = namespace.name.as_str();
    let release = format!("slb-operator-{ns}");
    let bin = tools_bin();
    let (helm, kubectl) = (bin.join("helm"), bin.join("kubectl"));
    let values = [
        "slb.clusterId=rbac-test",
        "credentials.existingSecret=none",
        "replicaCount=0",
    ];
    install_chart(&helm, &release, ns, &values, &[]).await;
    let sa = format!("system:serviceaccount:{ns}:{release}");
    // What the operator needs (the in-cluster test proves it on every path; these are the scopes).
    for args in [
        vec!["get", "secrets", "-n", ns],
        vec!["get", "nodes"],
        vec!["get", "endpointslices", "-n", ns],
        vec!["get", "services", "-n", ns],
        // Pod readiness gates.
        vec!["get", "pods", "-n", ns],
        vec![
            "get",
            "slbinstances,slblisteners,slbvservergroups,slbmasterslaveservergroups,slbrules",
            "-n",
            ns,
        ],
    ] {
        assert!(allowed_as(&kubectl, &sa, &args).await, "refused: {args:?}");
    }
    // What it must not do.
    for args in [
        vec!["delete", "node", "kwok-node-1", "--dry-run=server"],
        vec!["get", "secrets", "-n", "kube-system"],
        vec!["get", "secrets", "-n", "default"],
        // Outside the watched namespace, nothing namespaced: no cluster-wide grant.
        vec!["get", "secrets", "-A"],
        vec!["get", "services", "-n", "default"],
        vec!["get", "endpointslices", "-A"],
        vec!["get", "slbinstances", "-A"],
        vec!["get", "slbinstances", "-n", "default"],
        vec!["get", "pods", "-A"],
        vec!["get", "configmaps", "-n", ns],
        vec![
            "delete",
            "service",
            "kubernetes",
            "-n",
            "default",
            "--dry-run=server",
        ],
        vec![
            "create",
            "namespace",
            "rbac-test-forbidden",
            "--dry-run=server",
        ],
        vec![
            "delete",
            "crd",
            "slbinstances.slb.operator.dev",
            "--dry-run=server",
        ],
        vec!["get", "leases", "-n", "kube-system"],
        vec![
            "create",
            "clusterrolebinding",
            "escalate",
            "--clusterrole=cluster-admin",
            "--user=x",
            "--dry-run=server",
        ],
    ] {
        assert!(!allowed_as(&kubectl, &sa, &args).await, "allowed: {args:?}");
    }

    // A namespace user with the built-in edit role: the custom resources through the chart's
    // aggregated roles, but never their status, whose IDs the operator trusts.
    let user = format!("system:serviceaccount:{ns}:team-user");
    let binding = format!("--serviceaccount={ns}:team-user");
    run(
        &kubectl,
        &[
            "create",
            "rolebinding",
            "team-edit",
            "--clusterrole=edit",
            &binding,
            "-n",
            ns,
        ],
    )
    .await;
    let resources =
        "slbinstances,slblisteners,slbvservergroups,slbmasterslaveservergroups,slbrules";
    // The aggregation controller fills the edit role in its own time.
    let aggregated = Duration::from_secs(30);
    eventually(
        "the edit role to take the custom resources",
        aggregated,
        || async {
            let mut allowed = true;
            for resource in resources.split(',') {
                for verb in ["create", "patch", "delete", "get"] {
                    allowed &= can_i(&kubectl, &user, &[verb, resource, "-n", ns]).await;
                }
            }
            allowed.then_some(())
        },
    )
    .await;
    for resource in resources.split(',') {
        for verb in ["patch", "update"] {
            let args = [verb, resource, "--subresource=status", "-n", ns];
            assert!(!can_i(&kubectl, &user, &args).await, "allowed: {args:?}");
        }
    }
    run(&helm, &["uninstall", &release, "--namespace", ns, "--wait"]).await;
    namespace.delete().await;
}

/// `kubectl auth can-i` as `user`: whether the apiserver would allow it.
async fn can_i(kubectl: &Path, user: &str, args: &[&str]) -> bool {
    let output = Command::new(kubectl)
        .args(["auth", "can-i", &format!("--as={user}")])
        .args(args)
        .output()
        .await
        .expect("kubectl runs");
    let answer = String::from_utf8_lossy(&output.stdout);
    match answer.trim() {
        "yes" => true,
        "no" => false,
        other => panic!(
            "kubectl auth can-i {}: {other} {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}
