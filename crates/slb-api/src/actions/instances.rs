//! Load balancer instances, regions and zones.

use crate::action::{Validate, ValidationError, action, comma_joined};
use crate::check;
use crate::lenient;
use crate::model::{Acknowledged, Tag};
use crate::types::{
    AddressType, InternetChargeType, ListenerProtocol, LoadBalancerSpec, LoadBalancerStatus,
    NetworkType, PayType, PricingCycle,
};
use serde::{Deserialize, Serialize};

/// `CreateLoadBalancer`: creates an instance and allocates its address. It deserializes too, so that a
/// caller can record a create before sending it and, after a crash, send exactly the same one again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLoadBalancerRequest {
    pub load_balancer_spec: Option<LoadBalancerSpec>,
    pub resource_group_id: Option<String>,
    /// 1–80 characters of letters, digits, `-/._`; the service names the instance when omitted.
    pub load_balancer_name: Option<String>,
    /// Default `internet`.
    pub address_type: Option<AddressType>,
    /// Needed for a VPC instance.
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    /// Default `paybytraffic`.
    pub internet_charge_type: Option<InternetChargeType>,
    /// 1–1000 Mbps, for `paybybandwidth`.
    pub bandwidth: Option<u32>,
    /// Idempotency token, at most 64 ASCII characters. The client generates one when this is `None`, and
    /// keeps it across retries.
    pub client_token: Option<String>,
    pub master_zone_id: Option<String>,
    pub slave_zone_id: Option<String>,
}

impl Validate for CreateLoadBalancerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::opt_name("LoadBalancerName", &self.load_balancer_name)?;
        check::opt_range("Bandwidth", self.bandwidth, 1, 1000)?;
        if let Some(token) = &self.client_token {
            check::length("ClientToken", token, 1, 64)?;
            if !token.is_ascii() {
                return Err("ClientToken must be ASCII".into());
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateLoadBalancerResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub address: String,
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_name: String,
    pub vpc_id: Option<String>,
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub network_type: Option<NetworkType>,
    pub master_zone_id: Option<String>,
    pub slave_zone_id: Option<String>,
    /// Empty (so `None`) for a performance-shared instance.
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub load_balancer_spec: Option<LoadBalancerSpec>,
}

action!(CreateLoadBalancerRequest => CreateLoadBalancerResponse, "CreateLoadBalancer", client_token = true);

/// `ModifyLoadBalancerInternetSpec`: changes the billing method or bandwidth of an internet instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyLoadBalancerInternetSpecRequest {
    pub load_balancer_id: String,
    /// Unchanged when omitted.
    pub internet_charge_type: Option<InternetChargeType>,
    /// 1–1000 Mbps.
    pub bandwidth: Option<u32>,
}

impl Validate for ModifyLoadBalancerInternetSpecRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        check::opt_range("Bandwidth", self.bandwidth, 1, 1000)
    }
}

action!(ModifyLoadBalancerInternetSpecRequest => ModifyLoadBalancerInternetSpecResponse = Acknowledged, "ModifyLoadBalancerInternetSpec");

/// `DeleteLoadBalancer`: deletes an instance with its listeners and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteLoadBalancerRequest {
    pub load_balancer_id: String,
}

impl Validate for DeleteLoadBalancerRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)
    }
}

action!(DeleteLoadBalancerRequest => DeleteLoadBalancerResponse = Acknowledged, "DeleteLoadBalancer");

/// `SetLoadBalancerStatus`: activates or deactivates an instance (`locked` cannot be set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerStatusRequest {
    pub load_balancer_id: String,
    pub load_balancer_status: LoadBalancerStatus,
}

impl Validate for SetLoadBalancerStatusRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        if self.load_balancer_status == LoadBalancerStatus::Locked {
            return Err(
                "LoadBalancerStatus must be active or inactive; locked cannot be set".into(),
            );
        }
        Ok(())
    }
}

action!(SetLoadBalancerStatusRequest => SetLoadBalancerStatusResponse = Acknowledged, "SetLoadBalancerStatus");

