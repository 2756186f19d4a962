//! The pure part of a Service-backed group: which nodes become backends, on which port, with which
//! weight, from the Service, its EndpointSlices and the Nodes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::plan::{BackendKey, Backends};
use crate::crd::{ServiceBackendReference, Weighting};

/// The label the EndpointSlice controller puts on the slices of a Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Nodes with any of these labels are never load balancer backends: the Kubernetes convention,
/// and the labels the Alibaba Cloud controller manager honours too (whatever their value, except
/// for [`KUBERNETES_EXCLUDE_LABEL`]).
const EXCLUDE_LABELS: [&str; 4] = [
    KUBERNETES_EXCLUDE_LABEL,
    "alpha.service-controller.kubernetes.io/exclude-balancer",
    "service.alibabacloud.com/exclude-node",
    "service.beta.kubernetes.io/exclude-node",
];

/// Kubernetes' own exclusion label. Its service controller reads the value as a boolean: a node
/// labelled `false` stays a backend, any other value (even one that is not a boolean) excludes it.
/// The CCM excludes on presence; we follow Kubernetes, whose label it is, so that `false` means what
/// it says.
const KUBERNETES_EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// The taint the cluster autoscaler puts on a node it is about to delete.
const AUTOSCALER_DELETION_TAINT: &str = "ToBeDeletedByClusterAutoscaler";

/// Which backends a group wants from a Service.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendChoice {
    /// The Service port whose NodePort the backends use.
    pub port: i32,
    pub weighting: Weighting,
    /// Only nodes with all these labels.
    pub node_selector: BTreeMap<String, String>,
    /// Leave out cordoned nodes too.
    pub exclude_unschedulable: bool,
    /// The sum the weights are scaled to.
    pub total_weight: Option<u32>,
    /// The weight of the heaviest backends.
    pub top_weight: u32,
}

impl BackendChoice {
    /// Every node that carries the Service, weighted as `weighting` says.
    pub fn new(port: i32, weighting: Weighting) -> Self {
        Self {
            port,
            weighting,
            node_selector: BTreeMap::new(),
            exclude_unschedulable: false,
            total_weight: None,
            top_weight: DEFAULT_TOP_WEIGHT,
        }
    }

    pub fn of(reference: &ServiceBackendReference) -> Self {
        Self {
            node_selector: reference.node_selector.clone().unwrap_or_default(),
            exclude_unschedulable: reference.exclude_unschedulable.unwrap_or(false),
            total_weight: reference.total_weight.and_then(|w| u32::try_from(w).ok()),
            top_weight: reference
                .default_weight
                .and_then(|w| u32::try_from(w).ok())
                .unwrap_or(DEFAULT_TOP_WEIGHT),
            ..Self::new(
                reference.port,
                reference.weighting.unwrap_or(Weighting::PodsPerNode),
            )
        }
    }

    /// Whether `node` is left out of this choice.
    fn excludes(&self, node: &Node) -> bool {
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let selected = self
            .node_selector
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value));
        let unschedulable = node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        !selected
            || !is_ready(node)
            || is_excluded(node)
            || is_being_deleted(node)
            || (self.exclude_unschedulable && unschedulable)
    }
}

/// Weight of a node that hosts no endpoint under externalTrafficPolicy Cluster: it still forwards,
/// at the cost of an extra hop, so it gets the least traffic.
const FORWARDING_ONLY_WEIGHT: u32 = 1;

/// The weight of the heaviest backends unless the reference says otherwise.
const DEFAULT_TOP_WEIGHT: u32 = 100;

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

