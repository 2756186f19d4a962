//! The SlbMasterSlaveServerGroup controller: an active/standby group on the load balancer of an
//! SlbInstance. SLB cannot modify such a group, so a difference is a delete and a create, announced
//! by an Event, and only while no listener uses the group.

mod outcome;
mod plan;

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::runtime::watcher;
use slb_api::{
    CreateMasterSlaveServerGroupRequest, DeleteMasterSlaveServerGroupRequest,
    DescribeMasterSlaveServerGroupAttributeRequest, DescribeMasterSlaveServerGroupsRequest, SlbApi,
};

use self::outcome::{Applied, Before};
pub(crate) use self::plan::{Claim, claim, may_have_created};
use self::plan::{Plan, RemoteGroup, desired_request};
use super::changes;
use super::events;
use super::object::ObjectKey;
use super::references::{load_balancer_of, referencing};
use super::runtime::{conclude, drive, finalized, spec_controller};
use super::scope;
use super::status::{self, Generation, record_status, report_status};
use super::vserver_group::{CleanupPlacement, cleanup_placement, ensure_recorded_placed};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::crd::{SlbInstance, SlbMasterSlaveServerGroup, SlbMasterSlaveServerGroupStatus};
use crate::error::{Error, Result};

/// The error code SLB answers a delete with while a listener uses the group.
const IN_USE_CODE: &str = "ActionNotAllowed";

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let controller = spec_controller::<SlbMasterSlaveServerGroup>(&ctx);
    let by_instance = controller.store();
    let controller = controller.watches_stream(
        changes::relevant(
            scope::watch::<SlbInstance>(&ctx, watcher::Config::default()),
            changes::placement_fingerprint,
        ),
        move |instance: SlbInstance| {
            referencing(
                &by_instance,
                &instance,
                |group: &SlbMasterSlaveServerGroup| {
                    group.spec.instance_ref.name == instance.name_any()
                },
            )
        },
    );
    drive(controller, reconcile, ctx, shutdown).await;
}

/// Reconciles one SlbMasterSlaveServerGroup: the finalizer decides between sync and cleanup.
async fn reconcile(group: Arc<SlbMasterSlaveServerGroup>, ctx: Arc<Context>) -> Result<Action> {
    finalized(group, &ctx, |event| async {
        match event {
            Finalizer::Apply(group) => sync(&group, &ctx).await,
            Finalizer::Cleanup(group) => cleanup(&group, &ctx).await,
        }
    })
    .await
}

async fn sync(group: &SlbMasterSlaveServerGroup, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(group)?;
    let current = group.status.clone().unwrap_or_default();
    let lb = load_balancer_of(ctx, &key.namespace, &group.spec.instance_ref.name).await?;
    let slb = ctx.slb.region(&lb.region)?;
    let desired = desired_of(group, &key, &lb.load_balancer_id);

    // observe
    let on_this_load_balancer =
        current.load_balancer_id.as_deref() == Some(lb.load_balancer_id.as_str());
    let recorded_id = current
        .master_slave_server_group_id
        .clone()
        .filter(|_| on_this_load_balancer);
    let pending = current
        .pending_create_name
        .as_deref()
        .filter(|_| on_this_load_balancer);
    let remote = observe(
        slb.as_ref(),
        &lb.load_balancer_id,
        recorded_id.as_deref(),
        pending,
        &desired,
    )
    .await?;
    let replaced_id = recorded_id
        .as_deref()
        .filter(|id| remote.as_ref().is_none_or(|r| r.id != *id));

    // plan (no I/O), apply
    let mut status = current.clone();
    status.load_balancer_id = Some(lb.load_balancer_id.clone());
    status.region_id = Some(lb.region.clone());
    status.master_slave_server_group_id = remote.as_ref().map(|g| g.id.clone());
    status.pending_create_name = match remote {
        Some(_) => None,
        None => pending.map(str::to_owned),
    };
    let plan = plan::plan(desired, remote.as_ref());
    let mut applied = Applied::default();
    let failed = execute(ctx, group, slb.as_ref(), &mut status, &plan, &mut applied)
        .await
        .err();

    // outcome (no I/O), then status
    let before = Before {
        load_balancer_id: &lb.load_balancer_id,
        replaced_id,
    };
    let outcome = outcome::outcome(&plan, &before, &applied, failed.is_some());
    conclude(ctx, group, status, outcome, failed).await
}

