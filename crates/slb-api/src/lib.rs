//! A typed, async client for the Alibaba Cloud Server Load Balancer (classic SLB) API, version 2014-05-15.
//!
//! - [`Client`] signs requests ([`signature`]), sends them by GET or POST, paces them with a
//!   [`RateLimiter`] (per action and account, shareable between clients, writes before describes, slower
//!   after `Throttling`), retries what the reference says to retry, and decodes JSON and XML responses
//!   with the documented quirks tolerated ([`lenient`]).
//! - [`SlbApi`] is the object-safe interface the operator uses (`Arc<dyn SlbApi>`), one method per action.
//! - Every request type implements [`Action`] and [`Validate`]: documented ranges and conditional
//!   requirements are checked before anything is sent, failing with [`Error::Validation`].
//! - [`Error::category`] classifies a failure ([`ErrorCategory`]): a stable label for metrics and Kubernetes
//!   Events, and whether to retry.
//!
//! Where the reference is silent or contradicts itself, the choices are recorded in `docs/api-decisions.md`
//! ("Client (crates/slb-api)").
//!
//! # Example
//!
//! ```no_run
//! use slb_api::{Client, ClientConfig, Credentials, DEFAULT_ENDPOINT, DescribeLoadBalancersRequest, SlbApi};
//!
//! # async fn demo() -> Result<(), slb_api::Error> {
//! // Or an emulator: ClientConfig::new("http://127.0.0.1:9080", ...).
//! let config = ClientConfig::new(DEFAULT_ENDPOINT, "cn-hangzhou", Credentials::from_env()?);
//! let client = Client::new(config)?;
//! let listed = client.describe_load_balancers(&DescribeLoadBalancersRequest::default()).await?;
//! for lb in listed.load_balancers {
//!     println!("{} {}", lb.load_balancer_id, lb.address);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Actions
//!
//! All 62 actions of the reference:
//!
//! **Load balancer instances, regions and zones** (`actions::instances`)
//!
//! | Action | Request | Method |
//! |---|---|---|
//! | `CreateLoadBalancer` | [`CreateLoadBalancerRequest`] | [`SlbApi::create_load_balancer`] |
//! | `DeleteLoadBalancer` | [`DeleteLoadBalancerRequest`] | [`SlbApi::delete_load_balancer`] |
//! | `SetLoadBalancerStatus` | [`SetLoadBalancerStatusRequest`] | [`SlbApi::set_load_balancer_status`] |
//! | `SetLoadBalancerName` | [`SetLoadBalancerNameRequest`] | [`SlbApi::set_load_balancer_name`] |
//! | `ModifyLoadBalancerInternetSpec` | [`ModifyLoadBalancerInternetSpecRequest`] | [`SlbApi::modify_load_balancer_internet_spec`] |
//! | `ModifyLoadBalancerPayType` | [`ModifyLoadBalancerPayTypeRequest`] | [`SlbApi::modify_load_balancer_pay_type`] |
//! | `ModifyLoadBalancerInstanceSpec` | [`ModifyLoadBalancerInstanceSpecRequest`] | [`SlbApi::modify_load_balancer_instance_spec`] |
//! | `DescribeLoadBalancers` | [`DescribeLoadBalancersRequest`] | [`SlbApi::describe_load_balancers`] |
//! | `DescribeLoadBalancerAttribute` | [`DescribeLoadBalancerAttributeRequest`] | [`SlbApi::describe_load_balancer_attribute`] |
//! | `DescribeRegions` | [`DescribeRegionsRequest`] | [`SlbApi::describe_regions`] |
//! | `DescribeZones` | [`DescribeZonesRequest`] | [`SlbApi::describe_zones`] |
//!
//! **Server and CA certificates** (`actions::certificates`)
//!
//! | Action | Request | Method |
//! |---|---|---|
//! | `UploadServerCertificate` | [`UploadServerCertificateRequest`] | [`SlbApi::upload_server_certificate`] |
//! | `DeleteServerCertificate` | [`DeleteServerCertificateRequest`] | [`SlbApi::delete_server_certificate`] |
//! | `DescribeServerCertificates` | [`DescribeServerCertificatesRequest`] | [`SlbApi::describe_server_certificates`] |
//! | `SetServerCertificateName` | [`SetServerCertificateNameRequest`] | [`SlbApi::set_server_certificate_name`] |
//! | `UploadCACertificate` | [`UploadCACertificateRequest`] | [`SlbApi::upload_ca_certificate`] |
//! | `DeleteCACertificate` | [`DeleteCACertificateRequest`] | [`SlbApi::delete_ca_certificate`] |
//! | `DescribeCACertificates` | [`DescribeCACertificatesRequest`] | [`SlbApi::describe_ca_certificates`] |
//! | `SetCACertificateName` | [`SetCACertificateNameRequest`] | [`SlbApi::set_ca_certificate_name`] |
//!
//! **Listeners** (`actions::listeners`)
//!
//! | Action | Request | Method |
//! |---|---|---|
//! | `CreateLoadBalancerHTTPListener` | [`CreateLoadBalancerHTTPListenerRequest`] | [`SlbApi::create_load_balancer_http_listener`] |
//! | `CreateLoadBalancerHTTPSListener` | [`CreateLoadBalancerHTTPSListenerRequest`] | [`SlbApi::create_load_balancer_https_listener`] |
//! | `CreateLoadBalancerTCPListener` | [`CreateLoadBalancerTCPListenerRequest`] | [`SlbApi::create_load_balancer_tcp_listener`] |
//! | `CreateLoadBalancerUDPListener` | [`CreateLoadBalancerUDPListenerRequest`] | [`SlbApi::create_load_balancer_udp_listener`] |
//! | `SetLoadBalancerHTTPListenerAttribute` | [`SetLoadBalancerHTTPListenerAttributeRequest`] | [`SlbApi::set_load_balancer_http_listener_attribute`] |
//! | `SetLoadBalancerHTTPSListenerAttribute` | [`SetLoadBalancerHTTPSListenerAttributeRequest`] | [`SlbApi::set_load_balancer_https_listener_attribute`] |
//! | `SetLoadBalancerTCPListenerAttribute` | [`SetLoadBalancerTCPListenerAttributeRequest`] | [`SlbApi::set_load_balancer_tcp_listener_attribute`] |
//! | `SetLoadBalancerUDPListenerAttribute` | [`SetLoadBalancerUDPListenerAttributeRequest`] | [`SlbApi::set_load_balancer_udp_listener_attribute`] |
//! | `DescribeLoadBalancerHTTPListenerAttribute` | [`DescribeLoadBalancerHTTPListenerAttributeRequest`] | [`SlbApi::describe_load_balancer_http_listener_attribute`] |
//! | `DescribeLoadBalancerHTTPSListenerAttribute` | [`DescribeLoadBalancerHTTPSListenerAttributeRequest`] | [`SlbApi::describe_load_balancer_https_listener_attribute`] |
//! | `DescribeLoadBalancerTCPListenerAttribute` | [`DescribeLoadBalancerTCPListenerAttributeRequest`] | [`SlbApi::describe_load_balancer_tcp_listener_attribute`] |
//! | `DescribeLoadBalancerUDPListenerAttribute` | [`DescribeLoadBalancerUDPListenerAttributeRequest`] | [`SlbApi::describe_load_balancer_udp_listener_attribute`] |
//! | `StartLoadBalancerListener` | [`StartLoadBalancerListenerRequest`] | [`SlbApi::start_load_balancer_listener`] |
//! | `StopLoadBalancerListener` | [`StopLoadBalancerListenerRequest`] | [`SlbApi::stop_load_balancer_listener`] |
//! | `DeleteLoadBalancerListener` | [`DeleteLoadBalancerListenerRequest`] | [`SlbApi::delete_load_balancer_listener`] |
//! | `SetListenerAccessControlStatus` | [`SetListenerAccessControlStatusRequest`] | [`SlbApi::set_listener_access_control_status`] |
//! | `DescribeListenerAccessControlAttribute` | [`DescribeListenerAccessControlAttributeRequest`] | [`SlbApi::describe_listener_access_control_attribute`] |
//! | `AddListenerWhiteListItem` | [`AddListenerWhiteListItemRequest`] | [`SlbApi::add_listener_white_list_item`] |
//! | `RemoveListenerWhiteListItem` | [`RemoveListenerWhiteListItemRequest`] | [`SlbApi::remove_listener_white_list_item`] |
//!
//! **Backend servers and health** (`actions::backend_servers`)
//!
//! | Action | Request | Method |
//! |---|---|---|
//! | `AddBackendServers` | [`AddBackendServersRequest`] | [`SlbApi::add_backend_servers`] |
//! | `RemoveBackendServers` | [`RemoveBackendServersRequest`] | [`SlbApi::remove_backend_servers`] |
//! | `SetBackendServers` | [`SetBackendServersRequest`] | [`SlbApi::set_backend_servers`] |
//! | `DescribeHealthStatus` | [`DescribeHealthStatusRequest`] | [`SlbApi::describe_health_status`] |
//!
//! **VServer groups and master-slave server groups** (`actions::server_groups`)
//!
//! | Action | Request | Method |
//! |---|---|---|
//! | `CreateVServerGroup` | [`CreateVServerGroupRequest`] | [`SlbApi::create_vserver_group`] |
//! | `SetVServerGroupAttribute` | [`SetVServerGroupAttributeRequest`] | [`SlbApi::set_vserver_group_attribute`] |
//! | `AddVServerGroupBackendServers` | [`AddVServerGroupBackendServersRequest`] | [`SlbApi::add_vserver_group_backend_servers`] |
//! | `RemoveVServerGroupBackendServers` | [`RemoveVServerGroupBackendServersRequest`] | [`SlbApi::remove_vserver_group_backend_servers`] |
//! | `ModifyVServerGroupBackendServers` | [`ModifyVServerGroupBackendServersRequest`] | [`SlbApi::modify_vserver_group_backend_servers`] |
//! | `DeleteVServerGroup` | [`DeleteVServerGroupRequest`] | [`SlbApi::delete_vserver_group`] |
//! | `DescribeVServerGroups` | [`DescribeVServerGroupsRequest`] | [`SlbApi::describe_vserver_groups`] |
//! | `DescribeVServerGroupAttribute` | [`DescribeVServerGroupAttributeRequest`] | [`SlbApi::describe_vserver_group_attribute`] |
//! | `CreateMasterSlaveServerGroup` | [`CreateMasterSlaveServerGroupRequest`] | [`SlbApi::create_master_slave_server_group`] |
//! | `DeleteMasterSlaveServerGroup` | [`DeleteMasterSlaveServerGroupRequest`] | [`SlbApi::delete_master_slave_server_group`] |
//! | `DescribeMasterSlaveServerGroupAttribute` | [`DescribeMasterSlaveServerGroupAttributeRequest`] | [`SlbApi::describe_master_slave_server_group_attribute`] |
//! | `DescribeMasterSlaveServerGroups` | [`DescribeMasterSlaveServerGroupsRequest`] | [`SlbApi::describe_master_slave_server_groups`] |
//!
//! **Forwarding rules** (`actions::rules`)
//!
//! | Action | Request | Method |
//! |---|---|---|
//! | `CreateRules` | [`CreateRulesRequest`] | [`SlbApi::create_rules`] |
//! | `SetRule` | [`SetRuleRequest`] | [`SlbApi::set_rule`] |
//! | `DeleteRules` | [`DeleteRulesRequest`] | [`SlbApi::delete_rules`] |
//! | `DescribeRules` | [`DescribeRulesRequest`] | [`SlbApi::describe_rules`] |
//! | `DescribeRuleAttribute` | [`DescribeRuleAttributeRequest`] | [`SlbApi::describe_rule_attribute`] |
//!
//! **Tags** (`actions::tags`)
//!
//! | Action | Request | Method |
//! |---|---|---|
//! | `AddTags` | [`AddTagsRequest`] | [`SlbApi::add_tags`] |
//! | `RemoveTags` | [`RemoveTagsRequest`] | [`SlbApi::remove_tags`] |
//! | `DescribeTags` | [`DescribeTagsRequest`] | [`SlbApi::describe_tags`] |
//!
pub mod action;
pub mod actions;
mod api;
pub mod certificate;
mod check;
mod client;
mod config;
mod credentials;
mod error;
pub mod lenient;
mod limiter;
pub mod model;
pub mod signature;
pub mod types;
mod xml;

pub use action::{Action, Validate, ValidationError};
pub use actions::*;
pub use api::SlbApi;
pub use client::{API_VERSION, Client};
pub use config::{
    ClientConfig, DEFAULT_ENDPOINT, HttpMethod, RateLimits, ResponseFormat, RetryPolicy,
};
pub use credentials::{ACCESS_KEY_ID_ENV, ACCESS_KEY_SECRET_ENV, Credentials};
pub use error::{ApiError, Error, ErrorCategory};
pub use limiter::{AdaptiveRate, Priority, RateLimiter, RateLimiters, ThrottleScope, background};
pub use model::*;
pub use types::*;

#[cfg(test)]
mod tests;
