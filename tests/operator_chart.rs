//! The Helm chart: `helm lint --strict` passes, the rendered objects are accepted by the real
//! apiserver (server-side dry run), the Deployment's arguments are ones `slb-operator run` accepts,
//! and the ClusterRole covers every CRD with its status and finalizers.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Parser;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::rbac::v1::ClusterRole;
use serde::Deserialize;
use slb_operator::cli::{Cli, Command as CliCommand};
use slb_operator::crd::crds;

const CHART: &str = "charts/slb-operator";
const VALUES: [&str; 4] = [
    "--set=slb.clusterId=test-cluster",
    "--set=credentials.existingSecret=slb-credentials",
    "--set=watchNamespace=team-a",
    "--namespace=default",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// helm, from the tool cache `hack/build-tools.sh` fills (it builds only what is missing).
fn helm() -> PathBuf {
    let output = Command::new(repo().join("hack/build-tools.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("hack/build-tools.sh runs");
    assert!(output.status.success(), "hack/build-tools.sh failed");
    let bin = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    PathBuf::from(bin).join("helm")
}

fn run(command: &mut Command) -> String {
    let output = command
        .current_dir(repo())
        .output()
        .expect("the command runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn documents(rendered: &str) -> Vec<serde_yaml::Value> {
    serde_yaml::Deserializer::from_str(rendered)
        .map(|document| serde_yaml::Value::deserialize(document).unwrap())
        .filter(|document| !document.is_null())
        .collect()
}

fn of_kind<T: serde::de::DeserializeOwned>(documents: &[serde_yaml::Value], kind: &str) -> T {
    let document = documents
        .iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} rendered"));
    serde_yaml::from_value(document.clone()).unwrap()
}

#[tokio::test]
async fn the_chart_lints_renders_and_matches_the_operator() {
    // The server-side dry run needs the control plane, like every cluster test.
    let _client = operator_support::cluster_client().await;
    let helm = helm();
    run(Command::new(&helm)
        .args(["lint", "--strict", CHART])
        .args(VALUES));

    let rendered = run(Command::new(&helm)
        .args(["template", "slb-operator", CHART])
        .args(VALUES));
    // The Secrets Role lives in the watched namespace, which the dry run needs to exist.
    let _ = Command::new("kubectl")
        .args(["create", "namespace", "team-a"])
        .output();
    let mut kubectl = Command::new("kubectl")
        .args(["apply", "--dry-run=server", "-f", "-"])
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    use std::io::Write as _;
    kubectl
        .stdin
        .take()
        .unwrap()
        .write_all(rendered.as_bytes())
        .unwrap();
    let applied = kubectl.wait_with_output().unwrap();
    assert!(
        applied.status.success(),
        "the apiserver rejects the rendered chart: {}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let documents = documents(&rendered);
    let deployment: Deployment = of_kind(&documents, "Deployment");
    let container = &deployment.spec.unwrap().template.spec.unwrap().containers[0];
    let args = container.args.clone().unwrap();
    let parsed =
        Cli::try_parse_from(std::iter::once("slb-operator".to_owned()).chain(args.clone()));
    let Ok(Cli {
        command: CliCommand::Run(run_args),
    }) = parsed
    else {
        panic!("slb-operator run rejects the chart's arguments {args:?}: {parsed:?}");
    };
    assert_eq!(run_args.cluster_id, "test-cluster");
    assert!(
        run_args.leader_elect,
        "leader election is on by default in the chart"
    );
    assert_eq!(run_args.watch_namespace.as_deref(), Some("team-a"));
    let env: Vec<String> = container
        .env
        .iter()
        .flatten()
        .map(|e| e.name.clone())
        .collect();
    for name in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "POD_NAME",
        "POD_NAMESPACE",
    ] {
        assert!(env.contains(&name.to_owned()), "{name} is not set: {env:?}");
    }

    let role: ClusterRole = of_kind(&documents, "ClusterRole");
    let granted = |resource: &str, verb: &str| {
        role.rules.iter().flatten().any(|rule| {
            rule.api_groups
                .iter()
                .flatten()
                .any(|g| g == "slb.operator.dev")
                && rule.resources.iter().flatten().any(|r| r == resource)
                && rule.verbs.iter().any(|v| v == verb)
        })
    };
    for crd in crds() {
        let plural = crd.spec.names.plural;
        for verb in ["get", "list", "watch", "patch"] {
            assert!(granted(&plural, verb), "{plural}: {verb} not granted");
        }
        assert!(
            granted(&format!("{plural}/status"), "patch"),
            "{plural}/status: patch not granted"
        );
        assert!(
            granted(&format!("{plural}/finalizers"), "update"),
            "{plural}/finalizers: update not granted"
        );
    }
}

/// `helm template` with extra arguments; Ok(stdout) or Err(stderr).
fn template(extra: &[&str]) -> Result<String, String> {
    let output = Command::new(helm())
        .args(["template", "slb-operator", CHART])
        .args(VALUES)
        .args(extra)
        .current_dir(repo())
        .output()
        .expect("helm runs");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn kinds(rendered: &str) -> Vec<String> {
    documents(rendered)
        .iter()
        .filter_map(|d| d["kind"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn values_the_schema_rejects_fail_with_a_message() {
    for (value, message) in [
        ("--set=replicaCount=-1", "/replicaCount"),
        ("--set=image.digest=latest", "/image/digest"),
        ("--set=resyncPeriod=often", "/resyncPeriod"),
        ("--set=slb.endpoint=slb.aliyuncs.com", "/slb/endpoint"),
        (
            "--set=leaderElection.leaseDuration=15",
            "/leaderElection/leaseDuration",
        ),
        ("--set=replicaCountt=2", "replicaCountt"),
    ] {
        let error = template(&[value]).expect_err(value);
        assert!(
            error.contains("values don't meet the specifications of the schema")
                && error.contains(message),
            "{value}: {error}"
        );
    }
    template(&["--set=image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"])
        .expect("a digest is accepted");
}

#[test]
fn optional_objects_are_rendered_only_when_asked_for() {
    let default = kinds(&template(&[]).unwrap());
    for kind in [
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
        "ClusterRole",
        "Role",
    ] {
        assert!(
            default.iter().any(|k| k == kind),
            "{kind} is not rendered: {default:?}"
        );
    }
    for kind in ["ServiceMonitor", "NetworkPolicy"] {
        assert!(
            !default.iter().any(|k| k == kind),
            "{kind} is rendered unasked"
        );
    }
    let all = kinds(
        &template(&[
            "--set=metrics.serviceMonitor.enabled=true",
            "--set=networkPolicy.enabled=true",
        ])
        .unwrap(),
    );
    for kind in ["ServiceMonitor", "NetworkPolicy"] {
        assert!(
            all.iter().any(|k| k == kind),
            "{kind} is not rendered when asked"
        );
    }
    let without = kinds(&template(&["--set=podDisruptionBudget.enabled=false"]).unwrap());
    assert!(!without.iter().any(|k| k == "PodDisruptionBudget"));
}

#[test]
fn the_image_is_pinned_by_digest_and_the_replicas_spread() {
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let rendered = template(&[
        "--set=image.repository=registry.example.com/slb-operator",
        &format!("--set=image.digest={digest}"),
        "--set=image.tag=ignored",
    ])
    .unwrap();
    let deployment: Deployment = of_kind(&documents(&rendered), "Deployment");
    let spec = deployment.spec.unwrap().template.spec.unwrap();
    assert_eq!(
        spec.containers[0].image.as_deref(),
        Some(format!("registry.example.com/slb-operator@{digest}").as_str())
    );
    let container = &spec.containers[0];
    assert!(
        container
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .is_some()
    );
    assert!(
        container
            .resources
            .as_ref()
            .and_then(|r| r.limits.as_ref())
            .is_some()
    );
    let spread = spec.topology_spread_constraints.expect("topology spread");
    assert_eq!(spread[0].topology_key, "kubernetes.io/hostname");
    let selector = spread[0]
        .label_selector
        .as_ref()
        .unwrap()
        .match_labels
        .as_ref()
        .unwrap();
    assert_eq!(
        selector.get("app.kubernetes.io/name").map(String::as_str),
        Some("slb-operator")
    );
}
