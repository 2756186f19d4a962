//! Proves the local control plane is a real one: the scheduler places pods on kwok nodes, kwok makes them Ready,
//! and the real EndpointSlice controller of kube-controller-manager publishes their addresses for a Service.
//!
//! Needs `hack/cluster.sh up` first (the README's test command does it) and KUBECONFIG from `hack/cluster.sh env`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod operator_support;

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::ListParams;
use operator_support::{TestNamespace, cluster_client, create_object, eventually};
use serde_json::json;

/// The objects of `api` with the labels `selector`, `None` while the apiserver does not answer.
async fn labelled<K>(api: &Api<K>, selector: &str) -> Option<Vec<K>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .ok()?;
    Some(list.items)
}

#[tokio::test]
async fn deployment_pods_become_ready_on_kwok_nodes_and_endpointslices_list_them() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "cluster-real").await;
    let ns_name = namespace.name.clone();

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
    create_object(&deployments, deployment).await;
    let service = json!({
        "metadata": {"name": "web"},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}
    });
    create_object(&services, service).await;

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
            let ready: Vec<(String, String)> = labelled(&pods, "app=web")
                .await?
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
            let ips: BTreeSet<String> = labelled(&slices, "kubernetes.io/service-name=web")
                .await?
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

    namespace.delete().await;
}
