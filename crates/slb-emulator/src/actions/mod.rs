//! The API's actions, one function each, over one account's state.

mod access_control;
mod backends;
mod certificates;
mod listener_attributes;
mod listeners;
mod load_balancers;
mod rules;

use serde_json::{Map, Value};

use crate::config::{Account, EcsInstance, TransitionDelays};
use crate::error::{self, ApiError};
use crate::health::HealthOverride;
use crate::ids::SplitMix64;
use crate::params::Params;
use crate::state::{AccountState, Listener, LoadBalancer};

/// What an action's response carries besides RequestId.
pub type Response = Map<String, Value>;

/// Everything an action may read or change.
pub struct Ctx<'a> {
    pub account: &'a Account,
    pub state: &'a mut AccountState,
    /// The request's RegionId, already checked to be a served region.
    pub region: Option<String>,
    pub regions: &'a [String],
    pub now_ms: u64,
    pub delays: TransitionDelays,
    pub ecs: Option<&'a [EcsInstance]>,
    pub health: &'a [HealthOverride],
    pub rng: &'a mut SplitMix64,
    pub next_address: &'a mut u32,
    pub next_sequence: &'a mut u64,
}

/// The canonical name of an action, resolving the reference's alternative spellings.
pub fn canonical_action(action: &str) -> Option<&'static str> {
    let name = match action {
        "CreateLoadBalanceUDPListener" => "CreateLoadBalancerUDPListener",
        "DescribeLoadBalancerHTTPListenerAttributes" => "DescribeLoadBalancerHTTPListenerAttribute",
        "DescribeLoadBalancerUDPListenerAttribut" => "DescribeLoadBalancerUDPListenerAttribute",
        "DescribeServerCertificate" => "DescribeServerCertificates",
        "DescribeCACertificate" => "DescribeCACertificates",
        other => other,
    };
    ACTIONS.iter().copied().find(|a| *a == name)
}

