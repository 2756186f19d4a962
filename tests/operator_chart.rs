//! The Helm chart: `helm lint --strict` passes, the rendered objects are accepted by the real
//! apiserver (server-side dry run), the Deployment's arguments are ones `slb-operator run` accepts,
//! and the RBAC covers what the operator does: cluster-wide when it watches every namespace, else
//! a Role per watched namespace and only Nodes cluster-wide.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Parser;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::rbac::v1::{PolicyRule, RoleBinding};
use serde::Deserialize;
use slb_operator::cli::{Cli, Command as CliCommand, RunArgs};
use slb_operator::crd::crds;

const CHART: &str = "charts/slb-operator";
const VALUES: [&str; 3] = [
    "--set=slb.clusterId=test-cluster",
    "--set=credentials.existingSecret=slb-credentials",
    "--namespace=default",
];
const WATCH_TEAM_A: &str = "--set=watchNamespaces={team-a}";

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
        .args(VALUES)
        .arg(WATCH_TEAM_A));

    let rendered = run(Command::new(&helm)
        .args(["template", "slb-operator", CHART])
        .args(VALUES)
        .arg(WATCH_TEAM_A));
    // The Role lives in the watched namespace, which the dry run needs to exist.
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
    let run_args = run_args(&documents);
    assert_eq!(run_args.cluster_id, "test-cluster");
    assert!(
        run_args.leader_elect,
        "leader election is on by default in the chart"
    );
    assert_eq!(run_args.watch_namespaces, ["team-a"]);
    let deployment: Deployment = of_kind(&documents, "Deployment");
    let container = &deployment.spec.unwrap().template.spec.unwrap().containers[0];
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
}

/// The Deployment's arguments, as `slb-operator run` parses them; fails when it rejects them.
fn run_args(documents: &[serde_yaml::Value]) -> RunArgs {
    let deployment: Deployment = of_kind(documents, "Deployment");
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
    run_args
}

