//! Proves the local control plane is a real one: the scheduler places pods on kwok nodes, kwok makes them Ready,
//! and the real EndpointSlice controller of kube-controller-manager publishes their addresses for a Service.
//!
//! Needs `hack/cluster.sh up` first (the README's test command does it) and KUBECONFIG from `hack/cluster.sh env`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

async fn cluster_client() -> Client {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: run `hack/cluster.sh up` and `eval \"$(hack/cluster.sh env)\"` first"
    );
    Client::try_default()
        .await
        .expect("a client for the local control plane")
}

/// Polls `probe` every half second until it returns `Some`, or fails the test after `timeout`.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn deployment_pods_become_ready_on_kwok_nodes_and_endpointslices_list_them() {
    let client = cluster_client().await;
    let ns_name = format!("cluster-real-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns_name}})).unwrap(),
        )
        .await
        .expect("namespace");

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns_name);
    let services: Api<Service> = Api::namespaced(client.clone(), &ns_name);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns_name);
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), &ns_name);
    let nodes: Api<Node> = Api::all(client.clone());

    let labels = json!({"app": "web"});
    let deployment = json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                // The image is never pulled: kwok plays the kubelet.
                "spec": {"containers": [{"name": "web", "image": "example.invalid/web:1", "ports": [{"containerPort": 8080}]}]}
            }
        }
    });
    deployments
        .create(
            &PostParams::default(),
            &serde_json::from_value(deployment).unwrap(),
        )
        .await
        .expect("deployment");
    let service = json!({
        "metadata": {"name": "web"},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}
    });
    services
        .create(
            &PostParams::default(),
            &serde_json::from_value(service).unwrap(),
        )
        .await
        .expect("service");

    let kwok_nodes: BTreeSet<String> = nodes
        .list(&ListParams::default().labels("type=kwok"))
        .await
        .expect("nodes")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(!kwok_nodes.is_empty(), "the cluster has no kwok nodes");

    let ready_pods = eventually(
        "3 Ready pods on kwok nodes",
        Duration::from_secs(90),
        || async {
            let list = pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .ok()?;
            let ready: Vec<(String, String)> = list
                .items
                .iter()
                .filter(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        })
                })
                .filter_map(|p| {
                    let node = p.spec.as_ref()?.node_name.clone()?;
                    let ip = p.status.as_ref()?.pod_ip.clone()?;
                    Some((node, ip))
                })
                .collect();
            (ready.len() == 3).then_some(ready)
        },
    )
    .await;
    for (node, _) in &ready_pods {
        assert!(
            kwok_nodes.contains(node),
            "pod scheduled on {node}, which is not a kwok node"
        );
    }
    let pod_ips: BTreeSet<String> = ready_pods.into_iter().map(|(_, ip)| ip).collect();
    assert_eq!(pod_ips.len(), 3, "pods must have distinct IPs: {pod_ips:?}");

    let sliced_ips = eventually(
        "the EndpointSlice controller to list 3 ready addresses",
        Duration::from_secs(60),
        || async {
            let list = slices
                .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
                .await
                .ok()?;
            let ips: BTreeSet<String> = list
                .items
                .iter()
                .flat_map(|s| s.endpoints.iter().flatten())
                .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false))
                .flat_map(|e| e.addresses.iter().cloned())
                .collect();
            (ips.len() == 3).then_some(ips)
        },
    )
    .await;
    assert_eq!(
        sliced_ips, pod_ips,
        "EndpointSlices must list exactly the Ready pods' addresses"
    );

    namespaces
        .delete(&ns_name, &DeleteParams::default())
        .await
        .expect("namespace deletion");
}