/// The bucket a call counts in for the per-action rate limit: the action itself, as the real service limits
/// each API separately, with the reference's and the SDKs' spellings of one action in one bucket.
pub fn rate_family(action: &'static str) -> &'static str {
    match action {
        "CreateMasterSlaveVServerGroup" => "CreateMasterSlaveServerGroup",
        "DeleteMasterSlaveVServerGroup" => "DeleteMasterSlaveServerGroup",
        "DescribeMasterSlaveVServerGroupAttribute" => "DescribeMasterSlaveServerGroupAttribute",
        "DescribeMasterSlaveVServerGroups" => "DescribeMasterSlaveServerGroups",
        other => other,
    }
}

/// Every action the emulator serves (canonical names; the master-slave ones in both spellings).
pub const ACTIONS: &[&str] = &[
    "CreateLoadBalancer",
    "DeleteLoadBalancer",
    "SetLoadBalancerStatus",
    "SetLoadBalancerName",
    "DescribeLoadBalancers",
    "DescribeLoadBalancerAttribute",
    "ModifyLoadBalancerInternetSpec",
    "ModifyLoadBalancerInstanceSpec",
    "ModifyLoadBalancerPayType",
    "DescribeRegions",
    "DescribeZones",
    "UploadServerCertificate",
    "DeleteServerCertificate",
    "DescribeServerCertificates",
    "SetServerCertificateName",
    "UploadCACertificate",
    "DeleteCACertificate",
    "DescribeCACertificates",
    "SetCACertificateName",
    "CreateLoadBalancerHTTPListener",
    "CreateLoadBalancerHTTPSListener",
    "CreateLoadBalancerTCPListener",
    "CreateLoadBalancerUDPListener",
    "DeleteLoadBalancerListener",
    "StartLoadBalancerListener",
    "StopLoadBalancerListener",
    "SetLoadBalancerHTTPListenerAttribute",
    "SetLoadBalancerHTTPSListenerAttribute",
    "SetLoadBalancerTCPListenerAttribute",
    "SetLoadBalancerUDPListenerAttribute",
    "DescribeLoadBalancerHTTPListenerAttribute",
    "DescribeLoadBalancerHTTPSListenerAttribute",
    "DescribeLoadBalancerTCPListenerAttribute",
    "DescribeLoadBalancerUDPListenerAttribute",
    "SetListenerAccessControlStatus",
    "AddListenerWhiteListItem",
    "RemoveListenerWhiteListItem",
    "DescribeListenerAccessControlAttribute",
    "AddBackendServers",
    "RemoveBackendServers",
    "SetBackendServers",
    "DescribeHealthStatus",
    "CreateVServerGroup",
    "SetVServerGroupAttribute",
    "AddVServerGroupBackendServers",
    "RemoveVServerGroupBackendServers",
    "ModifyVServerGroupBackendServers",
    "DeleteVServerGroup",
    "DescribeVServerGroups",
    "DescribeVServerGroupAttribute",
    "CreateMasterSlaveVServerGroup",
    "CreateMasterSlaveServerGroup",
    "DeleteMasterSlaveVServerGroup",
    "DeleteMasterSlaveServerGroup",
    "DescribeMasterSlaveVServerGroupAttribute",
    "DescribeMasterSlaveServerGroupAttribute",
    "DescribeMasterSlaveVServerGroups",
    "DescribeMasterSlaveServerGroups",
    "CreateRules",
    "DeleteRules",
    "SetRule",
    "DescribeRuleAttribute",
    "DescribeRules",
    "AddTags",
    "RemoveTags",
    "DescribeTags",
];

/// Actions whose tables do not list RegionId (or mark it optional); every other action requires it.
const REGION_OPTIONAL: &[&str] = &[
    "DescribeRegions",
    "DeleteLoadBalancerListener",
    "DescribeListenerAccessControlAttribute",
    "AddBackendServers",
    "CreateVServerGroup",
    "AddVServerGroupBackendServers",
];

pub fn region_required(action: &str) -> bool {
    !REGION_OPTIONAL.contains(&action)
}

/// Whether a successful call changes state (and so is persisted and counted as a write).
pub fn is_write(action: &str) -> bool {
    !action.starts_with("Describe")
}

pub fn dispatch(action: &str, ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    use backends as b;
    use certificates as c;
    use listeners as l;
    use load_balancers as lb;
    match action {
        "CreateLoadBalancer" => lb::create(ctx, p),
        "DeleteLoadBalancer" => lb::delete(ctx, p),
        "SetLoadBalancerStatus" => lb::set_status(ctx, p),
        "SetLoadBalancerName" => lb::set_name(ctx, p),
        "DescribeLoadBalancers" => lb::describe_all(ctx, p),
        "DescribeLoadBalancerAttribute" => lb::describe(ctx, p),
        "ModifyLoadBalancerInternetSpec" => lb::modify_internet_spec(ctx, p),
        "ModifyLoadBalancerInstanceSpec" => lb::modify_instance_spec(ctx, p),
        "ModifyLoadBalancerPayType" => lb::modify_pay_type(ctx, p),
        "DescribeRegions" => lb::describe_regions(ctx),
        "DescribeZones" => lb::describe_zones(ctx),
        "AddTags" => lb::add_tags(ctx, p),
        "RemoveTags" => lb::remove_tags(ctx, p),
        "DescribeTags" => lb::describe_tags(ctx, p),
        "UploadServerCertificate" => c::upload_server(ctx, p),
        "DeleteServerCertificate" => c::delete(ctx, p, c::Kind::Server),
        "DescribeServerCertificates" => c::describe(ctx, p, c::Kind::Server),
        "SetServerCertificateName" => c::set_name(ctx, p, c::Kind::Server),
        "UploadCACertificate" => c::upload_ca(ctx, p),
        "DeleteCACertificate" => c::delete(ctx, p, c::Kind::Ca),
        "DescribeCACertificates" => c::describe(ctx, p, c::Kind::Ca),
        "SetCACertificateName" => c::set_name(ctx, p, c::Kind::Ca),
        "CreateLoadBalancerHTTPListener" => l::create(ctx, p, crate::state::Protocol::Http),
        "CreateLoadBalancerHTTPSListener" => l::create(ctx, p, crate::state::Protocol::Https),
        "CreateLoadBalancerTCPListener" => l::create(ctx, p, crate::state::Protocol::Tcp),
        "CreateLoadBalancerUDPListener" => l::create(ctx, p, crate::state::Protocol::Udp),
        "SetLoadBalancerHTTPListenerAttribute" => l::set(ctx, p, crate::state::Protocol::Http),
        "SetLoadBalancerHTTPSListenerAttribute" => l::set(ctx, p, crate::state::Protocol::Https),
        "SetLoadBalancerTCPListenerAttribute" => l::set(ctx, p, crate::state::Protocol::Tcp),
        "SetLoadBalancerUDPListenerAttribute" => l::set(ctx, p, crate::state::Protocol::Udp),
        "DescribeLoadBalancerHTTPListenerAttribute" => {
            l::describe(ctx, p, crate::state::Protocol::Http)
        }
        "DescribeLoadBalancerHTTPSListenerAttribute" => {
            l::describe(ctx, p, crate::state::Protocol::Https)
        }
        "DescribeLoadBalancerTCPListenerAttribute" => {
            l::describe(ctx, p, crate::state::Protocol::Tcp)
        }
        "DescribeLoadBalancerUDPListenerAttribute" => {
            l::describe(ctx, p, crate::state::Protocol::Udp)
        }
        "DeleteLoadBalancerListener" => l::delete(ctx, p),
        "StartLoadBalancerListener" => l::start(ctx, p),
        "StopLoadBalancerListener" => l::stop(ctx, p),
        "SetListenerAccessControlStatus" => access_control::set_access_control(ctx, p),
        "AddListenerWhiteListItem" => access_control::add_white_list(ctx, p),
        "RemoveListenerWhiteListItem" => access_control::remove_white_list(ctx, p),
        "DescribeListenerAccessControlAttribute" => access_control::describe_access_control(ctx, p),
        "AddBackendServers" => b::add_backends(ctx, p),
        "RemoveBackendServers" => b::remove_backends(ctx, p),
        "SetBackendServers" => b::set_backends(ctx, p),
        "DescribeHealthStatus" => b::describe_health(ctx, p),
        "CreateVServerGroup" => b::create_group(ctx, p),
        "SetVServerGroupAttribute" => b::set_group(ctx, p),
        "AddVServerGroupBackendServers" => b::add_group_servers(ctx, p),
        "RemoveVServerGroupBackendServers" => b::remove_group_servers(ctx, p),
        "ModifyVServerGroupBackendServers" => b::modify_group_servers(ctx, p),
        "DeleteVServerGroup" => b::delete_group(ctx, p),
        "DescribeVServerGroups" => b::describe_groups(ctx, p),
        "DescribeVServerGroupAttribute" => b::describe_group(ctx, p),
        "CreateMasterSlaveVServerGroup" => b::create_ms_group(ctx, p, b::MsNames::V),
        "CreateMasterSlaveServerGroup" => b::create_ms_group(ctx, p, b::MsNames::Plain),
        "DeleteMasterSlaveVServerGroup" => b::delete_ms_group(ctx, p),
        "DeleteMasterSlaveServerGroup" => b::delete_ms_group(ctx, p),
        "DescribeMasterSlaveVServerGroupAttribute" => b::describe_ms_group(ctx, p, b::MsNames::V),
        "DescribeMasterSlaveServerGroupAttribute" => {
            b::describe_ms_group(ctx, p, b::MsNames::Plain)
        }
        "DescribeMasterSlaveVServerGroups" => b::describe_ms_groups(ctx, p, b::MsNames::V),
        "DescribeMasterSlaveServerGroups" => b::describe_ms_groups(ctx, p, b::MsNames::Plain),
        "CreateRules" => rules::create(ctx, p),
        "DeleteRules" => rules::delete(ctx, p),
        "SetRule" => rules::set(ctx, p),
        "DescribeRuleAttribute" => rules::describe(ctx, p),
        "DescribeRules" => rules::describe_all(ctx, p),
        _ => Err(error::UNSUPPORTED_ACTION),
    }
}

impl Ctx<'_> {
    /// A new ID: `prefix` followed by `len` random base-36 characters.
    pub fn new_id(&mut self, prefix: &str, len: usize) -> String {
        format!("{prefix}{}", self.rng.base36(len))
    }

    pub fn next_sequence(&mut self) -> u64 {
        *self.next_sequence += 1;
        *self.next_sequence
    }

    /// The load balancer of this account (and of the request's region, when it names one).
    pub fn lb(&mut self, id: &str) -> Result<&mut LoadBalancer, ApiError> {
        let region = self.region.clone();
        let AccountState {
            load_balancers,
            dirty,
            ..
        } = &mut *self.state;
        let lb = load_balancers
            .get_mut(id)
            .filter(|lb| region.as_deref().is_none_or(|r| r == lb.region_id))
            .ok_or(error::LOAD_BALANCER_NOT_FOUND)?;
        // Handed out mutably, so possibly changed.
        dirty.load_balancers.insert(lb.id.clone());
        Ok(lb)
    }

    /// The load balancer named by the request's `LoadBalancerId` (tag actions also spell it `LoadBalancerID`).
    pub fn lb_param(&mut self, p: &Params) -> Result<&mut LoadBalancer, ApiError> {
        let id = p
            .required_any(&["LoadBalancerId", "LoadBalancerID"])?
            .to_string();
        self.lb(&id)
    }

    /// The listener at `ListenerPort` of the request's load balancer, with due transitions applied.
    pub fn listener_param(&mut self, p: &Params) -> Result<(&mut LoadBalancer, u16), ApiError> {
        let port = p.required_port("ListenerPort")?;
        let now = self.now_ms;
        let lb = self.lb_param(p)?;
        let listener = lb
            .listeners
            .get_mut(&port)
            .ok_or(error::LISTENER_NOT_FOUND)?;
        listener.settle(now);
        Ok((lb, port))
    }

    /// The listener at `ListenerPort` of the request's load balancer, settled, for the actions that touch it alone.
    pub fn listener_mut(&mut self, p: &Params) -> Result<&mut Listener, ApiError> {
        let (lb, port) = self.listener_param(p)?;
        lb.listeners.get_mut(&port).ok_or(error::LISTENER_NOT_FOUND)
    }

    /// Checks a backend ServerId against the ECS inventory (when one is configured).
    pub fn check_server(&self, server_id: &str, region_id: &str) -> Result<(), ApiError> {
        let Some(inventory) = self.ecs else {
            return Ok(());
        };
        let instance = inventory
            .iter()
            .find(|i| {
                i.instance_id == server_id
                    && i.region_id.as_deref().is_none_or(|r| r == region_id)
                    && i.account_id
                        .as_deref()
                        .is_none_or(|a| a == self.account.account_id)
            })
            .ok_or(error::SERVER_NOT_FOUND)?;
        if instance.status.eq_ignore_ascii_case("running") {
            Ok(())
        } else {
            Err(error::SERVER_NOT_RUNNING)
        }
    }

    pub fn private_ip_of(&self, server_id: &str) -> Option<&str> {
        self.ecs?
            .iter()
            .find(|i| i.instance_id == server_id)
            .and_then(|i| i.private_ip.as_deref())
    }
}

/// A listener that is starting, configuring or stopping cannot be changed until it settles.
pub fn ensure_settled(listener: &Listener, now_ms: u64) -> Result<(), ApiError> {
    if listener.status_at(now_ms).is_transitional() {
        Err(error::LB_CONFIGURING)
    } else {
        Ok(())
    }
}

/// `{"<wrapper>": {"<item>": [...]}}`, the reference's list shape.
pub fn list(item: &str, items: Vec<Value>) -> Value {
    let mut inner = Map::new();
    inner.insert(item.to_string(), Value::Array(items));
    Value::Object(inner)
}

pub fn response(pairs: Vec<(&str, Value)>) -> Response {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