/// The backends of `service`: on the NodePort of its port `choice.port`, the nodes with ready
/// endpoints (every node when externalTrafficPolicy is Cluster), weighted as `choice.weighting`
/// says; nodes not Ready, excluded by label, being deleted by the cluster autoscaler or not chosen
/// by `choice` are left out, as the cloud controller manager does.
pub fn service_backends<'a>(
    service: &Service,
    choice: &BackendChoice,
    slices: &[EndpointSlice],
    nodes: impl IntoIterator<Item = &'a Node>,
) -> Result<ServiceBackends, String> {
    let (port, weighting) = (choice.port, choice.weighting);
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
        .into_iter()
        .filter_map(|node| Some((node.metadata.name.as_deref()?, node)))
        .collect();
    let candidates: Vec<&str> = if local {
        pods_per_node.keys().map(String::as_str).collect()
    } else {
        nodes_by_name.keys().copied().collect()
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
        if choice.excludes(node) {
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
            Weighting::Equal => choice.top_weight,
            Weighting::PodsPerNode => weight_for(pods, most_pods, choice.top_weight),
        };
        let key = BackendKey {
            server_id: instance_id.to_owned(),
            port: node_port,
        };
        let entry = result.backends.entry(key).or_insert(weight);
        *entry = (*entry).max(weight);
    }
    if let Some(total) = choice.total_weight {
        scale_weights(&mut result.backends, total);
    }
    Ok(result)
}

/// Scales the weights so that they add up to about `total`, in the same proportions, each at least
/// 1 (the cloud controller manager's percent algorithm).
fn scale_weights(backends: &mut Backends, total: u32) {
    let sum: u64 = backends.values().map(|w| u64::from(*w)).sum();
    if sum == 0 {
        return;
    }
    for weight in backends.values_mut() {
        let share = (u64::from(*weight) * u64::from(total) + sum / 2) / sum;
        *weight = u32::try_from(share).unwrap_or(total).max(1);
    }
}

/// `top` for the nodes with the most pods, the others in proportion (at least 1).
fn weight_for(pods: u32, most_pods: u32, top: u32) -> u32 {
    if most_pods == 0 {
        return top;
    }
    if pods == 0 {
        return FORWARDING_ONLY_WEIGHT;
    }
    (pods * top).div_ceil(most_pods).clamp(1, top)
}

/// Whether a change of the node `node` can change the backends of `service`: under the Cluster
/// policy every node is a candidate; under Local only the nodes its endpoints run on, so a node
/// change wakes the groups it concerns and not every Service-backed group.
pub fn node_matters<'a>(
    service: &Service,
    mut slices: impl Iterator<Item = &'a EndpointSlice>,
    node: &str,
) -> bool {
    let local = service
        .spec
        .as_ref()
        .and_then(|s| s.external_traffic_policy.as_deref())
        == Some("Local");
    !local
        || slices.any(|slice| {
            slice
                .endpoints
                .iter()
                .flatten()
                .any(|endpoint| endpoint.node_name.as_deref() == Some(node))
        })
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
    node.metadata.labels.as_ref().is_some_and(|labels| {
        EXCLUDE_LABELS.iter().any(|label| match labels.get(*label) {
            // Go's strconv.ParseBool spellings of false.
            Some(value) if *label == KUBERNETES_EXCLUDE_LABEL => !matches!(
                value.as_str(),
                "0" | "f" | "F" | "false" | "FALSE" | "False"
            ),
            found => found.is_some(),
        })
    })
}

fn is_being_deleted(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|taints| taints.iter().any(|t| t.key == AUTOSCALER_DELETION_TAINT))
}

/// What about a node matters to the groups: its ECS instance, readiness, labels (exclusion and
/// selection), cordon and autoscaler taint. Heartbeats, which would reconcile every Service-backed
/// group, do not change it.
pub fn node_fingerprint(node: &Node) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    let spec = node.spec.as_ref();
    spec.and_then(|s| s.provider_id.as_ref()).hash(&mut hasher);
    spec.and_then(|s| s.unschedulable).hash(&mut hasher);
    is_ready(node).hash(&mut hasher);
    node.metadata.labels.hash(&mut hasher);
    is_being_deleted(node).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
#[path = "node_backends_tests.rs"]
mod tests;
