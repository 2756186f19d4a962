//! The SlbMasterSlaveServerGroup controller: an active/standby group on the load balancer of an
//! SlbInstance. SLB cannot modify such a group, so a difference is a delete and a create, announced
//! by an Event, and only while no listener uses the group.

use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::runtime::watcher;
use slb_api::{
    CreateMasterSlaveServerGroupRequest, DeleteMasterSlaveServerGroupRequest,
    DescribeMasterSlaveServerGroupAttributeRequest, DescribeMasterSlaveServerGroupsRequest,
    MasterSlaveBackendServer, MasterSlaveServerType, SlbApi,
};

use super::references::{
    find_instance, instance_region, load_balancer_of, referencing, report_blocked,
};
use super::{
    ObjectKey, drive, finalized, publish_normal, resync, spec_controller, write_outcome,
    write_ready,
};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::crd::{
    BackendServer, SlbInstance, SlbMasterSlaveServerGroup, SlbMasterSlaveServerGroupStatus,
};
use crate::error::{Error, Result};

/// How soon to look again after changing SLB, to report the result.
const SETTLE_DELAY: Duration = Duration::from_secs(2);

/// The error code SLB answers a delete with while a listener uses the group.
const IN_USE_CODE: &str = "ActionNotAllowed";

/// A group as SLB reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteGroup {
    pub id: String,
    pub name: String,
    pub servers: Vec<MasterSlaveBackendServer>,
}

/// What to do about the group.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    InSync,
    Create(CreateMasterSlaveServerGroupRequest),
    /// Delete `old_id`, then create: SLB has no call that changes a master-slave group.
    Replace {
        old_id: String,
        create: CreateMasterSlaveServerGroupRequest,
    },
}

/// The create request the spec asks for.
pub fn desired_request(
    load_balancer_id: &str,
    name: &str,
    master: &BackendServer,
    slave: &BackendServer,
) -> CreateMasterSlaveServerGroupRequest {
    CreateMasterSlaveServerGroupRequest {
        load_balancer_id: load_balancer_id.to_owned(),
        master_slave_server_group_name: name.to_owned(),
        master_slave_backend_servers: vec![
            to_api(master, MasterSlaveServerType::Master),
            to_api(slave, MasterSlaveServerType::Slave),
        ],
    }
}

fn to_api(backend: &BackendServer, server_type: MasterSlaveServerType) -> MasterSlaveBackendServer {
    MasterSlaveBackendServer {
        server_id: backend.server_id.clone(),
        port: u16::try_from(backend.port).ok(),
        weight: Some(
            backend
                .weight
                .and_then(|w| u32::try_from(w).ok())
                .unwrap_or(100),
        ),
        server_type: Some(server_type),
    }
}