/// The operator's rules of every rendered `kind` (ClusterRole or Role), by namespace (empty for a
/// ClusterRole), leaving out the leader election Role and the roles aggregated into the users'.
fn rules_by_namespace(
    documents: &[serde_yaml::Value],
    kind: &str,
) -> BTreeMap<String, Vec<PolicyRule>> {
    let mut rules = BTreeMap::new();
    for document in documents.iter().filter(|d| d["kind"] == kind) {
        let metadata = &document["metadata"];
        let for_users = metadata["labels"].as_mapping().is_some_and(|labels| {
            labels.keys().any(|key| {
                key.as_str()
                    .is_some_and(|key| key.starts_with("rbac.authorization.k8s.io/aggregate-to-"))
            })
        });
        if for_users
            || metadata["name"]
                .as_str()
                .unwrap()
                .ends_with("-leader-election")
        {
            continue;
        }
        let granted: Vec<PolicyRule> = serde_yaml::from_value(document["rules"].clone()).unwrap();
        rules
            .entry(
                metadata["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .or_insert_with(Vec::new)
            .extend(granted);
    }
    rules
}

fn allows(rules: &[PolicyRule], group: &str, resource: &str, verb: &str) -> bool {
    rules.iter().any(|rule| {
        rule.api_groups.iter().flatten().any(|g| g == group)
            && rule.resources.iter().flatten().any(|r| r == resource)
            && rule.verbs.iter().any(|v| v == verb)
    })
}

/// Fails unless `rules` grant everything the operator does in a namespace it watches.
fn assert_grants_the_namespaced_work(rules: &[PolicyRule], scope: &str) {
    for crd in crds() {
        let plural = crd.spec.names.plural;
        for verb in ["get", "list", "watch", "patch"] {
            assert!(
                allows(rules, "slb.operator.dev", &plural, verb),
                "{scope}: {plural}: {verb} not granted"
            );
        }
        assert!(
            allows(
                rules,
                "slb.operator.dev",
                &format!("{plural}/status"),
                "patch"
            ),
            "{scope}: {plural}/status: patch not granted"
        );
        assert!(
            allows(
                rules,
                "slb.operator.dev",
                &format!("{plural}/finalizers"),
                "update"
            ),
            "{scope}: {plural}/finalizers: update not granted"
        );
    }
    for (group, resource, verbs) in [
        ("", "secrets", ["get", "list", "watch"].as_slice()),
        ("", "services", &["get", "list", "watch", "patch"]),
        ("", "services/status", &["patch"]),
        (
            "discovery.k8s.io",
            "endpointslices",
            &["get", "list", "watch"],
        ),
        ("events.k8s.io", "events", &["create"]),
    ] {
        for verb in verbs {
            assert!(
                allows(rules, group, resource, verb),
                "{scope}: {resource}: {verb} not granted"
            );
        }
    }
}

#[test]
fn watching_every_namespace_grants_the_namespaced_work_cluster_wide() {
    let documents = documents(&template(&[]).unwrap());
    assert!(run_args(&documents).watch_namespaces.is_empty());
    let cluster = rules_by_namespace(&documents, "ClusterRole");
    assert_grants_the_namespaced_work(&cluster[""], "ClusterRole");
    assert!(allows(&cluster[""], "", "nodes", "watch"));
    let roles = rules_by_namespace(&documents, "Role");
    assert!(roles.is_empty(), "no namespaced Role needed: {roles:?}");
}

#[test]
fn watched_namespaces_get_roles_and_only_nodes_are_granted_cluster_wide() {
    let rendered = template(&["--set=watchNamespaces={team-a,team-b}"]).unwrap();
    let documents = documents(&rendered);
    assert_eq!(run_args(&documents).watch_namespaces, ["team-a", "team-b"]);

    let cluster = rules_by_namespace(&documents, "ClusterRole");
    let cluster_wide: Vec<&String> = cluster[""]
        .iter()
        .flat_map(|rule| rule.resources.iter().flatten())
        .collect();
    assert_eq!(cluster_wide, ["nodes"], "only nodes are read cluster-wide");
    let roles = rules_by_namespace(&documents, "Role");
    assert_eq!(
        roles.keys().collect::<Vec<_>>(),
        ["team-a", "team-b"],
        "one Role per watched namespace"
    );
    for (namespace, rules) in &roles {
        assert_grants_the_namespaced_work(rules, namespace);
    }
    let bound: Vec<(String, String, String)> = documents
        .iter()
        .filter(|d| d["kind"] == "RoleBinding")
        .map(|d| serde_yaml::from_value::<RoleBinding>(d.clone()).unwrap())
        .filter(|b| b.role_ref.kind == "Role" && !b.role_ref.name.ends_with("-leader-election"))
        .map(|b| {
            let subject = &b.subjects.unwrap()[0];
            (
                b.metadata.namespace.unwrap(),
                b.role_ref.name,
                format!("{}/{}", subject.namespace.clone().unwrap(), subject.name),
            )
        })
        .collect();
    let bound_to = |ns: &str| {
        (
            ns.to_owned(),
            "slb-operator".to_owned(),
            "default/slb-operator".to_owned(),
        )
    };
    assert_eq!(bound, [bound_to("team-a"), bound_to("team-b")]);
}

#[test]
fn the_adoption_values_become_the_operators_flags() {
    let default = run_args(&documents(&template(&[]).unwrap()));
    assert!(!default.allow_deleting_adopted);
    assert_eq!(default.adoption_namespaces, None);
    let set = run_args(&documents(
        &template(&[
            "--set=adoption.allowDeletingAdopted=true",
            "--set=adoption.namespaces={ops,platform}",
        ])
        .unwrap(),
    ));
    assert!(set.allow_deleting_adopted);
    assert_eq!(
        set.adoption_namespaces,
        Some(vec!["ops".to_owned(), "platform".to_owned()])
    );
}

#[test]
fn the_service_values_become_the_operators_flags() {
    // Off by default: in a cluster that also runs the CCM, both would serve a class-less Service.
    let default = run_args(&documents(&template(&[]).unwrap()));
    assert!(!default.manage_services_without_class);
    assert_eq!(default.service_load_balancer_class, "slb.operator.dev/slb");
    let set = run_args(&documents(
        &template(&[
            "--set=services.manageWithoutClass=true",
            "--set=services.loadBalancerClass=example.com/slb",
        ])
        .unwrap(),
    ));
    assert!(set.manage_services_without_class);
    assert_eq!(set.service_load_balancer_class, "example.com/slb");
}

#[test]
fn the_call_timeout_becomes_the_operators_flag() {
    let default = run_args(&documents(&template(&[]).unwrap()));
    assert_eq!(default.slb_call_timeout, Duration::from_secs(10));
    let set = run_args(&documents(
        &template(&["--set=slb.callTimeout=1500ms"]).unwrap(),
    ));
    assert_eq!(set.slb_call_timeout, Duration::from_millis(1500));
    assert!(template(&["--set=slb.callTimeout=soon"]).is_err());
}

#[test]
fn concurrency_per_kind_becomes_the_operators_flag_and_unknown_kinds_are_refused() {
    assert!(
        run_args(&documents(&template(&[]).unwrap()))
            .kind_concurrency
            .is_empty()
    );
    let set = run_args(&documents(
        &template(&[
            "--set=kindConcurrency.SlbVServerGroup=16",
            "--set=kindConcurrency.Service=8",
        ])
        .unwrap(),
    ));
    assert_eq!(
        set.kind_concurrency,
        [
            ("Service".to_owned(), 8),
            ("SlbVServerGroup".to_owned(), 16)
        ]
    );
    let refused = template(&["--set=kindConcurrency.Groups=2"]).unwrap_err();
    // The schema names the wrong kind and the ones it takes.
    assert!(
        refused.contains("'Groups'") && refused.contains("'SlbVServerGroup'"),
        "{refused}"
    );
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
        ("--set=watchNamespaces={Team_A}", "/watchNamespaces/0"),
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
    let resources = spec.containers[0].resources.as_ref().expect("resources");
    assert!(resources.requests.is_some(), "{resources:?}");
    assert!(resources.limits.is_some(), "{resources:?}");
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
