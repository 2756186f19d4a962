//! The real apiserver rejects invalid objects with the schema's and the CEL rules' messages.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Api, Client};
use operator_support::*;
use serde_json::{Value, json};

fn api(client: &Client, namespace: &str, kind: &str) -> Api<DynamicObject> {
    let resource =
        ApiResource::from_gvk(&GroupVersionKind::gvk("slb.operator.dev", "v1alpha1", kind));
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// Creates the object and returns the apiserver's rejection message; fails if it was accepted.
async fn rejection(client: &Client, namespace: &str, kind: &str, spec: Value) -> String {
    let result = api(client, namespace, kind)
        .create(
            &PostParams::default(),
            &object::<DynamicObject>(kind, "invalid", spec.clone()),
        )
        .await;
    match result {
        Ok(_) => panic!("{kind} with spec {spec} was accepted"),
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "{status:?}");
            status.message
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}

async fn assert_rejected(
    client: &Client,
    namespace: &str,
    kind: &str,
    spec: Value,
    expected: &[&str],
) {
    let message = rejection(client, namespace, kind, spec).await;
    for part in expected {
        assert!(
            message.contains(part),
            "expected {part:?} in the rejection of {kind}: {message}"
        );
    }
}

fn listener(protocol: &str, extra: Value) -> Value {
    let mut spec = json!({"instanceRef": {"name": "web"}, "protocol": protocol, "listenerPort": 80, "backendServerPort": 8080});
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    spec
}

#[tokio::test]
async fn invalid_objects_are_rejected_with_messages_a_person_understands() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-validation").await;
    let ns = namespace.name.as_str();

    let same = json!({"serverId": "i-1", "port": 80});
    let cases: [(&str, Value, &[&str]); 29] = [
        // SlbInstance
        (
            "SlbInstance",
            json!({"bandwidth": 5}),
            &["bandwidth is only used when internetChargeType is paybybandwidth"],
        ),
        (
            "SlbInstance",
            json!({"internetChargeType": "paybybandwidth", "bandwidth": 5000}),
            &["spec.bandwidth", "less than or equal to 1000"],
        ),
        (
            "SlbInstance",
            json!({"addressType": "intranet", "internetChargeType": "paybytraffic"}),
            &["internetChargeType applies only to addressType internet"],
        ),
        (
            "SlbInstance",
            json!({"addressType": "public"}),
            &["spec.addressType", "Unsupported value: \"public\""],
        ),
        (
            "SlbInstance",
            json!({"loadBalancerId": "lb-1", "name": "x"}),
            &["an adopted load balancer (loadBalancerId set) is never modified"],
        ),
        (
            "SlbInstance",
            json!({"loadBalancerId": "lb-1", "takeOverFromCcm": "a0b9d3a4e"}),
            &["loadBalancerId adopts a load balancer as it is, takeOverFromCcm takes one over"],
        ),
        (
            "SlbInstance",
            json!({"deletionPolicy": "Keep"}),
            &["spec.deletionPolicy", "Unsupported value"],
        ),
        (
            "SlbInstance",
            json!({"tags": {"aliyun-owner": "me"}}),
            &["tag keys must be at most 64 characters and must not start with 'aliyun'"],
        ),
        ("SlbInstance", json!({"name": "has spaces"}), &["spec.name"]),
        // SlbListener: ports and the per-protocol matrix
        (
            "SlbListener",
            listener("TCP", json!({"listenerPort": 0})),
            &["spec.listenerPort", "greater than or equal to 1"],
        ),
        (
            "SlbListener",
            listener("SCTP", json!({})),
            &["spec.protocol", "Unsupported value: \"SCTP\""],
        ),
        (
            "SlbListener",
            listener("HTTPS", json!({})),
            &["serverCertificate is required when protocol is HTTPS"],
        ),
        (
            "SlbListener",
            listener(
                "TCP",
                json!({"serverCertificate": {"certificateId": "c-1"}}),
            ),
            &["serverCertificate and caCertificate are only allowed when protocol is HTTPS"],
        ),
        (
            "SlbListener",
            listener("UDP", json!({"gzip": true})),
            &[
                "stickySession, xForwardedFor, forwardedHeaders and gzip are only allowed when protocol is HTTP or HTTPS",
            ],
        ),
        (
            "SlbListener",
            listener("HTTP", json!({"persistenceTimeout": 60})),
            &[
                "persistenceTimeout and masterSlaveServerGroupRef are only allowed when protocol is TCP or UDP",
            ],
        ),
        (
            "SlbListener",
            listener("HTTP", json!({"stickySession": {"type": "insert"}})),
            &["stickySession type insert needs cookieTimeout"],
        ),
        (
            "SlbListener",
            listener(
                "HTTP",
                json!({"stickySession": {"type": "server", "cookieTimeout": 60}}),
            ),
            &["stickySession type server needs cookie"],
        ),
        (
            "SlbListener",
            listener(
                "HTTPS",
                json!({"serverCertificate": {"certificateId": "c-1", "secretRef": {"name": "tls"}}}),
            ),
            &["set exactly one of secretRef and certificateId"],
        ),
        (
            "SlbListener",
            listener(
                "TCP",
                json!({"vServerGroupRef": {"name": "a"}, "masterSlaveServerGroupRef": {"name": "b"}}),
            ),
            &["set at most one of vServerGroupRef and masterSlaveServerGroupRef"],
        ),
        (
            "SlbListener",
            listener("TCP", json!({"bandwidth": 0})),
            &["bandwidth must be -1 (unlimited) or between 1 and 1000 Mbps"],
        ),
        (
            "SlbListener",
            listener("TCP", json!({"healthCheck": {"enabled": false}})),
            &["healthCheck.enabled is only allowed for HTTP and HTTPS"],
        ),
        (
            "SlbListener",
            listener("HTTP", json!({"healthCheck": {"type": "http"}})),
            &["healthCheck.type is only allowed when protocol is TCP"],
        ),
        (
            "SlbListener",
            listener("HTTP", json!({"healthCheck": {"intervalSeconds": 9}})),
            &[
                "spec.healthCheck.intervalSeconds",
                "less than or equal to 5",
            ],
        ),
        (
            "SlbListener",
            listener(
                "HTTP",
                json!({"accessControl": {"enabled": true, "sourceItems": ["0.0.0.0"]}}),
            ),
            &["sourceItems must be IPv4 addresses or CIDR ranges"],
        ),
        // SlbVServerGroup
        (
            "SlbVServerGroup",
            json!({"instanceRef": {"name": "web"}}),
            &["set exactly one of backends and serviceRef"],
        ),
        (
            "SlbVServerGroup",
            json!({"instanceRef": {"name": "web"}, "backends": [{"serverId": "i-1", "port": 80, "weight": 101}]}),
            &["spec.backends[0].weight", "less than or equal to 100"],
        ),
        (
            "SlbVServerGroup",
            json!({"instanceRef": {"name": "web"}, "backends": [{"serverId": "i-1", "port": 80}, {"serverId": "i-1", "port": 80}]}),
            &["spec.backends[1]", "Duplicate value"],
        ),
        // SlbMasterSlaveServerGroup and SlbRule
        (
            "SlbMasterSlaveServerGroup",
            json!({"instanceRef": {"name": "web"}, "master": same, "slave": same}),
            &["master and slave must be different backends"],
        ),
        (
            "SlbRule",
            json!({"listenerRef": {"name": "https"}, "vServerGroupRef": {"name": "api"}}),
            &["set domain, url or both"],
        ),
    ];
    for (kind, spec, expected) in cases {
        assert_rejected(&client, ns, kind, spec, expected).await;
    }

    namespace.delete().await;
}

