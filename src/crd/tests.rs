//! The examples parse as the Rust types, and the generated CRDs carry what kubectl shows.

use super::*;
use kube::Resource;
use serde::Deserialize;

/// The YAML files under `dir`, recursively, in a stable order.
fn yaml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every slb.operator.dev document of every file under examples/, as (kind, document).
fn example_documents() -> Vec<(String, serde_yaml::Value)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut documents = Vec::new();
    for path in yaml_files(&dir) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value = serde_yaml::Value::deserialize(document);
            assert!(value.is_ok(), "{} is not YAML: {value:?}", path.display());
            let value = value.unwrap_or_default();
            // Examples may include the workloads they route to (Deployments, Services); only our
            // kinds are checked here.
            let ours = value["apiVersion"]
                .as_str()
                .is_some_and(|version| version.starts_with(GROUP));
            if ours {
                let kind = value["kind"].as_str().unwrap_or_default().to_owned();
                documents.push((kind, value));
            }
        }
    }
    documents
}

fn parses_as<K: serde::de::DeserializeOwned>(document: &serde_yaml::Value) -> bool {
    serde_yaml::from_value::<K>(document.clone()).is_ok()
}

#[test]
fn every_example_parses_as_its_kind() {
    let documents = example_documents();
    let mut kinds: Vec<&str> = documents.iter().map(|(kind, _)| kind.as_str()).collect();
    kinds.dedup();
    for kind in [
        "SlbInstance",
        "SlbListener",
        "SlbVServerGroup",
        "SlbMasterSlaveServerGroup",
        "SlbRule",
    ] {
        assert!(kinds.contains(&kind), "no example of {kind}");
    }
    for (kind, document) in &documents {
        let parsed = match kind.as_str() {
            "SlbInstance" => parses_as::<SlbInstance>(document),
            "SlbListener" => parses_as::<SlbListener>(document),
            "SlbVServerGroup" => parses_as::<SlbVServerGroup>(document),
            "SlbMasterSlaveServerGroup" => parses_as::<SlbMasterSlaveServerGroup>(document),
            "SlbRule" => parses_as::<SlbRule>(document),
            _ => false,
        };
        assert!(
            parsed,
            "example {kind} {:?} does not parse",
            document["metadata"]["name"]
        );
    }
}

#[test]
fn every_kind_is_namespaced_in_the_slb_category_with_a_ready_column() {
    for crd in crds() {
        let kind = &crd.spec.names.kind;
        assert_eq!(crd.spec.group, GROUP);
        assert_eq!(crd.spec.scope, "Namespaced", "{kind}");
        assert_eq!(
            crd.spec.names.categories,
            Some(vec!["slb".to_owned()]),
            "{kind}"
        );
        assert!(
            crd.spec
                .names
                .short_names
                .as_ref()
                .is_some_and(|names| !names.is_empty()),
            "{kind}"
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        let columns: Vec<&str> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|column| column.name.as_str())
            .collect();
        assert!(
            columns.contains(&"Ready") && columns.contains(&"Age"),
            "{kind}: {columns:?}"
        );
        assert!(
            version
                .subresources
                .as_ref()
                .is_some_and(|s| s.status.is_some()),
            "{kind}"
        );
    }
}

#[test]
fn the_api_version_is_slb_operator_dev_v1alpha1() {
    assert_eq!(SlbInstance::api_version(&()), "slb.operator.dev/v1alpha1");
    assert_eq!(SlbRule::plural(&()), "slbrules");
}
