//! The pure part of the readiness gates: which pods of a Service declare its gate, and whether SLB
//! reports their node's backend `normal` on every listener of the Service.

use std::collections::BTreeMap;

use slb_api::{BackendServerHealth, ServerHealthStatus};

/// The condition type of a Service's gate: one per Service, as the cloud controller manager
/// (`service.readiness.alibabacloud.com/<service>`) and the AWS Load Balancer Controller do, so a
/// pod behind two Services waits for both and its conditions say which one is not there yet.
pub fn gate_condition_type(service: &str) -> String {
    format!("{GATE_PREFIX}{service}")
}

/// The prefix of every gate's condition type; the rest is the Service's name.
pub const GATE_PREFIX: &str = "load-balancer-ready.slb.operator.dev/";

/// What the gate needs to know about a pod.
#[derive(Clone, Debug, PartialEq)]
pub struct GatedPod {
    pub name: String,
    /// The node it runs on, once scheduled.
    pub node: Option<String>,
    /// The gate's condition as the pod has it: status (`True`, `False`) and message.
    pub current: Option<(String, String)>,
}

/// A listener of the Service: its port, and the backend port (the NodePort) it sends to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceListener {
    pub listener_port: u16,
    pub backend_port: u16,
}

/// What SLB and the cluster say, for one Service.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The gated pods that are not terminating.
    pub pods: Vec<GatedPod>,
    /// The ECS instance of each node (from its providerID) that has one.
    pub node_instances: BTreeMap<String, String>,
    /// `None` while the Service has no load balancer yet.
    pub load_balancer_id: Option<String>,
    pub listeners: Vec<ServiceListener>,
    /// DescribeHealthStatus of the load balancer, all listeners.
    pub health: Vec<BackendServerHealth>,
}

/// The gate's condition a pod must get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateChange {
    pub pod: String,
    pub ready: bool,
    pub reason: &'static str,
    pub message: String,
    /// Whether the status itself changes (not only the message): the transition time moves.
    pub status_changed: bool,
}

/// The gates to write (only those that differ from what the pods have), and whether any gated pod
/// still waits (so SLB's health is asked again soon: it cannot be watched).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub changes: Vec<GateChange>,
    pub waiting: usize,
}

pub const REASON_HEALTHY: &str = "LoadBalancerHealthy";
pub const REASON_NOT_HEALTHY: &str = "LoadBalancerNotHealthy";

pub fn plan(observed: &Observed) -> Plan {
    let mut result = Plan::default();
    for pod in &observed.pods {
        let (ready, message) = match verdict(observed, pod) {
            Ok(message) => (true, message),
            Err(message) => (false, message),
        };
        if !ready {
            result.waiting += 1;
        }
        let status = if ready { "True" } else { "False" };
        let current = pod.current.as_ref().map(|(s, m)| (s.as_str(), m.as_str()));
        if current == Some((status, message.as_str())) {
            continue;
        }
        result.changes.push(GateChange {
            pod: pod.name.clone(),
            ready,
            reason: if ready {
                REASON_HEALTHY
            } else {
                REASON_NOT_HEALTHY
            },
            message,
            status_changed: current.map(|(s, _)| s) != Some(status),
        });
    }
    result
}