/// Whether SLB's group is what `desired` would create: same name and same two servers (SLB's
/// defaults filled in, order ignored).
pub fn matches(desired: &CreateMasterSlaveServerGroupRequest, remote: &RemoteGroup) -> bool {
    let normalize = |servers: &[MasterSlaveBackendServer]| {
        let mut keys: Vec<(String, Option<u16>, u32, &'static str)> = servers
            .iter()
            .map(|s| {
                let server_type = match s.server_type.unwrap_or(MasterSlaveServerType::Master) {
                    MasterSlaveServerType::Master => "Master",
                    MasterSlaveServerType::Slave => "Slave",
                };
                (
                    s.server_id.clone(),
                    s.port,
                    s.weight.unwrap_or(100),
                    server_type,
                )
            })
            .collect();
        keys.sort();
        keys
    };
    desired.master_slave_server_group_name == remote.name
        && normalize(&desired.master_slave_backend_servers) == normalize(&remote.servers)
}

/// Plans the calls for the group, given what SLB reports.
pub fn plan(desired: CreateMasterSlaveServerGroupRequest, remote: Option<&RemoteGroup>) -> Plan {
    match remote {
        None => Plan::Create(desired),
        Some(remote) if matches(&desired, remote) => Plan::InSync,
        Some(remote) => Plan::Replace {
            old_id: remote.id.clone(),
            create: desired,
        },
    }
}

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let controller = spec_controller::<SlbMasterSlaveServerGroup>(&ctx);
    let by_instance = controller.store();
    let controller = controller.watches(
        ctx.api::<SlbInstance>(),
        watcher::Config::default(),
        move |instance| {
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
    let lb = match load_balancer_of(ctx, &key.namespace, &group.spec.instance_ref.name).await {
        Ok(lb) => lb,
        Err(error) => return report_blocked(ctx, group, error).await,
    };
    let slb = ctx.slb.region(&lb.region)?;
    let desired = desired_of(group, &key, &lb.load_balancer_id);

    // observe
    let recorded_id = current
        .master_slave_server_group_id
        .clone()
        .filter(|_| current.load_balancer_id.as_deref() == Some(lb.load_balancer_id.as_str()));
    let remote = match &recorded_id {
        Some(id) => describe(slb.as_ref(), id).await?,
        None => recover(slb.as_ref(), &desired).await?,
    };

    // plan (no I/O), apply, status
    let mut status = current.clone();
    status.load_balancer_id = Some(lb.load_balancer_id.clone());
    status.master_slave_server_group_id = remote.as_ref().map(|g| g.id.clone());
    let (ready, action) = match plan(desired, remote.as_ref()) {
        Plan::InSync => (
            DesiredCondition::ready(true, Reason::Available, "the group matches the spec"),
            resync(ctx.config.resync_period),
        ),
        Plan::Create(request) => {
            create(ctx, group, slb.as_ref(), &mut status, &request).await?;
            if let Some(deleted) = &recorded_id {
                let id = status
                    .master_slave_server_group_id
                    .clone()
                    .unwrap_or_default();
                publish_normal(
                    ctx,
                    group,
                    "DriftRestored",
                    format!("Group {deleted} was deleted outside; created {id} in its place"),
                )
                .await?;
            }
            (
                DesiredCondition::ready(false, Reason::Progressing, "created"),
                Action::requeue(SETTLE_DELAY),
            )
        }
        Plan::Replace {
            old_id,
            create: request,
        } => {
            publish_normal(
                ctx,
                group,
                "Replacing",
                format!("Group {old_id} differs from the spec and SLB cannot modify it: deleting and creating it again"),
            )
            .await?;
            if !delete_or_report_in_use(ctx, group, slb.as_ref(), &old_id, &status).await? {
                return Err(Error::DependentsExist(in_use_message(&old_id, "replace")));
            }
            status.master_slave_server_group_id = None;
            create(ctx, group, slb.as_ref(), &mut status, &request).await?;
            (
                DesiredCondition::ready(false, Reason::Progressing, format!("replaced {old_id}")),
                Action::requeue(SETTLE_DELAY),
            )
        }
    };
    write_outcome(ctx, group, status, ready).await?;
    Ok(action)
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
            && matches(desired, &remote)
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
) -> Result<()> {
    let created = slb.create_master_slave_server_group(request).await?;
    let id = created.master_slave_server_group_id;
    status.master_slave_server_group_id = Some(id.clone());
    let created = DesiredCondition::ready(false, Reason::Progressing, format!("created {id}"));
    write_ready(ctx, group, status.clone(), created).await?;
    publish_normal(
        ctx,
        group,
        "Created",
        format!(
            "Created master-slave server group {id} on {}",
            request.load_balancer_id
        ),
    )
    .await
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
            write_ready(ctx, group, status.clone(), blocked).await?;
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// Deletes the recorded group (never one we did not create), then lets the object go.
async fn cleanup(group: &SlbMasterSlaveServerGroup, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(group)?;
    let status = group.status.clone().unwrap_or_default();
    let instance = find_instance(ctx, &key.namespace, &group.spec.instance_ref.name).await?;
    let region = instance_region(instance.as_ref(), &ctx.config.default_region);
    let slb = ctx.slb.region(&region)?;
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
    publish_normal(
        ctx,
        group,
        "Deleted",
        format!("Deleted master-slave server group {id}"),
    )
    .await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(server_id: &str, port: i32, weight: Option<i32>) -> BackendServer {
        BackendServer {
            server_id: server_id.into(),
            port,
            weight,
        }
    }

    fn desired() -> CreateMasterSlaveServerGroupRequest {
        desired_request(
            "lb-1",
            "ns/web",
            &backend("i-0001", 80, None),
            &backend("i-0002", 80, Some(50)),
        )
    }

    fn remote_of(request: &CreateMasterSlaveServerGroupRequest) -> RemoteGroup {
        RemoteGroup {
            id: "rsp-1".into(),
            name: request.master_slave_server_group_name.clone(),
            servers: request.master_slave_backend_servers.clone(),
        }
    }

    #[test]
    fn the_request_has_one_master_and_one_slave_with_default_weights() {
        let request = desired();
        let servers = &request.master_slave_backend_servers;
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].server_type, Some(MasterSlaveServerType::Master));
        assert_eq!(servers[0].weight, Some(100));
        assert_eq!(servers[1].server_type, Some(MasterSlaveServerType::Slave));
        assert_eq!(servers[1].weight, Some(50));
        assert_eq!(servers[1].port, Some(80));
    }

    #[test]
    fn a_missing_group_is_created() {
        assert_eq!(plan(desired(), None), Plan::Create(desired()));
    }

    #[test]
    fn a_matching_group_needs_nothing_whatever_the_order_and_defaults() {
        let mut remote = remote_of(&desired());
        remote.servers.reverse();
        remote.servers[1].weight = None;
        remote.servers[1].server_type = None;
        assert_eq!(plan(desired(), Some(&remote)), Plan::InSync);
    }

    #[test]
    fn a_different_group_is_replaced() {
        let mut remote = remote_of(&desired());
        remote.servers[1].server_id = "i-0003".into();
        assert_eq!(
            plan(desired(), Some(&remote)),
            Plan::Replace {
                old_id: "rsp-1".into(),
                create: desired()
            }
        );
        let mut renamed = remote_of(&desired());
        renamed.name = "other".into();
        assert!(matches!(
            plan(desired(), Some(&renamed)),
            Plan::Replace { .. }
        ));
    }

    #[test]
    fn swapped_roles_are_a_difference() {
        let mut remote = remote_of(&desired());
        remote.servers[0].server_type = Some(MasterSlaveServerType::Slave);
        remote.servers[1].server_type = Some(MasterSlaveServerType::Master);
        assert!(!matches(&desired(), &remote));
    }
}
