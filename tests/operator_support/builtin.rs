//! Kubernetes' own objects the tests use: Events, Deployments and their pods, Services, TLS Secrets and
//! Leases.

use super::*;

/// The Events in `namespace`.
pub async fn events(client: &Client, namespace: &str) -> Vec<k8s_openapi::api::events::v1::Event> {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), namespace);
    events
        .list(&kube::api::ListParams::default())
        .await
        .unwrap()
        .items
}

/// The Events in `namespace` with `reason` about the object `name`.
pub async fn events_about(
    client: &Client,
    namespace: &str,
    reason: &str,
    name: &str,
) -> Vec<k8s_openapi::api::events::v1::Event> {
    let mut events = events(client, namespace).await;
    events.retain(|e| {
        e.reason.as_deref() == Some(reason)
            && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
    });
    events
}

/// The reasons of the Events in `namespace`.
pub async fn event_reasons(client: &Client, namespace: &str) -> Vec<String> {
    let events = events(client, namespace).await;
    events
        .into_iter()
        .filter_map(|event| event.reason)
        .collect()
}

/// The Deployment `web` (pods labelled `app=web`) that [`scale`] and [`ready_pods_per_instance`] use.
pub async fn create_deployment(client: &Client, namespace: &str, replicas: i32) {
    let labels = json!({"app": "web"});
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), namespace);
    let deployment = json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                // The image is never pulled: kwok plays the kubelet.
                "spec": {"containers": [{"name": "web", "image": "example.invalid/web:1"}]}
            }
        }
    });
    create_object(&deployments, deployment).await;
}

/// Scales the Deployment `web` in `namespace`.
pub async fn scale(client: &Client, namespace: &str, replicas: i32) {
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), namespace);
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": replicas}})),
        )
        .await
        .unwrap();
}

/// How many Ready pods labelled `app=web` each kwok node hosts, by the node's ECS instance ID
/// (`kwok-node-N` has providerID `…i-000N`). Terminating pods are left out.
pub async fn ready_pods_per_instance(
    client: &Client,
    namespace: &str,
) -> std::collections::BTreeMap<String, u32> {
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
    let mut counts = std::collections::BTreeMap::new();
    for pod in pods
        .list(&kube::api::ListParams::default().labels("app=web"))
        .await
        .unwrap()
    {
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let node = pod.spec.and_then(|s| s.node_name).unwrap_or_default();
        let number: u32 = node
            .trim_start_matches("kwok-node-")
            .parse()
            .expect("a kwok node");
        *counts.entry(format!("i-{number:04}")).or_insert(0) += 1;
    }
    counts
}

/// Creates the Service `name` in `namespace` with these annotations and spec.
pub async fn create_service(
    client: &Client,
    namespace: &str,
    name: &str,
    annotations: serde_json::Value,
    spec: serde_json::Value,
) -> k8s_openapi::api::core::v1::Service {
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(client.clone(), namespace);
    services
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": name, "annotations": annotations},
                "spec": spec,
            }))
            .unwrap(),
        )
        .await
        .unwrap()
}

/// The first ingress address in a Service's status.
pub fn ingress_ip(service: &k8s_openapi::api::core::v1::Service) -> Option<String> {
    service
        .status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?
        .ip
        .clone()
}

/// Deletes the Service `name` and waits until it is gone.
pub async fn delete_service(client: &Client, namespace: &str, name: &str, timeout: Duration) {
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(client.clone(), namespace);
    delete_and_wait(&services, name, timeout).await;
}

/// The operator's LoadBalancerReady condition on a Service: status, reason and message.
pub fn load_balancer_ready(
    service: &k8s_openapi::api::core::v1::Service,
) -> Option<(String, String, String)> {
    let conditions = service.status.as_ref()?.conditions.as_ref()?;
    let condition = conditions
        .iter()
        .find(|c| c.type_ == slb_operator::controller::service::LOAD_BALANCER_READY)?;
    Some((
        condition.status.clone(),
        condition.reason.clone(),
        condition.message.clone(),
    ))
}

/// Deletes the Services `names` and waits until none is left in the namespace.
pub async fn delete_services(
    services: &Api<k8s_openapi::api::core::v1::Service>,
    names: &[&str],
    timeout: Duration,
) {
    for name in names {
        services
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    none_left(services, timeout).await;
}

/// A self-signed certificate and its key, as PEM, from the `openssl` CLI.
pub fn self_signed(dir: &std::path::Path, common_name: &str) -> (String, String) {
    let key = dir.join(format!("{common_name}.key"));
    let certificate = dir.join(format!("{common_name}.crt"));
    let output = std::process::Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "1", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj"])
        .arg(format!("/CN={common_name}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        std::fs::read_to_string(certificate).unwrap(),
        std::fs::read_to_string(key).unwrap(),
    )
}

pub fn tls_secret(
    name: &str,
    (certificate, key): &(String, String),
) -> k8s_openapi::api::core::v1::Secret {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": certificate, "tls.key": key},
    }))
    .unwrap()
}

/// Writes the TLS Secret `name` with the certificate and key `pair`: creates it, or replaces its
/// contents as cert-manager does when it renews a certificate.
pub async fn apply_tls_secret(
    client: &Client,
    namespace: &str,
    name: &str,
    pair: &(String, String),
) {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), namespace);
    secrets
        .patch(
            name,
            &PatchParams::apply("slb-operator-tests").force(),
            &Patch::Apply(&tls_secret(name, pair)),
        )
        .await
        .unwrap();
}

/// Who holds the Lease `name`, if anyone does.
pub async fn lease_holder(
    leases: &Api<k8s_openapi::api::coordination::v1::Lease>,
    name: &str,
) -> Option<String> {
    leases
        .get_opt(name)
        .await
        .ok()??
        .spec?
        .holder_identity
        .filter(|h| !h.is_empty())
}