/// Why the pod's node is healthy on every listener, or why not yet.
fn verdict(observed: &Observed, pod: &GatedPod) -> Result<String, String> {
    let node = pod
        .node
        .as_deref()
        .ok_or_else(|| "the pod is not scheduled yet".to_owned())?;
    let instance = observed.node_instances.get(node).ok_or_else(|| {
        format!("node {node} has no ECS instance in its providerID, so it cannot be a backend")
    })?;
    let load_balancer = observed
        .load_balancer_id
        .as_deref()
        .ok_or_else(|| "the Service has no load balancer yet".to_owned())?;
    if observed.listeners.is_empty() {
        return Err(format!(
            "load balancer {load_balancer} has no listener of the Service yet"
        ));
    }
    let mut problems = Vec::new();
    for listener in &observed.listeners {
        let statuses: Vec<Option<ServerHealthStatus>> = observed
            .health
            .iter()
            .filter(|h| {
                h.server_id == *instance
                    && h.listener_port == Some(listener.listener_port)
                    && h.port.is_none_or(|p| p == listener.backend_port)
            })
            .map(|h| h.server_health_status)
            .collect();
        let port = listener.listener_port;
        match statuses.as_slice() {
            [] => problems.push(format!(
                "{instance} is not a backend of listener {port} yet"
            )),
            all if all.iter().all(|s| *s == Some(ServerHealthStatus::Normal)) => {}
            all => {
                let shown: Vec<&str> = all
                    .iter()
                    .map(|s| s.map_or("unknown", ServerHealthStatus::as_str))
                    .collect();
                problems.push(format!(
                    "listener {port} reports {instance} {}",
                    shown.join("/")
                ));
            }
        }
    }
    if problems.is_empty() {
        let ports: Vec<String> = observed
            .listeners
            .iter()
            .map(|l| l.listener_port.to_string())
            .collect();
        Ok(format!(
            "{instance} (node {node}) is normal on listener {} of {load_balancer}",
            ports.join(", ")
        ))
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(server: &str, listener: u16, status: ServerHealthStatus) -> BackendServerHealth {
        BackendServerHealth {
            server_id: server.into(),
            server_health_status: Some(status),
            listener_port: Some(listener),
            port: Some(30080 + (listener - 80)),
        }
    }

    fn pod(name: &str, node: Option<&str>) -> GatedPod {
        GatedPod {
            name: name.into(),
            node: node.map(Into::into),
            current: None,
        }
    }

    fn observed(health: Vec<BackendServerHealth>) -> Observed {
        Observed {
            pods: vec![pod("web-a", Some("n1")), pod("web-b", Some("n2"))],
            node_instances: BTreeMap::from([
                ("n1".to_owned(), "i-0001".to_owned()),
                ("n2".to_owned(), "i-0002".to_owned()),
            ]),
            load_balancer_id: Some("lb-1".into()),
            listeners: vec![
                ServiceListener {
                    listener_port: 80,
                    backend_port: 30080,
                },
                ServiceListener {
                    listener_port: 81,
                    backend_port: 30081,
                },
            ],
            health,
        }
    }

    fn verdicts(plan: &Plan) -> Vec<(&str, bool)> {
        plan.changes
            .iter()
            .map(|c| (c.pod.as_str(), c.ready))
            .collect()
    }

    #[test]
    fn a_pod_is_ready_only_when_its_node_is_normal_on_every_listener() {
        use ServerHealthStatus::{Abnormal, Normal};
        let plan = plan(&observed(vec![
            health("i-0001", 80, Normal),
            health("i-0001", 81, Normal),
            health("i-0002", 80, Normal),
            health("i-0002", 81, Abnormal),
        ]));
        assert_eq!(verdicts(&plan), [("web-a", true), ("web-b", false)]);
        assert_eq!(plan.waiting, 1);
        assert_eq!(plan.changes[0].reason, REASON_HEALTHY);
        assert_eq!(
            plan.changes[1].message,
            "listener 81 reports i-0002 abnormal"
        );
    }

    #[test]
    fn a_node_missing_from_a_listener_or_a_load_balancer_without_listeners_is_not_ready() {
        use ServerHealthStatus::Normal;
        let plan = plan(&observed(vec![health("i-0001", 80, Normal)]));
        assert_eq!(verdicts(&plan), [("web-a", false), ("web-b", false)]);
        assert!(
            plan.changes[0]
                .message
                .contains("i-0001 is not a backend of listener 81 yet"),
            "{plan:?}"
        );

        let mut without_listeners = observed(Vec::new());
        without_listeners.listeners.clear();
        let plan = super::plan(&without_listeners);
        assert_eq!(plan.waiting, 2);
        assert!(plan.changes[0].message.contains("no listener"), "{plan:?}");

        let mut without_load_balancer = observed(Vec::new());
        without_load_balancer.load_balancer_id = None;
        without_load_balancer.pods.push(pod("web-c", None));
        without_load_balancer.pods.push(pod("web-d", Some("n9")));
        let messages: Vec<String> = super::plan(&without_load_balancer)
            .changes
            .into_iter()
            .map(|c| c.message)
            .collect();
        assert_eq!(messages[0], "the Service has no load balancer yet");
        assert_eq!(messages[2], "the pod is not scheduled yet");
        assert!(
            messages[3].contains("node n9 has no ECS instance"),
            "{messages:?}"
        );
    }

    #[test]
    fn only_gates_that_differ_are_written_and_a_healthy_service_waits_for_nothing() {
        use ServerHealthStatus::Normal;
        let healthy = vec![
            health("i-0001", 80, Normal),
            health("i-0001", 81, Normal),
            health("i-0002", 80, Normal),
            health("i-0002", 81, Normal),
        ];
        let mut observed = observed(healthy);
        let first = plan(&observed);
        assert_eq!(first.changes.len(), 2);
        assert_eq!(first.waiting, 0);
        for (pod, change) in observed.pods.iter_mut().zip(&first.changes) {
            pod.current = Some(("True".into(), change.message.clone()));
        }
        assert_eq!(plan(&observed), Plan::default());
        // A backend that turns abnormal flips the gate back.
        observed.health[3].server_health_status = Some(ServerHealthStatus::Abnormal);
        assert_eq!(verdicts(&plan(&observed)), [("web-b", false)]);
    }
}