/// Makes the planned calls, recording the ID in the status right after a create, and in `applied`.
async fn execute(
    ctx: &Context,
    group: &SlbMasterSlaveServerGroup,
    slb: &dyn SlbApi,
    status: &mut SlbMasterSlaveServerGroupStatus,
    plan: &Plan,
    applied: &mut Applied,
) -> Result<()> {
    match plan {
        Plan::InSync => Ok(()),
        Plan::Create(request) => create(ctx, group, slb, status, request, applied).await,
        Plan::Replace {
            old_id,
            create: request,
        } => {
            if !delete_or_report_in_use(ctx, group, slb, old_id, status).await? {
                return Err(Error::DependentsExist(in_use_message(old_id, "replace")));
            }
            applied.deleted_id = Some(old_id.clone());
            status.master_slave_server_group_id = None;
            create(ctx, group, slb, status, request, applied).await
        }
    }
}

/// The create request for `group` on the load balancer `load_balancer_id`.
fn desired_of(
    group: &SlbMasterSlaveServerGroup,
    key: &ObjectKey,
    load_balancer_id: &str,
) -> CreateMasterSlaveServerGroupRequest {
    let name = key.slb_name(group.spec.name.as_ref());
    desired_request(
        load_balancer_id,
        &name,
        &group.spec.master,
        &group.spec.slave,
    )
}

async fn describe(slb: &dyn SlbApi, id: &str) -> Result<Option<RemoteGroup>> {
    Ok(describe_placed(slb, id).await?.map(|(group, _)| group))
}