/// `SetLoadBalancerName`: renames an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetLoadBalancerNameRequest {
    pub load_balancer_id: String,
    /// 1–80 characters of letters, digits, `-/._`.
    pub load_balancer_name: String,
}

impl Validate for SetLoadBalancerNameRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        check::name("LoadBalancerName", &self.load_balancer_name)
    }
}

action!(SetLoadBalancerNameRequest => SetLoadBalancerNameResponse = Acknowledged, "SetLoadBalancerName");

/// `DescribeLoadBalancers`: lists instances; every filter is optional and unset filters are not applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLoadBalancersRequest {
    /// At most 10 IDs (fuzzy match).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "comma_joined")]
    pub load_balancer_id: Vec<String>,
    /// At most 10 names (fuzzy match).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "comma_joined")]
    pub load_balancer_name: Vec<String>,
    pub address_type: Option<AddressType>,
    pub network_type: Option<NetworkType>,
    pub vpc_id: Option<String>,
    /// Spelled `VswitchId` in this action's request table (the responses say `VSwitchId`).
    #[serde(rename = "VswitchId")]
    pub vswitch_id: Option<String>,
    pub address: Option<String>,
    /// Private addresses of attached backend servers (fuzzy match).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "comma_joined")]
    pub server_intranet_address: Vec<String>,
    pub internet_charge_type: Option<InternetChargeType>,
    /// Only instances with this ECS instance attached.
    pub server_id: Option<String>,
    pub master_zone_id: Option<String>,
    pub slave_zone_id: Option<String>,
    /// At most 10 tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Not in the reference; the official SDK pages with it (from 1).
    pub page_number: Option<u32>,
    /// Not in the reference; the official SDK pages with it (at most 100).
    pub page_size: Option<u32>,
}

impl Validate for DescribeLoadBalancersRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.load_balancer_id.len() > 10 {
            return Err("LoadBalancerId takes at most 10 IDs".into());
        }
        if self.load_balancer_name.len() > 10 {
            return Err("LoadBalancerName takes at most 10 names".into());
        }
        check::at_most("Tags", self.tags.len(), 10)?;
        check::opt_range("PageNumber", self.page_number, 1, u32::MAX)?;
        check::opt_range("PageSize", self.page_size, 1, 100)?;
        self.tags.iter().try_for_each(Tag::validate)
    }
}

/// One instance as `DescribeLoadBalancers` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoadBalancerSummary {
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_name: String,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub load_balancer_status: Option<LoadBalancerStatus>,
    #[serde(deserialize_with = "lenient::string")]
    pub address: String,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub address_type: Option<AddressType>,
    #[serde(deserialize_with = "lenient::string")]
    pub region_id: String,
    pub region_id_alias: Option<String>,
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    pub vpc_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub network_type: Option<NetworkType>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub internet_charge_type: Option<InternetChargeType>,
    /// Sent as a string by this action.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub bandwidth: Option<i32>,
    pub create_time: Option<String>,
    pub master_zone_id: Option<String>,
    pub slave_zone_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub load_balancer_spec: Option<LoadBalancerSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeLoadBalancersResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `LoadBalancers.LoadBalancer[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub load_balancers: Vec<LoadBalancerSummary>,
    /// Paging, when the service reports it (official SDK model).
    #[serde(deserialize_with = "lenient::opt_num")]
    pub total_count: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub page_number: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub page_size: Option<u32>,
}

action!(DescribeLoadBalancersRequest => DescribeLoadBalancersResponse, "DescribeLoadBalancers");

/// `DescribeLoadBalancerAttribute`: one instance with its listener ports and backend servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLoadBalancerAttributeRequest {
    pub load_balancer_id: String,
    pub master_zone_id: Option<String>,
    pub slave_zone_id: Option<String>,
}

impl Validate for DescribeLoadBalancerAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)
    }
}

/// A listener port with its protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListenerPortAndProtocol {
    #[serde(deserialize_with = "lenient::opt_num")]
    pub listener_port: Option<u16>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub listener_protocol: Option<ListenerProtocol>,
}

/// A backend server of an instance as the Describe actions report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AttachedBackendServer {
    #[serde(deserialize_with = "lenient::string")]
    pub server_id: String,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeLoadBalancerAttributeResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub region_id: String,
    pub region_id_alias: Option<String>,
    /// Empty when the instance has no alias.
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_name: String,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub load_balancer_status: Option<LoadBalancerStatus>,
    #[serde(deserialize_with = "lenient::string")]
    pub address: String,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub address_type: Option<AddressType>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub network_type: Option<NetworkType>,
    pub vpc_id: Option<String>,
    /// Also accepted as `VswitchId` (this action's response table), see [`crate::lenient::normalize`].
    #[serde(rename = "VSwitchId")]
    pub vswitch_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub internet_charge_type: Option<InternetChargeType>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub bandwidth: Option<i32>,
    pub create_time: Option<String>,
    /// `ListenerPorts.ListenerPort[]` on the wire.
    #[serde(deserialize_with = "lenient::num_list")]
    pub listener_ports: Vec<u16>,
    #[serde(deserialize_with = "lenient::list")]
    pub listener_ports_and_protocol: Vec<ListenerPortAndProtocol>,
    /// `BackendServers.BackendServer[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub backend_servers: Vec<AttachedBackendServer>,
    pub master_zone_id: Option<String>,
    pub slave_zone_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub load_balancer_spec: Option<LoadBalancerSpec>,
}

