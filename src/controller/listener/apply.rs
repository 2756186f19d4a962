//! Makes the planned calls.

use slb_api::{
    AccessControlStatus, AddListenerWhiteListItemRequest, DeleteLoadBalancerListenerRequest,
    RemoveListenerWhiteListItemRequest, SetListenerAccessControlStatusRequest, SlbApi,
    StartLoadBalancerListenerRequest, StopLoadBalancerListenerRequest,
};

use super::outcome::Applied;
use super::plan::{Change, Create, Desired, Set, create_refused};
use super::record_address;
use crate::context::Context;
use crate::controller::status::{self, record_status};
use crate::crd::{SlbListener, SlbListenerStatus};
use crate::error::Result;

/// Makes the planned calls. The address is recorded in the status before a create, so that a
/// crash after it never leaves a listener the object does not know it owns, and released when SLB
/// refuses the create; what happened goes into `applied`.
pub(super) async fn execute(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    desired: &Desired,
    status: &mut SlbListenerStatus,
    changes: Vec<Change>,
    applied: &mut Applied,
) -> Result<()> {
    let load_balancer_id = desired.load_balancer_id.clone();
    let listener_port = desired.address.port;
    for change in changes {
        match change {
            Change::Delete { address, reason } => {
                delete_listener(slb, &load_balancer_id, address.port).await?;
                applied.recreated = Some((address, reason));
                status.listener_port = None;
                status.protocol = None;
                status.listener_state = None;
                record_status(ctx, listener, status).await?;
            }
            Change::Create(create) => {
                record_address(status, desired.address);
                record_status(ctx, listener, status).await?;
                let created = match *create {
                    Create::Http(request) => slb.create_load_balancer_http_listener(&request).await,
                    Create::Https(request) => {
                        slb.create_load_balancer_https_listener(&request).await
                    }
                    Create::Tcp(request) => slb.create_load_balancer_tcp_listener(&request).await,
                    Create::Udp(request) => slb.create_load_balancer_udp_listener(&request).await,
                };
                if let Err(error) = created {
                    if create_refused(&error) {
                        // No listener was made: whatever takes the port next is not ours.
                        status.listener_port = None;
                        status.protocol = None;
                        // The claim is in the apiserver now, and the failure path writes no
                        // status.
                        status::take_back(ctx, listener, status).await?;
                    }
                    return Err(error.into());
                }
                applied.created = true;
            }
            Change::Set(set) => match *set {
                Set::Http(request) => {
                    slb.set_load_balancer_http_listener_attribute(&request)
                        .await?;
                }
                Set::Https(request) => {
                    slb.set_load_balancer_https_listener_attribute(&request)
                        .await?;
                }
                Set::Tcp(request) => {
                    slb.set_load_balancer_tcp_listener_attribute(&request)
                        .await?;
                }
                Set::Udp(request) => {
                    slb.set_load_balancer_udp_listener_attribute(&request)
                        .await?;
                }
            },
            Change::AddSourceItems(source_items) => {
                slb.add_listener_white_list_item(&AddListenerWhiteListItemRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                    source_items,
                })
                .await?;
            }
            Change::RemoveSourceItems(source_items) => {
                slb.remove_listener_white_list_item(&RemoveListenerWhiteListItemRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                    source_items,
                })
                .await?;
            }
            Change::SetAccessControl(enabled) => {
                slb.set_listener_access_control_status(&SetListenerAccessControlStatusRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                    access_control_status: if enabled {
                        AccessControlStatus::OpenWhiteList
                    } else {
                        AccessControlStatus::Close
                    },
                })
                .await?;
            }
            Change::Start => {
                slb.start_load_balancer_listener(&StartLoadBalancerListenerRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                })
                .await?;
            }
            Change::Stop => {
                slb.stop_load_balancer_listener(&StopLoadBalancerListenerRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                })
                .await?;
            }
        }
    }
    Ok(())
}

pub(super) async fn delete_listener(
    slb: &dyn SlbApi,
    load_balancer_id: &str,
    port: u16,
) -> Result<()> {
    match slb
        .delete_load_balancer_listener(&DeleteLoadBalancerListenerRequest {
            load_balancer_id: load_balancer_id.to_owned(),
            listener_port: port,
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}