/// The group `id`, and the load balancer SLB reports it on (the official SDK's model has that
/// field; the reference's table does not).
async fn describe_placed(
    slb: &dyn SlbApi,
    id: &str,
) -> Result<Option<(RemoteGroup, Option<String>)>> {
    let request = DescribeMasterSlaveServerGroupAttributeRequest {
        master_slave_server_group_id: id.to_owned(),
    };
    match slb
        .describe_master_slave_server_group_attribute(&request)
        .await
    {
        Ok(group) => Ok(Some((
            RemoteGroup {
                id: id.to_owned(),
                name: group.master_slave_server_group_name.unwrap_or_default(),
                servers: group.master_slave_backend_servers,
            },
            group.load_balancer_id,
        ))),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The recorded group `id` while SLB has it; NotOwned when SLB has it on another load balancer
/// than `load_balancer_id` (a status written by hand, say): that group is someone else's.
async fn describe_recorded(
    slb: &dyn SlbApi,
    id: &str,
    load_balancer_id: &str,
) -> Result<Option<RemoteGroup>> {
    let Some((group, reported)) = describe_placed(slb, id).await? else {
        return Ok(None);
    };
    let listed = || named_groups(slb, load_balancer_id);
    let noun = "master-slave server group";
    ensure_recorded_placed(noun, id, reported, load_balancer_id, listed).await?;
    Ok(Some(group))
}

/// The groups on the load balancer, as (ID, name).
async fn named_groups(slb: &dyn SlbApi, load_balancer_id: &str) -> Result<Vec<(String, String)>> {
    let listed = slb
        .describe_master_slave_server_groups(&DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: load_balancer_id.to_owned(),
        })
        .await?;
    Ok(listed
        .master_slave_server_groups
        .into_iter()
        .map(|g| {
            (
                g.master_slave_server_group_id,
                g.master_slave_server_group_name,
            )
        })
        .collect())
}

/// This object's group: the recorded one, else the one [`claim`] finds ours by name. A group
/// with the wanted name that is not ours is refused whenever a create may follow: SLB lets names
/// repeat, and a second group of that name would make an unanswered create impossible to tell
/// apart. A recorded group that matches the spec needs no list.
async fn observe(
    slb: &dyn SlbApi,
    load_balancer_id: &str,
    recorded_id: Option<&str>,
    pending: Option<&str>,
    desired: &CreateMasterSlaveServerGroupRequest,
) -> Result<Option<RemoteGroup>> {
    let recorded = match recorded_id {
        Some(id) => describe_recorded(slb, id, load_balancer_id).await?,
        None => None,
    };
    if recorded.as_ref().is_some_and(|r| plan::matches(desired, r)) {
        return Ok(recorded);
    }
    let mut listed = named_groups(slb, load_balancer_id).await?;
    listed.retain(|(id, _)| recorded.as_ref().is_none_or(|r| r.id != *id));
    let pending = pending.filter(|_| recorded.is_none());
    let wanted = &desired.master_slave_server_group_name;
    match claim(&listed, |(_, name)| name, pending, wanted) {
        Claim::Ours((id, _)) => describe(slb, id).await,
        Claim::Taken((id, _)) => Err(Error::NotOwned {
            what: format!(
                "master-slave server group {id} on {load_balancer_id}, which has the name {wanted:?} but was not created by this object"
            ),
        }),
        Claim::Free => Ok(recorded),
    }
}

/// Creates the group and records its ID in the status at once, so it is never created twice.
async fn create(
    ctx: &Context,
    group: &SlbMasterSlaveServerGroup,
    slb: &dyn SlbApi,
    status: &mut SlbMasterSlaveServerGroupStatus,
    request: &CreateMasterSlaveServerGroupRequest,
    applied: &mut Applied,
) -> Result<()> {
    // Written ahead: the create takes no ClientToken, so after one left unanswered the group
    // with this name is found as ours (see `claim`), never created a second time.
    status.master_slave_server_group_id = None;
    status.pending_create_name = Some(request.master_slave_server_group_name.clone());
    record_status(ctx, group, status).await?;
    let created = match slb.create_master_slave_server_group(request).await {
        Ok(created) => created,
        Err(error) => {
            if !may_have_created(&error) {
                status.pending_create_name = None;
                status::take_back(ctx, group, status).await?;
            }
            return Err(error.into());
        }
    };
    let id = created.master_slave_server_group_id;
    applied.created_id = Some(id.clone());
    status.master_slave_server_group_id = Some(id.clone());
    status.pending_create_name = None;
    let created = DesiredCondition::ready(false, Reason::Progressing, format!("created {id}"));
    report_status(ctx, group, status.clone(), [created], Generation::Pending).await?;
    Ok(())
}

fn in_use_message(id: &str, what: &str) -> String {
    format!(
        "cannot {what} master-slave server group {id}: a listener still uses it; repoint or delete the listener first"
    )
}

/// Deletes the group; `false` (with the Ready condition saying why) when a listener still uses it.
async fn delete_or_report_in_use(
    ctx: &Context,
    group: &SlbMasterSlaveServerGroup,
    slb: &dyn SlbApi,
    id: &str,
    status: &SlbMasterSlaveServerGroupStatus,
) -> Result<bool> {
    let request = DeleteMasterSlaveServerGroupRequest {
        master_slave_server_group_id: id.to_owned(),
    };
    match slb.delete_master_slave_server_group(&request).await {
        Ok(_) => Ok(true),
        Err(error) if error.is_not_found() => Ok(true),
        Err(error) if error.code() == Some(IN_USE_CODE) => {
            let what = if group.metadata.deletion_timestamp.is_some() {
                "delete"
            } else {
                "replace"
            };
            let blocked =
                DesiredCondition::ready(false, Reason::ReconcileError, in_use_message(id, what));
            report_status(ctx, group, status.clone(), [blocked], Generation::Pending).await?;
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// Deletes the recorded group, or the one the create written ahead made (never one we did not
/// create, nor one SLB has on another load balancer), then lets the object go. With Orphan (its
/// deletionPolicy, else its instance's: see [`cleanup_placement`]) the group stays.
async fn cleanup(group: &SlbMasterSlaveServerGroup, ctx: &Context) -> Result<Action> {
    let Some(CleanupPlacement { instance, slb }) = cleanup_placement(ctx, group).await? else {
        return Ok(Action::await_change());
    };
    let status = group.status.clone().unwrap_or_default();
    let instance_load_balancer = instance.and_then(|i| i.status.and_then(|s| s.load_balancer_id));
    let Some(load_balancer_id) = instance_load_balancer.or(status.load_balancer_id.clone()) else {
        return Ok(Action::await_change());
    };
    let found = match &status.master_slave_server_group_id {
        Some(id) => describe_recorded(slb.as_ref(), id, &load_balancer_id)
            .await
            .map(|group| group.map(|g| g.id)),
        // Without a recorded ID, the create written ahead may have gone through unanswered.
        None => match status
            .pending_create_name
            .as_deref()
            .filter(|_| status.load_balancer_id.as_deref() == Some(load_balancer_id.as_str()))
        {
            Some(pending) => named_groups(slb.as_ref(), &load_balancer_id)
                .await
                .map(|listed| listed.into_iter().find(|(_, name)| name == pending))
                .map(|found| found.map(|(id, _)| id)),
            None => Ok(None),
        },
    };
    let id = match found {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(Action::await_change()),
        // As an instance leaves a load balancer it does not own: nothing of ours to delete.
        Err(Error::NotOwned { what }) => {
            let note = format!("Left {what} in place: this object does not own it");
            events::warning(ctx, group, "NotOwned", note).await;
            return Ok(Action::await_change());
        }
        Err(error) => return Err(error),
    };
    if !delete_or_report_in_use(ctx, group, slb.as_ref(), &id, &status).await? {
        return Err(Error::DependentsExist(in_use_message(&id, "delete")));
    }
    events::normal(
        ctx,
        group,
        "Deleted",
        format!("Deleted master-slave server group {id}"),
    )
    .await;
    Ok(Action::await_change())
}
