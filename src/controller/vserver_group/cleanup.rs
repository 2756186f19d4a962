//! The SlbVServerGroup cleanup: the group deleted in SLB (or, for an existing group of an adopted
//! load balancer, only the backends this object added), unless its deletion policy orphans it.

use std::sync::Arc;

use kube::runtime::controller::Action;
use slb_api::{RemoveVServerGroupBackendServersRequest, SlbApi};

use super::apply::delete_group;
use super::plan::{self, Backends, Change, deletion_policy_in_effect};
use super::{IN_USE_CODE, describe, describe_recorded, owned_group_ids};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::controller::events;
use crate::controller::object::{NamespacedObject, ObjectKey};
use crate::controller::references::{find_instance, instance_region};
use crate::controller::status::{Generation, report_status};
use crate::crd::{
    DeletionPolicy, SlbInstance, SlbMasterSlaveServerGroup, SlbVServerGroup, SlbVServerGroupStatus,
};
use crate::error::{Error, Result};

/// Deletes the group (ours by its recorded ID, unless SLB has that group on another load balancer,
/// or by its creation name), then lets the object go. With Orphan (its deletionPolicy, else its
/// instance's: see [`deletion_policy_in_effect`]) the group stays in SLB.
pub(super) async fn cleanup(group: &SlbVServerGroup, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(group)?;
    ctx.known_groups.take(&key.uid);
    let Some(CleanupPlacement { instance, slb }) = cleanup_placement(ctx, group).await? else {
        return Ok(Action::await_change());
    };
    let status = group.status.clone().unwrap_or_default();
    if let Some(id) = &group.spec.v_server_group_id {
        return release_existing(ctx, group, slb.as_ref(), id, &status).await;
    }
    let instance_load_balancer = instance.and_then(|i| i.status.and_then(|s| s.load_balancer_id));
    let ids = match (&status.v_server_group_id, &status.load_balancer_id) {
        (Some(id), recorded) => {
            let Some(load_balancer_id) = instance_load_balancer.as_ref().or(recorded.as_ref())
            else {
                return Ok(Action::await_change());
            };
            match describe_recorded(slb.as_ref(), id, load_balancer_id).await {
                Ok(found) => found.map(|g| g.id).into_iter().collect(),
                // As an instance leaves a load balancer it does not own: nothing of ours to delete.
                Err(Error::NotOwned { what }) => {
                    let note = format!("Left {what} in place: this object does not own it");
                    events::warning(ctx, group, "NotOwned", note).await;
                    Vec::new()
                }
                Err(error) => return Err(error),
            }
        }
        (None, Some(load_balancer_id)) => {
            owned_group_ids(slb.as_ref(), load_balancer_id, &key.uid).await?
        }
        (None, None) => Vec::new(),
    };
    for id in ids {
        match delete_group(slb.as_ref(), &id).await {
            Ok(true) => {
                events::normal(ctx, group, "Deleted", format!("Deleted VServer group {id}")).await;
            }
            Ok(false) => {}
            Err(Error::Slb(error)) if error.code() == Some(IN_USE_CODE) => {
                let message = format!(
                    "cannot delete VServer group {id} yet: a listener or a forwarding rule still uses it; delete or repoint them first"
                );
                let blocked =
                    DesiredCondition::ready(false, Reason::ReconcileError, message.clone());
                report_status(ctx, group, status.clone(), [blocked], Generation::Pending).await?;
                return Err(Error::DependentsExist(message));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Action::await_change())
}

/// What both kinds of group tell [`cleanup_placement`].
pub(crate) trait GroupToClean: NamespacedObject {
    /// The group's kind as the Orphaned Event names it.
    const NOUN: &'static str;
    fn instance_name(&self) -> &str;
    fn deletion_policy(&self) -> Option<DeletionPolicy>;
    /// The ID and the region its status recorded of its SLB group.
    fn recorded(&self) -> (Option<&str>, Option<&str>);
}

/// Both kinds keep their instance and deletion policy in the spec and their group in the status;
/// only the name of the ID field differs.
macro_rules! group_to_clean {
    ($($kind:ty => $noun:literal, $id_field:ident);*) => {$(
        impl GroupToClean for $kind {
            const NOUN: &'static str = $noun;
            fn instance_name(&self) -> &str {
                &self.spec.instance_ref.name
            }
            fn deletion_policy(&self) -> Option<DeletionPolicy> {
                self.spec.deletion_policy
            }
            fn recorded(&self) -> (Option<&str>, Option<&str>) {
                let status = self.status.as_ref();
                (
                    status.and_then(|s| s.$id_field.as_deref()),
                    status.and_then(|s| s.region_id.as_deref()),
                )
            }
        }
    )*};
}

group_to_clean!(
    SlbVServerGroup => "VServer group", v_server_group_id;
    SlbMasterSlaveServerGroup => "master-slave server group", master_slave_server_group_id
);

/// Where a group's cleanup acts, the same for both kinds of group.
pub(crate) struct CleanupPlacement {
    /// The SlbInstance, while it exists.
    pub instance: Option<SlbInstance>,
    /// The client for the recorded region, else the instance's.
    pub slb: Arc<dyn SlbApi>,
}

/// `None` when the deletion policy in effect (the group's own, else its instance's: see
/// [`deletion_policy_in_effect`]) orphans the group, announced by an Event naming the recorded
/// group; else the instance and the client the cleanup calls.
pub(crate) async fn cleanup_placement<K: GroupToClean>(
    ctx: &Context,
    group: &K,
) -> Result<Option<CleanupPlacement>> {
    let key = ObjectKey::of(group)?;
    let instance = find_instance(ctx, &key.namespace, group.instance_name()).await?;
    let own_policy = [group.deletion_policy()];
    let policy = deletion_policy_in_effect(&own_policy, instance.as_ref().map(|i| &i.spec));
    let (recorded_id, recorded_region) = group.recorded();
    if policy == DeletionPolicy::Orphan {
        if let Some(id) = recorded_id {
            let note = format!("Left {} {id} in place", K::NOUN);
            events::normal(ctx, group, "Orphaned", note).await;
        }
        return Ok(None);
    }
    let region = recorded_region.map_or_else(
        || instance_region(instance.as_ref(), &ctx.config.default_region),
        str::to_owned,
    );
    let slb = ctx.slb.region(&region)?;
    Ok(Some(CleanupPlacement { instance, slb }))
}

/// Takes the backends this object added out of an existing group that is not ours, and leaves the
/// group itself.
async fn release_existing(
    ctx: &Context,
    group: &SlbVServerGroup,
    slb: &dyn SlbApi,
    id: &str,
    status: &SlbVServerGroupStatus,
) -> Result<Action> {
    let Some(existing) = describe(slb, id).await? else {
        return Ok(Action::await_change());
    };
    let ours = plan::from_spec(&status.backends).unwrap_or_default();
    let added = plan::managed_part(&existing.backends, &Backends::new(), &ours);
    for change in plan::diff(&Backends::new(), &added) {
        if let Change::Remove(backend_servers) = change {
            slb.remove_vserver_group_backend_servers(&RemoveVServerGroupBackendServersRequest {
                v_server_group_id: id.to_owned(),
                backend_servers,
            })
            .await?;
        }
    }
    let note = format!(
        "Removed the {} backend(s) it added from VServer group {id}, which stays",
        added.len()
    );
    events::normal(ctx, group, "Released", note).await;
    Ok(Action::await_change())
}
