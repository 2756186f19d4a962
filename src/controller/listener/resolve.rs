//! The spec with its references resolved (Kubernetes reads only): where the listener lives, the
//! IDs of its server groups, and its ports checked.

use slb_api::OnOff;

use super::plan::{AccessControlState, Address, Desired};
use super::settings::{self, Resolved};
use crate::context::Context;
use crate::controller::instance::region_of;
use crate::controller::object::ObjectKey;
use crate::controller::references::{get_instance, get_referenced};
use crate::crd::{SlbListenerSpec, SlbMasterSlaveServerGroup, SlbVServerGroup};
use crate::error::{Error, Result};

/// Where the listener lives, from the SlbInstance.
pub(super) struct Placement {
    pub load_balancer_id: String,
    pub region: String,
    pub adopted_instance: bool,
}

/// The load balancer of the SlbInstance the spec names. Stricter than `load_balancer_of`: only the
/// ID the instance recorded counts, so a listener waits until its instance has reconciled.
pub(super) async fn resolve_instance(
    ctx: &Context,
    key: &ObjectKey,
    spec: &SlbListenerSpec,
) -> Result<Placement> {
    let name = &spec.instance_ref.name;
    let instance = get_instance(ctx, &key.namespace, name).await?;
    let load_balancer_id = instance
        .status
        .as_ref()
        .and_then(|s| s.load_balancer_id.clone())
        .ok_or_else(|| Error::ReferenceNotReady {
            kind: "SlbInstance",
            name: name.clone(),
        })?;
    Ok(Placement {
        load_balancer_id,
        region: region_of(&instance, ctx),
        // A taken-over load balancer comes with the controller manager's listeners on its ports.
        adopted_instance: instance.spec.load_balancer_id.is_some()
            || instance.spec.take_over_from_ccm.is_some(),
    })
}

pub(super) struct Groups {
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
}

/// The IDs of the server groups the spec names; each must be on the listener's load balancer.
pub(super) async fn resolve_groups(
    ctx: &Context,
    key: &ObjectKey,
    spec: &SlbListenerSpec,
    placement: &Placement,
) -> Result<Groups> {
    let mut groups = Groups {
        v_server_group_id: None,
        master_slave_server_group_id: None,
    };
    if let Some(reference) = &spec.v_server_group_ref {
        let group: SlbVServerGroup =
            get_referenced(ctx, &key.namespace, "SlbVServerGroup", &reference.name).await?;
        let status = group.status.unwrap_or_default();
        groups.v_server_group_id = Some(group_id(
            "SlbVServerGroup",
            &reference.name,
            status.v_server_group_id,
            status.load_balancer_id,
            placement,
        )?);
    }
    if let Some(reference) = &spec.master_slave_server_group_ref {
        let group: SlbMasterSlaveServerGroup = get_referenced(
            ctx,
            &key.namespace,
            "SlbMasterSlaveServerGroup",
            &reference.name,
        )
        .await?;
        let status = group.status.unwrap_or_default();
        groups.master_slave_server_group_id = Some(group_id(
            "SlbMasterSlaveServerGroup",
            &reference.name,
            status.master_slave_server_group_id,
            status.load_balancer_id,
            placement,
        )?);
    }
    Ok(groups)
}

fn group_id(
    kind: &'static str,
    name: &str,
    id: Option<String>,
    load_balancer_id: Option<String>,
    placement: &Placement,
) -> Result<String> {
    let id = id.ok_or_else(|| Error::ReferenceNotReady {
        kind,
        name: name.to_owned(),
    })?;
    match load_balancer_id {
        Some(lb) if lb != placement.load_balancer_id => Err(Error::InvalidSpec(format!(
            "{kind} {name:?} belongs to load balancer {lb}, not to the listener's {}",
            placement.load_balancer_id
        ))),
        _ => Ok(id),
    }
}

/// The spec's ports, checked.
#[derive(Clone, Copy)]
pub(super) struct Ports {
    pub address: Address,
    pub backend: u16,
}

impl Ports {
    pub(super) fn of(spec: &SlbListenerSpec) -> Result<Self> {
        let port = |name: &str, value: i32| {
            u16::try_from(value)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| Error::InvalidSpec(format!("{name} {value} is not a port")))
        };
        let backend = port("backendServerPort", spec.backend_server_port)?;
        Ok(Self {
            address: Address {
                port: port("listenerPort", spec.listener_port)?,
                protocol: spec.protocol,
            },
            backend,
        })
    }
}

/// The spec with its references resolved. Listeners that exist already are taken over only on an
/// adopted instance, in a namespace that `may_adopt`.
pub(super) fn desired_listener(
    spec: &SlbListenerSpec,
    placement: &Placement,
    ports: Ports,
    resolved: &Resolved,
    may_adopt: bool,
) -> Desired {
    Desired {
        load_balancer_id: placement.load_balancer_id.clone(),
        address: ports.address,
        settings: settings::desired_settings(spec, ports.backend, resolved),
        started: spec.started.unwrap_or(true),
        access_control: spec.access_control.as_ref().map(|ac| AccessControlState {
            enabled: ac.enabled,
            source_items: ac.source_items.clone(),
        }),
        x_forwarded_for: OnOff::from_bool(spec.x_forwarded_for.unwrap_or(true)),
        adopted_instance: placement.adopted_instance && may_adopt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_are_taken_over_only_on_an_adopted_instance_in_a_namespace_that_may_adopt() {
        let spec: SlbListenerSpec = serde_json::from_value(serde_json::json!({
            "instanceRef": {"name": "web"},
            "listenerPort": 80, "protocol": "HTTP", "backendServerPort": 8080,
        }))
        .unwrap();
        let ports = Ports::of(&spec).unwrap();
        let takes_over = |adopted_instance, may_adopt| {
            let placement = Placement {
                load_balancer_id: "lb-1".into(),
                region: "cn-hangzhou".into(),
                adopted_instance,
            };
            desired_listener(&spec, &placement, ports, &Resolved::default(), may_adopt)
                .adopted_instance
        };
        assert!(takes_over(true, true));
        assert!(!takes_over(true, false), "the namespace may not adopt");
        assert!(!takes_over(false, true), "the instance is not adopted");
    }
}
