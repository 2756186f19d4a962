//! The gate's side of a Service's backends: a pod that waits only for the Service's readiness gate
//! counts as a ready endpoint, as the cloud controller manager does. Otherwise, under
//! `externalTrafficPolicy: Local`, a node whose only pods wait for the gate would never become a
//! backend, SLB would never report it `normal`, and the gate would never turn True.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::plan::gate_condition_type;

/// The label selector of a Service's pods; `None` for a Service without one (its endpoints are
/// not pods it selects, so no gate of its is waited for).
pub fn pod_selector(service: &Service) -> Option<String> {
    let selector = service.spec.as_ref()?.selector.as_ref()?;
    let terms: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
    (!terms.is_empty()).then(|| terms.join(","))
}

/// Whether any endpoint is neither ready nor terminating: only then are pods worth reading.
pub fn has_unready_endpoints(slices: &[EndpointSlice]) -> bool {
    slices
        .iter()
        .flat_map(|slice| slice.endpoints.iter().flatten())
        .any(|endpoint| {
            let conditions = endpoint.conditions.as_ref();
            conditions.and_then(|c| c.ready) == Some(false)
                && conditions.and_then(|c| c.terminating) != Some(true)
        })
}

/// Marks ready the endpoints of `service` whose pods wait only for its gate: they declare it, their
/// containers are ready, the gate is not True yet, and they are not terminating.
pub fn count_gated_as_ready(slices: &mut [EndpointSlice], pods: &[Pod], service: &str) {
    let gate = gate_condition_type(service);
    let waiting: BTreeSet<&str> = pods
        .iter()
        .filter(|pod| waits_for_gate(pod, &gate))
        .filter_map(|pod| pod.metadata.name.as_deref())
        .collect();
    for endpoint in slices
        .iter_mut()
        .flat_map(|slice| slice.endpoints.iter_mut().flatten())
    {
        let is_waiting_pod = endpoint.target_ref.as_ref().is_some_and(|target| {
            target.kind.as_deref() == Some("Pod")
                && target.name.as_deref().is_some_and(|n| waiting.contains(n))
        });
        let Some(conditions) = endpoint.conditions.as_mut() else {
            continue;
        };
        if is_waiting_pod && conditions.ready == Some(false) && conditions.terminating != Some(true)
        {
            conditions.ready = Some(true);
        }
    }
}

fn waits_for_gate(pod: &Pod, gate: &str) -> bool {
    let declares = pod
        .spec
        .iter()
        .flat_map(|spec| spec.readiness_gates.iter().flatten())
        .any(|g| g.condition_type == gate);
    let conditions = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let is_true = |kind: &str| {
        conditions
            .iter()
            .any(|c| c.type_ == kind && c.status == "True")
    };
    declares
        && pod.metadata.deletion_timestamp.is_none()
        && is_true("ContainersReady")
        && !is_true(gate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pods_of_a_service_are_found_by_its_selector_and_none_without_one() {
        let service = |selector: serde_json::Value| -> Service {
            serde_json::from_value(serde_json::json!({"spec": {"selector": selector}}))
                .unwrap_or_else(|e| unreachable!("bad test Service: {e}"))
        };
        let selected = service(serde_json::json!({"app": "web", "tier": "front"}));
        assert_eq!(
            pod_selector(&selected).as_deref(),
            Some("app=web,tier=front")
        );
        assert_eq!(pod_selector(&service(serde_json::json!({}))), None);
        assert_eq!(pod_selector(&Service::default()), None);
    }

    fn pod(name: &str, gates: &[&str], conditions: &[(&str, &str)]) -> Pod {
        let gates: Vec<_> = gates
            .iter()
            .map(|g| serde_json::json!({"conditionType": g}))
            .collect();
        let conditions: Vec<_> = conditions
            .iter()
            .map(|(t, s)| serde_json::json!({"type": t, "status": s}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "spec": {"containers": [], "readinessGates": gates},
            "status": {"conditions": conditions},
        }))
        .unwrap_or_else(|e| unreachable!("bad test pod: {e}"))
    }

    fn slice(endpoints: &[(&str, bool)]) -> EndpointSlice {
        let endpoints: Vec<_> = endpoints
            .iter()
            .map(|(pod, ready)| {
                serde_json::json!({
                    "addresses": ["198.18.160.1"],
                    "conditions": {"ready": ready, "serving": ready, "terminating": false},
                    "nodeName": "n1",
                    "targetRef": {"kind": "Pod", "name": pod},
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-abc"},
            "addressType": "IPv4",
            "endpoints": endpoints,
        }))
        .unwrap_or_else(|e| unreachable!("bad test slice: {e}"))
    }

    fn ready(slices: &[EndpointSlice]) -> Vec<bool> {
        slices[0]
            .endpoints
            .iter()
            .flatten()
            .map(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
            .collect()
    }

    #[test]
    fn only_pods_waiting_for_this_services_gate_with_ready_containers_count_as_ready() {
        let gate = gate_condition_type("web");
        let other = gate_condition_type("api");
        let pods = [
            pod(
                "waiting",
                &[&gate],
                &[("ContainersReady", "True"), (&gate, "False")],
            ),
            pod("starting", &[&gate], &[("ContainersReady", "False")]),
            pod("ungated", &[], &[("ContainersReady", "True")]),
            pod("other-gate", &[&other], &[("ContainersReady", "True")]),
            pod(
                "ready",
                &[&gate],
                &[("ContainersReady", "True"), (&gate, "True")],
            ),
        ];
        let mut slices = vec![slice(&[
            ("waiting", false),
            ("starting", false),
            ("ungated", false),
            ("other-gate", false),
            ("ready", true),
        ])];
        assert!(has_unready_endpoints(&slices));
        count_gated_as_ready(&mut slices, &pods, "web");
        assert_eq!(ready(&slices), [true, false, false, false, true]);
        assert!(!has_unready_endpoints(&[slice(&[("ready", true)])]));
    }
}
