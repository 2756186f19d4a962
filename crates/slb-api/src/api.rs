//! [`SlbApi`]: the object-safe async interface of the whole API, one method per action, implemented by
//! [`Client`]. Code against `Arc<dyn SlbApi>` to swap in a fake in tests.

use crate::action::Action;
use crate::actions::*;
use crate::client::Client;
use crate::error::Error;
use async_trait::async_trait;

/// Declares [`SlbApi`] and its [`Client`] impl from `method(Request)` pairs; each method returns the
/// request's `Action::Response`.
macro_rules! slb_api {
    ($($method:ident($request:ident),)+) => {
        /// Every action of the SLB API (2014-05-15) as an async method.
        #[async_trait]
        pub trait SlbApi: Send + Sync {
            $(
                #[doc = concat!("Calls the action of [`", stringify!($request), "`].")]
                async fn $method(&self, request: &$request) -> Result<<$request as Action>::Response, Error>;
            )+
        }

        #[async_trait]
        impl SlbApi for Client {
            $(
                async fn $method(&self, request: &$request) -> Result<<$request as Action>::Response, Error> {
                    self.call(request).await
                }
            )+
        }
    };
}

/// Calls `$callback! { method(Request), ... }` with every action of the API, so that code wrapping
/// [`SlbApi`] (a metering or caching layer) implements every method from the one list kept here.
#[macro_export]
macro_rules! for_each_action {
    ($callback:ident) => {
        $callback! {
            create_load_balancer(CreateLoadBalancerRequest),
            delete_load_balancer(DeleteLoadBalancerRequest),
            set_load_balancer_status(SetLoadBalancerStatusRequest),
            set_load_balancer_name(SetLoadBalancerNameRequest),
            modify_load_balancer_internet_spec(ModifyLoadBalancerInternetSpecRequest),
            modify_load_balancer_pay_type(ModifyLoadBalancerPayTypeRequest),
            modify_load_balancer_instance_spec(ModifyLoadBalancerInstanceSpecRequest),
            describe_load_balancers(DescribeLoadBalancersRequest),
            describe_load_balancer_attribute(DescribeLoadBalancerAttributeRequest),
            describe_regions(DescribeRegionsRequest),
            describe_zones(DescribeZonesRequest),
            upload_server_certificate(UploadServerCertificateRequest),
            delete_server_certificate(DeleteServerCertificateRequest),
            describe_server_certificates(DescribeServerCertificatesRequest),
            set_server_certificate_name(SetServerCertificateNameRequest),
            upload_ca_certificate(UploadCACertificateRequest),
            delete_ca_certificate(DeleteCACertificateRequest),
            describe_ca_certificates(DescribeCACertificatesRequest),
            set_ca_certificate_name(SetCACertificateNameRequest),
            create_load_balancer_http_listener(CreateLoadBalancerHTTPListenerRequest),
            create_load_balancer_https_listener(CreateLoadBalancerHTTPSListenerRequest),
            create_load_balancer_tcp_listener(CreateLoadBalancerTCPListenerRequest),
            create_load_balancer_udp_listener(CreateLoadBalancerUDPListenerRequest),
            set_load_balancer_http_listener_attribute(SetLoadBalancerHTTPListenerAttributeRequest),
            set_load_balancer_https_listener_attribute(SetLoadBalancerHTTPSListenerAttributeRequest),
            set_load_balancer_tcp_listener_attribute(SetLoadBalancerTCPListenerAttributeRequest),
            set_load_balancer_udp_listener_attribute(SetLoadBalancerUDPListenerAttributeRequest),
            describe_load_balancer_http_listener_attribute(DescribeLoadBalancerHTTPListenerAttributeRequest),
            describe_load_balancer_https_listener_attribute(DescribeLoadBalancerHTTPSListenerAttributeRequest),
            describe_load_balancer_tcp_listener_attribute(DescribeLoadBalancerTCPListenerAttributeRequest),
            describe_load_balancer_udp_listener_attribute(DescribeLoadBalancerUDPListenerAttributeRequest),
            start_load_balancer_listener(StartLoadBalancerListenerRequest),
            stop_load_balancer_listener(StopLoadBalancerListenerRequest),
            delete_load_balancer_listener(DeleteLoadBalancerListenerRequest),
            set_listener_access_control_status(SetListenerAccessControlStatusRequest),
            describe_listener_access_control_attribute(DescribeListenerAccessControlAttributeRequest),
            add_listener_white_list_item(AddListenerWhiteListItemRequest),
            remove_listener_white_list_item(RemoveListenerWhiteListItemRequest),
            add_backend_servers(AddBackendServersRequest),
            remove_backend_servers(RemoveBackendServersRequest),
            set_backend_servers(SetBackendServersRequest),
            describe_health_status(DescribeHealthStatusRequest),
            create_vserver_group(CreateVServerGroupRequest),
            set_vserver_group_attribute(SetVServerGroupAttributeRequest),
            add_vserver_group_backend_servers(AddVServerGroupBackendServersRequest),
            remove_vserver_group_backend_servers(RemoveVServerGroupBackendServersRequest),
            modify_vserver_group_backend_servers(ModifyVServerGroupBackendServersRequest),
            delete_vserver_group(DeleteVServerGroupRequest),
            describe_vserver_groups(DescribeVServerGroupsRequest),
            describe_vserver_group_attribute(DescribeVServerGroupAttributeRequest),
            create_master_slave_server_group(CreateMasterSlaveServerGroupRequest),
            delete_master_slave_server_group(DeleteMasterSlaveServerGroupRequest),
            describe_master_slave_server_group_attribute(DescribeMasterSlaveServerGroupAttributeRequest),
            describe_master_slave_server_groups(DescribeMasterSlaveServerGroupsRequest),
            create_rules(CreateRulesRequest),
            set_rule(SetRuleRequest),
            delete_rules(DeleteRulesRequest),
            describe_rules(DescribeRulesRequest),
            describe_rule_attribute(DescribeRuleAttributeRequest),
            add_tags(AddTagsRequest),
            remove_tags(RemoveTagsRequest),
            describe_tags(DescribeTagsRequest),
        }
    };
}

for_each_action!(slb_api);
