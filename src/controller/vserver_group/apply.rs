//! The SlbVServerGroup's calls that change SLB: the planned changes, and the delete.

use slb_api::{
    AddVServerGroupBackendServersRequest, CreateVServerGroupRequest, DeleteVServerGroupRequest,
    ModifyVServerGroupBackendServersRequest, RemoveVServerGroupBackendServersRequest,
    SetVServerGroupAttributeRequest, SlbApi,
};

use super::outcome::Applied;
use super::plan::{self, Change};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::controller::status::{Generation, report_status};
use crate::crd::{SlbVServerGroup, SlbVServerGroupStatus};
use crate::error::Result;

/// Makes the planned calls, recording the ID in the status right after a create, and in `applied`.
pub(super) async fn execute(
    ctx: &Context,
    group: &SlbVServerGroup,
    slb: &dyn SlbApi,
    status: &mut SlbVServerGroupStatus,
    changes: &[Change],
    applied: &mut Applied,
) -> Result<()> {
    let load_balancer_id = status.load_balancer_id.clone().unwrap_or_default();
    let mut id = status.v_server_group_id.clone().unwrap_or_default();
    for change in changes.iter().cloned() {
        match change {
            Change::Create { name, backends } => {
                let created = slb
                    .create_vserver_group(&CreateVServerGroupRequest {
                        load_balancer_id: load_balancer_id.clone(),
                        v_server_group_name: name,
                        backend_servers: backends,
                    })
                    .await?;
                id = created.v_server_group_id;
                applied.created_id = Some(id.clone());
                status.v_server_group_id = Some(id.clone());
                let answered = plan::from_api(&created.backend_servers);
                status.backends = plan::to_status(&answered);
                applied.answered = Some(answered);
                // Recorded before anything else, so that the group is never created twice.
                let created =
                    DesiredCondition::ready(false, Reason::Progressing, format!("created {id}"));
                report_status(ctx, group, status.clone(), [created], Generation::Pending).await?;
            }
            Change::Rename(name) => {
                let renamed = slb
                    .set_vserver_group_attribute(&SetVServerGroupAttributeRequest {
                        v_server_group_id: id.clone(),
                        v_server_group_name: name,
                        backend_servers: Vec::new(),
                    })
                    .await?;
                applied.answered = Some(plan::from_api(&renamed.backend_servers));
            }
            Change::Add(backend_servers) => {
                let added = slb
                    .add_vserver_group_backend_servers(&AddVServerGroupBackendServersRequest {
                        v_server_group_id: id.clone(),
                        backend_servers,
                    })
                    .await?;
                applied.answered = Some(plan::from_api(&added.backend_servers));
            }
            Change::Modify { old, new } => {
                let modified = slb
                    .modify_vserver_group_backend_servers(
                        &ModifyVServerGroupBackendServersRequest {
                            v_server_group_id: id.clone(),
                            old_backend_servers: old,
                            new_backend_servers: new,
                        },
                    )
                    .await?;
                applied.answered = Some(plan::from_api(&modified.backend_servers));
            }
            Change::Remove(backend_servers) => {
                let removed = slb
                    .remove_vserver_group_backend_servers(
                        &RemoveVServerGroupBackendServersRequest {
                            v_server_group_id: id.clone(),
                            backend_servers,
                        },
                    )
                    .await?;
                applied.answered = Some(plan::from_api(&removed.backend_servers));
            }
        }
    }
    Ok(())
}

/// Deletes a group; `false` when it was already gone.
pub(super) async fn delete_group(slb: &dyn SlbApi, id: &str) -> Result<bool> {
    match slb
        .delete_vserver_group(&DeleteVServerGroupRequest {
            v_server_group_id: id.to_owned(),
        })
        .await
    {
        Ok(_) => Ok(true),
        Err(error) if error.is_not_found() => Ok(false),
        Err(error) => Err(error.into()),
    }
}
