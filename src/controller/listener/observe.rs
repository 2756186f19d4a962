//! What SLB has: the describes of the claimed listener and of the spec's port.

use slb_api::{
    AccessControlStatus, DescribeListenerAccessControlAttributeRequest,
    DescribeLoadBalancerHTTPListenerAttributeRequest,
    DescribeLoadBalancerHTTPSListenerAttributeRequest,
    DescribeLoadBalancerTCPListenerAttributeRequest,
    DescribeLoadBalancerUDPListenerAttributeRequest, SlbApi,
};

use super::plan::{AccessControlState, Address, Desired, Observed, ObservedListener, Slot};
use super::settings;
use crate::crd::ListenerProtocol;
use crate::error::Result;

/// The API's error code for a port held by a listener of another protocol.
const OTHER_PROTOCOL_CODE: &str = "UnsupportedOperationonfixedprotocalport";

pub(super) fn current_listener(observed: &Observed) -> Option<&ObservedListener> {
    match &observed.claimed {
        Slot::Listener(listener) => Some(listener),
        Slot::Free | Slot::OtherProtocol => None,
    }
}

/// One describe of the claimed listener (plus its whitelist when the spec manages it); the spec's
/// port is looked at only when it is not the claimed one.
pub(super) async fn observe(
    slb: &dyn SlbApi,
    desired: &Desired,
    claimed: Option<Address>,
) -> Result<Observed> {
    let with_access_control = desired.access_control.is_some();
    let claimed_slot = match claimed {
        Some(address) => {
            describe(slb, &desired.load_balancer_id, address, with_access_control).await?
        }
        None => Slot::Free,
    };
    let target = match claimed {
        Some(address) if address.port == desired.address.port => None,
        _ => Some(describe(slb, &desired.load_balancer_id, desired.address, false).await?),
    };
    Ok(Observed {
        claimed: claimed_slot,
        target,
    })
}

async fn describe(
    slb: &dyn SlbApi,
    load_balancer_id: &str,
    address: Address,
    with_access_control: bool,
) -> Result<Slot> {
    let load_balancer_id = load_balancer_id.to_owned();
    let listener_port = address.port;
    let described = match address.protocol {
        ListenerProtocol::Http => slb
            .describe_load_balancer_http_listener_attribute(
                &DescribeLoadBalancerHTTPListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, settings::observed_http(address.protocol, &a))),
        ListenerProtocol::Https => slb
            .describe_load_balancer_https_listener_attribute(
                &DescribeLoadBalancerHTTPSListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, settings::observed_http(address.protocol, &a))),
        ListenerProtocol::Tcp => slb
            .describe_load_balancer_tcp_listener_attribute(
                &DescribeLoadBalancerTCPListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, settings::observed_layer4(address.protocol, &a))),
        ListenerProtocol::Udp => slb
            .describe_load_balancer_udp_listener_attribute(
                &DescribeLoadBalancerUDPListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, settings::observed_layer4(address.protocol, &a))),
    };
    let (status, settings) = match described {
        Ok(described) => described,
        Err(error) if error.is_not_found() => return Ok(Slot::Free),
        Err(error) if error.code() == Some(OTHER_PROTOCOL_CODE) => {
            return Ok(Slot::OtherProtocol);
        }
        Err(error) => return Err(error.into()),
    };
    let access_control = if with_access_control {
        let attribute = slb
            .describe_listener_access_control_attribute(
                &DescribeListenerAccessControlAttributeRequest {
                    load_balancer_id,
                    listener_port,
                },
            )
            .await?;
        Some(AccessControlState {
            enabled: attribute.access_control_status == Some(AccessControlStatus::OpenWhiteList),
            source_items: attribute.source_items,
        })
    } else {
        None
    };
    Ok(Slot::Listener(Box::new(ObservedListener {
        status,
        settings,
        access_control,
    })))
}