#[tokio::test]
async fn immutable_fields_cannot_change() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-immutable").await;
    let ns = namespace.name.as_str();
    let instances = api(&client, ns, "SlbInstance");
    instances
        .create(
            &PostParams::default(),
            &object::<DynamicObject>(
                "SlbInstance",
                "web",
                json!({"regionId": "cn-hangzhou", "addressType": "internet"}),
            ),
        )
        .await
        .unwrap();
    let change = |spec: Value| json!({"spec": spec});
    let rejected = |result: Result<DynamicObject, kube::Error>| match result {
        Err(kube::Error::Api(status)) => status.message,
        other => panic!("the change was accepted: {other:?}"),
    };
    let cases = [
        (json!({"regionId": "cn-beijing"}), "regionId is immutable"),
        (
            json!({"addressType": "intranet"}),
            "addressType is immutable",
        ),
        (
            json!({"loadBalancerId": "lb-1"}),
            "loadBalancerId cannot be added or removed after creation",
        ),
        (
            json!({"takeOverFromCcm": "a0b9d3a4e"}),
            "takeOverFromCcm can only be set when the SlbInstance is created",
        ),
    ];
    for (spec, expected) in cases {
        let message = rejected(
            instances
                .patch("web", &PatchParams::default(), &Patch::Merge(change(spec)))
                .await,
        );
        assert!(message.contains(expected), "{message}");
    }

    let groups = api(&client, ns, "SlbMasterSlaveServerGroup");
    let spec = json!({"instanceRef": {"name": "web"}, "master": {"serverId": "i-1", "port": 80}, "slave": {"serverId": "i-2", "port": 80}});
    groups
        .create(
            &PostParams::default(),
            &object::<DynamicObject>("SlbMasterSlaveServerGroup", "pair", spec),
        )
        .await
        .unwrap();
    let message = rejected(
        groups
            .patch(
                "pair",
                &PatchParams::default(),
                &Patch::Merge(change(json!({"master": {"serverId": "i-3", "port": 80}}))),
            )
            .await,
    );
    assert!(
        message.contains("an SlbMasterSlaveServerGroup cannot be changed"),
        "{message}"
    );

    namespace.delete().await;
}

/// The YAML files under `dir`, recursively.
fn yaml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "yaml") {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn every_example_is_accepted_by_the_apiserver() {
    use serde::Deserialize;

    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-examples").await;
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for path in yaml_files(&examples) {
        let text = std::fs::read_to_string(&path).unwrap();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value =
                serde_json::to_value(serde_yaml::Value::deserialize(document).unwrap()).unwrap();
            let ours = value["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("slb.operator.dev/"));
            if !ours {
                continue;
            }
            let kind = value["kind"].as_str().unwrap().to_owned();
            let mut object: DynamicObject = serde_json::from_value(value).unwrap();
            object.metadata.namespace = Some(namespace.name.clone());
            let dry_run = PostParams {
                dry_run: true,
                ..Default::default()
            };
            if let Err(error) = api(&client, &namespace.name, &kind)
                .create(&dry_run, &object)
                .await
            {
                panic!(
                    "{} ({kind} {:?}) is rejected: {error}",
                    path.display(),
                    object.metadata.name
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} examples found");
    namespace.delete().await;
}
