//! What SLB holds, read through the API (or from the emulator's state and call log).

use super::*;

/// The IDs of every load balancer SLB holds for the account of `slb`.
pub async fn load_balancer_ids(slb: &dyn SlbApi) -> Vec<String> {
    slb.describe_load_balancers(&slb_api::DescribeLoadBalancersRequest::default())
        .await
        .expect("DescribeLoadBalancers")
        .load_balancers
        .into_iter()
        .map(|lb| lb.load_balancer_id)
        .collect()
}

/// A load balancer made outside the operator, named `name`.
pub async fn made_by_hand(slb: &dyn SlbApi, name: &str) -> slb_api::CreateLoadBalancerResponse {
    slb.create_load_balancer(&slb_api::CreateLoadBalancerRequest {
        load_balancer_name: Some(name.into()),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The vServer groups SLB holds on the load balancer `lb`.
pub async fn vserver_groups(slb: &dyn SlbApi, lb: &str) -> Vec<slb_api::VServerGroupSummary> {
    slb.describe_vserver_groups(&slb_api::DescribeVServerGroupsRequest {
        load_balancer_id: lb.to_owned(),
    })
    .await
    .unwrap()
    .v_server_groups
}

/// Every SLB object the emulator holds, as (kind, id), across its accounts.
pub fn slb_objects(state: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    let mut objects = std::collections::BTreeSet::new();
    let Some(accounts) = state["accounts"].as_object() else {
        return objects;
    };
    for account in accounts.values() {
        for kind in ["load_balancers", "server_certificates", "ca_certificates"] {
            if let Some(map) = account[kind].as_object() {
                objects.extend(map.keys().map(|id| (kind.to_owned(), id.clone())));
            }
        }
    }
    objects
}

/// SLB's attributes of the load balancer `id`, `None` when SLB does not know it.
pub async fn load_balancer(
    slb: &dyn SlbApi,
    id: &str,
) -> Option<slb_api::DescribeLoadBalancerAttributeResponse> {
    slb.describe_load_balancer_attribute(&slb_api::DescribeLoadBalancerAttributeRequest {
        load_balancer_id: id.to_owned(),
        ..Default::default()
    })
    .await
    .ok()
}

/// SLB's attributes of the load balancer `id`, which must exist.
pub async fn attribute(
    slb: &dyn SlbApi,
    id: &str,
) -> slb_api::DescribeLoadBalancerAttributeResponse {
    load_balancer(slb, id)
        .await
        .expect("the load balancer exists")
}

/// The actions of the successful state-changing calls the emulator logged, after the first `skip`.
pub fn writes_after(emulator: &RunningEmulator, skip: u64) -> Vec<String> {
    let mut writes: Vec<String> = emulator
        .calls()
        .into_iter()
        .filter(|call| call.write)
        .map(|call| call.action)
        .collect();
    writes.drain(..skip as usize);
    writes
}

/// The listeners of a load balancer, by port.
pub fn listeners(
    lb: &slb_api::DescribeLoadBalancerAttributeResponse,
) -> std::collections::BTreeMap<u16, slb_api::ListenerProtocol> {
    lb.listener_ports_and_protocol
        .iter()
        .filter_map(|l| Some((l.listener_port?, l.listener_protocol?)))
        .collect()
}

/// SLB's attributes of a listener, one function per protocol (each has its own action), `None`
/// when there is no such listener.
macro_rules! listener_attribute {
    ($($name:ident: $describe:ident($request:ident) -> $attribute:ident;)*) => {$(
        pub async fn $name(slb: &dyn SlbApi, lb: &str, port: u16) -> Option<slb_api::$attribute> {
            slb.$describe(&slb_api::$request {
                load_balancer_id: lb.into(),
                listener_port: port,
            })
            .await
            .ok()
        }
    )*};
}

listener_attribute! {
    http_listener: describe_load_balancer_http_listener_attribute(
        DescribeLoadBalancerHTTPListenerAttributeRequest
    ) -> HttpListenerAttribute;
    https_listener: describe_load_balancer_https_listener_attribute(
        DescribeLoadBalancerHTTPSListenerAttributeRequest
    ) -> HttpListenerAttribute;
    tcp_listener: describe_load_balancer_tcp_listener_attribute(
        DescribeLoadBalancerTCPListenerAttributeRequest
    ) -> Layer4ListenerAttribute;
    udp_listener: describe_load_balancer_udp_listener_attribute(
        DescribeLoadBalancerUDPListenerAttributeRequest
    ) -> Layer4ListenerAttribute;
}

/// The IDs and names of the server certificates in SLB.
pub async fn server_certificates(slb: &dyn SlbApi) -> Vec<(String, String)> {
    slb.describe_server_certificates(&slb_api::DescribeServerCertificatesRequest::default())
        .await
        .unwrap()
        .server_certificates
        .into_iter()
        .map(|c| (c.server_certificate_id, c.server_certificate_name))
        .collect()
}

/// The IDs of the server certificates in SLB.
pub async fn server_certificate_ids(slb: &dyn SlbApi) -> Vec<String> {
    let certificates = server_certificates(slb).await;
    certificates.into_iter().map(|(id, _)| id).collect()
}

/// The IDs of the vServer groups SLB holds on the load balancer `lb`.
pub async fn vserver_group_ids(slb: &dyn SlbApi, lb: &str) -> Vec<String> {
    let groups = vserver_groups(slb, lb).await;
    groups.into_iter().map(|g| g.v_server_group_id).collect()
}

/// The tags of the load balancer `id`, by key.
pub async fn load_balancer_tags(
    slb: &dyn SlbApi,
    id: &str,
) -> std::collections::BTreeMap<String, String> {
    slb.describe_tags(&slb_api::DescribeTagsRequest {
        load_balancer_id: Some(id.to_owned()),
        ..Default::default()
    })
    .await
    .unwrap()
    .tag_sets
    .into_iter()
    .map(|t| (t.tag_key, t.tag_value.unwrap_or_default()))
    .collect()
}

/// An HTTP listener made by hand, as in the console.
pub fn hand_made_http(lb: &str, port: u16) -> slb_api::CreateLoadBalancerHTTPListenerRequest {
    slb_api::CreateLoadBalancerHTTPListenerRequest {
        load_balancer_id: lb.into(),
        listener_port: port,
        backend_server_port: port,
        settings: slb_api::HttpListenerSettings {
            bandwidth: -1,
            sticky_session: slb_api::StickySession {
                enabled: slb_api::OnOff::Off,
                ..Default::default()
            },
            health_check: slb_api::OnOff::Off,
            ..Default::default()
        },
        ..Default::default()
    }
}
