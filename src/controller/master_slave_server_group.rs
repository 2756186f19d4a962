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
use self::plan::{Plan, RemoteGroup, desired_request};
use super::changes;
use super::events;
use super::object::ObjectKey;
use super::references::{load_balancer_of, referencing};
use super::runtime::{conclude, drive, finalized, spec_controller};
use super::scope;
use super::status::{Generation, report_status};
use super::vserver_group::{CleanupPlacement, cleanup_placement};
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

    // observe: by the recorded ID, else by name and content. A recorded group SLB no longer has
    // is looked for that way too: the create that replaced it may have succeeded unanswered.
    let recorded_id = current
        .master_slave_server_group_id
        .clone()
        .filter(|_| current.load_balancer_id.as_deref() == Some(lb.load_balancer_id.as_str()));
    let described = match &recorded_id {
        Some(id) => describe(slb.as_ref(), id).await?,
        None => None,
    };
    let remote = match described {
        Some(found) => Some(found),
        None => recover(slb.as_ref(), &desired).await?,
    };
    let replaced_id = recorded_id
        .as_deref()
        .filter(|id| remote.as_ref().is_none_or(|r| r.id != *id));

    // plan (no I/O), apply
    let mut status = current.clone();
    status.load_balancer_id = Some(lb.load_balancer_id.clone());
    status.region_id = Some(lb.region.clone());
    status.master_slave_server_group_id = remote.as_ref().map(|g| g.id.clone());
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
    let request = DescribeMasterSlaveServerGroupAttributeRequest {
        master_slave_server_group_id: id.to_owned(),
    };
    match slb
        .describe_master_slave_server_group_attribute(&request)
        .await
    {
        Ok(group) => Ok(Some(RemoteGroup {
            id: id.to_owned(),
            name: group.master_slave_server_group_name.unwrap_or_default(),
            servers: group.master_slave_backend_servers,
        })),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// After a crash between the create and the status write: the group with the desired name and
/// exactly the desired servers. SLB cannot tag these groups, so name and content identify it.
async fn recover(
    slb: &dyn SlbApi,
    desired: &CreateMasterSlaveServerGroupRequest,
) -> Result<Option<RemoteGroup>> {
    let listed = slb
        .describe_master_slave_server_groups(&DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: desired.load_balancer_id.clone(),
        })
        .await?;
    for summary in listed
        .master_slave_server_groups
        .iter()
        .filter(|g| g.master_slave_server_group_name == desired.master_slave_server_group_name)
    {
        if let Some(remote) = describe(slb, &summary.master_slave_server_group_id).await?
            && plan::matches(desired, &remote)
        {
            return Ok(Some(remote));
        }
    }
    Ok(None)
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
    let created = slb.create_master_slave_server_group(request).await?;
    let id = created.master_slave_server_group_id;
    applied.created_id = Some(id.clone());
    status.master_slave_server_group_id = Some(id.clone());
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

/// Deletes the recorded group (never one we did not create), then lets the object go. With Orphan
/// (its deletionPolicy, else its instance's: see [`cleanup_placement`]) the group stays.
async fn cleanup(group: &SlbMasterSlaveServerGroup, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(group)?;
    let Some(CleanupPlacement { instance, slb }) = cleanup_placement(ctx, group).await? else {
        return Ok(Action::await_change());
    };
    let status = group.status.clone().unwrap_or_default();
    let recorded = status.master_slave_server_group_id.clone();
    // Without a recorded ID, a crash may have come between the create and the status write.
    let load_balancer_id = instance.and_then(|i| i.status.and_then(|s| s.load_balancer_id));
    let id = match (recorded, load_balancer_id) {
        (Some(id), _) => id,
        (None, Some(load_balancer_id)) => {
            let desired = desired_of(group, &key, &load_balancer_id);
            match recover(slb.as_ref(), &desired).await? {
                Some(remote) => remote.id,
                None => return Ok(Action::await_change()),
            }
        }
        (None, None) => return Ok(Action::await_change()),
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
