//! The pure part of a Service-backed group: which nodes become backends, on which port, with which
//! weight, from the Service, its EndpointSlices and the Nodes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::watcher;

use super::plan::{BackendKey, Backends};
use crate::crd::Weighting;

/// The label the EndpointSlice controller puts on the slices of a Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Nodes with this label are never load balancer backends (the Kubernetes convention).
const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// Weight of a node that hosts no endpoint under externalTrafficPolicy Cluster: it still forwards,
/// at the cost of an extra hop, so it gets the least traffic.
const FORWARDING_ONLY_WEIGHT: u32 = 1;

/// The backends of a Service, and the nodes left out because they cannot be mapped to an ECS instance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceBackends {
    pub backends: Backends,
    /// `(node, why)` for each node that should be a backend but is not.
    pub skipped: Vec<(String, String)>,
}

/// The ECS instance ID in a node's providerID. The Alibaba Cloud form is `<region>.<instance-id>`
/// (for example `cn-hangzhou.i-0001`), sometimes behind a scheme (`alicloud://`).
pub fn ecs_instance_id(provider_id: &str) -> Option<&str> {
    let trimmed = provider_id.trim();
    let without_scheme = trimmed
        .split_once("://")
        .map_or(trimmed, |(_, rest)| rest)
        .trim_start_matches('/');
    let (region, instance) = without_scheme.split_once('.')?;
    let valid_region = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let valid_instance = instance.len() > 2
        && instance.starts_with("i-")
        && instance
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    (valid_region && valid_instance).then_some(instance)
}

/// The backends of `service`: on the NodePort of its port `port`, the nodes with ready endpoints
/// (every ready node when externalTrafficPolicy is Cluster), weighted as `weighting` says.
pub fn service_backends(
    service: &Service,
    port: i32,
    weighting: Weighting,
    slices: &[EndpointSlice],
    nodes: &[Node],
) -> Result<ServiceBackends, String> {
    let name = service.metadata.name.as_deref().unwrap_or_default();
    let spec = service.spec.as_ref();
    let service_port = spec
        .and_then(|spec| spec.ports.as_ref())
        .and_then(|ports| ports.iter().find(|p| p.port == port))
        .ok_or_else(|| format!("Service {name:?} has no port {port}"))?;
    let node_port = service_port
        .node_port
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            format!(
                "port {port} of Service {name:?} has no nodePort; use type NodePort or LoadBalancer"
            )
        })?;
    let local = spec.and_then(|s| s.external_traffic_policy.as_deref()) == Some("Local");

    let pods_per_node = ready_endpoints_per_node(slices);
    let nodes_by_name: BTreeMap<&str, &Node> = nodes
        .iter()
        .filter_map(|node| Some((node.metadata.name.as_deref()?, node)))
        .collect();
    let candidates: Vec<&str> = if local {
        pods_per_node.keys().map(String::as_str).collect()
    } else {
        nodes_by_name
            .iter()
            .filter(|(_, node)| is_ready(node))
            .map(|(name, _)| *name)
            .collect()
    };
    let most_pods = pods_per_node.values().copied().max().unwrap_or(0);

    let mut result = ServiceBackends::default();
    for node_name in candidates {
        let Some(node) = nodes_by_name.get(node_name) else {
            result
                .skipped
                .push((node_name.to_owned(), "the node does not exist".to_owned()));
            continue;
        };
        if is_excluded(node) {
            continue;
        }
        let provider_id = node
            .spec
            .as_ref()
            .and_then(|s| s.provider_id.as_deref())
            .unwrap_or_default();
        let Some(instance_id) = ecs_instance_id(provider_id) else {
            result.skipped.push((
                node_name.to_owned(),
                format!("providerID {provider_id:?} is not of the form <region>.<ecs-instance-id>"),
            ));
            continue;
        };
        let pods = pods_per_node.get(node_name).copied().unwrap_or(0);
        let weight = match weighting {
            Weighting::Equal => 100,
            Weighting::PodsPerNode => weight_for(pods, most_pods),
        };
        let key = BackendKey {
            server_id: instance_id.to_owned(),
            port: node_port,
        };
        let entry = result.backends.entry(key).or_insert(weight);
        *entry = (*entry).max(weight);
    }
    Ok(result)
}

/// 100 for the nodes with the most pods, the others in proportion (at least 1).
fn weight_for(pods: u32, most_pods: u32) -> u32 {
    if most_pods == 0 {
        return 100;
    }
    if pods == 0 {
        return FORWARDING_ONLY_WEIGHT;
    }
    (pods * 100).div_ceil(most_pods).clamp(1, 100)
}

/// Ready endpoints per node name. An endpoint with no `ready` condition counts as ready, as the
/// EndpointSlice API says; terminating endpoints are never ready.
fn ready_endpoints_per_node(slices: &[EndpointSlice]) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    for endpoint in slices
        .iter()
        .flat_map(|slice| slice.endpoints.iter().flatten())
    {
        let conditions = endpoint.conditions.as_ref();
        let ready = conditions.and_then(|c| c.ready).unwrap_or(true);
        let terminating = conditions.and_then(|c| c.terminating).unwrap_or(false);
        if let Some(node) = endpoint.node_name.as_ref()
            && ready
            && !terminating
        {
            *counts.entry(node.clone()).or_insert(0) += 1;
        }
    }
    counts
}

fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

fn is_excluded(node: &Node) -> bool {
    node.metadata
        .labels
        .as_ref()
        .is_some_and(|labels| labels.contains_key(EXCLUDE_LABEL))
}

/// What about a node matters to the groups: its ECS instance, readiness and exclusion.
fn node_fingerprint(node: &Node) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    node.spec
        .as_ref()
        .and_then(|s| s.provider_id.as_ref())
        .hash(&mut hasher);
    is_ready(node).hash(&mut hasher);
    is_excluded(node).hash(&mut hasher);
    hasher.finish()
}

/// Passes on the node events that can change a group: a node that appears, goes, or changes what
/// [`node_fingerprint`] covers. Heartbeats, which would reconcile every Service-backed group, do not.
#[derive(Default)]
pub struct NodeChanges {
    seen: BTreeMap<String, u64>,
}

impl NodeChanges {
    pub fn relevant(&mut self, event: watcher::Event<Node>) -> Option<Node> {
        match event {
            watcher::Event::Apply(node) | watcher::Event::InitApply(node) => {
                let name = node.metadata.name.clone().unwrap_or_default();
                let fingerprint = node_fingerprint(&node);
                (self.seen.insert(name, fingerprint) != Some(fingerprint)).then_some(node)
            }
            watcher::Event::Delete(node) => {
                self.seen
                    .remove(node.metadata.name.as_deref().unwrap_or_default());
                Some(node)
            }
            watcher::Event::Init | watcher::Event::InitDone => None,
        }
    }
}

#[cfg(test)]
#[path = "node_backends_tests.rs"]
mod tests;