action!(DescribeLoadBalancerAttributeRequest => DescribeLoadBalancerAttributeResponse, "DescribeLoadBalancerAttribute");

/// `ModifyLoadBalancerPayType`: converts a pay-as-you-go instance to subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyLoadBalancerPayTypeRequest {
    pub load_balancer_id: String,
    pub pay_type: PayType,
    pub pricing_cycle: PricingCycle,
    /// 1–9 months or 1–3 years.
    pub duration: u32,
    /// `false` leaves the order to be paid in the order centre.
    pub auto_pay: bool,
}

impl Validate for ModifyLoadBalancerPayTypeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        match self.pricing_cycle {
            PricingCycle::Month => check::range("Duration", self.duration, 1, 9),
            PricingCycle::Year => check::range("Duration", self.duration, 1, 3),
        }
    }
}

action!(ModifyLoadBalancerPayTypeRequest => ModifyLoadBalancerPayTypeResponse = Acknowledged, "ModifyLoadBalancerPayType");

/// `ModifyLoadBalancerInstanceSpec`: changes the instance specification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyLoadBalancerInstanceSpecRequest {
    pub load_balancer_id: String,
    pub load_balancer_spec: Option<LoadBalancerSpec>,
}

impl Validate for ModifyLoadBalancerInstanceSpecRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)
    }
}

action!(ModifyLoadBalancerInstanceSpecRequest => ModifyLoadBalancerInstanceSpecResponse = Acknowledged, "ModifyLoadBalancerInstanceSpec");

/// `DescribeRegions`: the available regions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DescribeRegionsRequest {}

impl Validate for DescribeRegionsRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Region {
    #[serde(deserialize_with = "lenient::string")]
    pub region_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub local_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRegionsResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `Regions.Region[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub regions: Vec<Region>,
}

action!(DescribeRegionsRequest => DescribeRegionsResponse, "DescribeRegions");

/// `DescribeZones`: the zones of the client's region, each with the slave zones it can pair with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DescribeZonesRequest {}

impl Validate for DescribeZonesRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SlaveZone {
    #[serde(deserialize_with = "lenient::string")]
    pub zone_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub local_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Zone {
    #[serde(deserialize_with = "lenient::string")]
    pub zone_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub local_name: String,
    /// `SlaveZones.SlaveZone[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub slave_zones: Vec<SlaveZone>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeZonesResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `Zones.Zone[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub zones: Vec<Zone>,
}

action!(DescribeZonesRequest => DescribeZonesResponse, "DescribeZones");
