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
    let mut kubectl = Command::new("kubectl")
        .args([
            "apply",
            "--dry-run=server",
            "--namespace=default",
            "-f",
            "-",
        ])
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
