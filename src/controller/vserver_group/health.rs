//! The health of an SlbVServerGroup's backends, as SLB reports it on the listeners that use the
//! group.

use std::collections::BTreeSet;

use kube::{Api, ResourceExt};
use slb_api::{DescribeHealthStatusRequest, ServerHealthStatus, SlbApi};

use super::plan::Backends;
use crate::context::Context;
use crate::controller::object::ObjectKey;
use crate::controller::references::{LoadBalancerRef, V_SERVER_GROUP_REF, referring};
use crate::crd::{HealthSummary, SlbListener, SlbRule, SlbVServerGroup};
use crate::error::Result;

/// The health of the group's backends, when a listener or a rule sends traffic to it; one
/// DescribeHealthStatus call for all of its listeners.
pub(super) async fn health(
    ctx: &Context,
    slb: &dyn SlbApi,
    group: &SlbVServerGroup,
    key: &ObjectKey,
    lb: &LoadBalancerRef,
    backends: &Backends,
) -> Result<Option<HealthSummary>> {
    let ports = listener_ports_using(ctx, &key.namespace, &group.name_any()).await?;
    if ports.is_empty() {
        return Ok(None);
    }
    let reported = slb
        .describe_health_status(&DescribeHealthStatusRequest {
            load_balancer_id: lb.load_balancer_id.clone(),
            listener_port: None,
        })
        .await?;
    let mut summary = HealthSummary::default();
    for item in reported.backend_servers {
        let ours = backends
            .keys()
            .any(|b| b.server_id == item.server_id && item.port.is_none_or(|port| port == b.port));
        let on_our_listener = item.listener_port.is_none_or(|port| ports.contains(&port));
        if !(ours && on_our_listener) {
            continue;
        }
        match item.server_health_status {
            Some(ServerHealthStatus::Normal) => summary.normal += 1,
            Some(ServerHealthStatus::Abnormal) => summary.abnormal += 1,
            _ => summary.unavailable += 1,
        }
    }
    Ok(Some(summary))
}

/// Ports of the listeners that send traffic to the group: directly, or through one of their rules.
/// The apiserver selects them by their references (the CRDs' selectable fields), so a group's
/// reconcile reads its own few, not every listener of the namespace.
async fn listener_ports_using(
    ctx: &Context,
    namespace: &str,
    group: &str,
) -> Result<BTreeSet<u16>> {
    let listeners: Api<SlbListener> = Api::namespaced(ctx.client.clone(), namespace);
    let mut using = listeners
        .list(&referring(V_SERVER_GROUP_REF, group))
        .await?
        .items;
    let rules: Api<SlbRule> = Api::namespaced(ctx.client.clone(), namespace);
    let routed_by_rule: BTreeSet<String> = rules
        .list(&referring(V_SERVER_GROUP_REF, group))
        .await?
        .items
        .into_iter()
        .map(|rule| rule.spec.listener_ref.name)
        .collect();
    for name in &routed_by_rule {
        using.extend(listeners.get_opt(name).await?);
    }
    Ok(using
        .iter()
        .filter_map(|listener| listener.status.as_ref()?.listener_port)
        .filter_map(|port| u16::try_from(port).ok())
        .collect())
}
