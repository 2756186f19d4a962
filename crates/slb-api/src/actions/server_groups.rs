//! VServer groups (servers with ports, targets of listeners and rules) and master-slave server groups.

use crate::action::{Validate, ValidationError, action};
use crate::check::{self, Check};
use crate::lenient;
use crate::model::{Acknowledged, MasterSlaveBackendServer, VServerBackendServer};
use crate::types::MasterSlaveServerType;
use serde::{Deserialize, Serialize};

/// Servers in one request: at most 20.
const MAX_SERVERS: usize = 20;

fn servers(list: &str, servers: &[VServerBackendServer], allow_empty: bool) -> Check {
    if !(allow_empty && servers.is_empty()) {
        check::count(list, servers.len(), MAX_SERVERS)?;
    }
    servers.iter().try_for_each(|server| server.validate(list))
}

/// A VServer group and its servers, as the VServer-group actions return it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VServerGroupResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub v_server_group_id: String,
    /// Not returned by every action.
    pub v_server_group_name: Option<String>,
    /// Returned by `DescribeVServerGroupAttribute` (official SDK model).
    pub load_balancer_id: Option<String>,
    /// All servers of the group after the call; `BackendServers.BackendServer[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub backend_servers: Vec<VServerBackendServer>,
}

/// `CreateVServerGroup`: creates a group on an instance with up to 20 servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateVServerGroupRequest {
    pub load_balancer_id: String,
    pub v_server_group_name: String,
    /// Sent even when empty (`[]`), since the reference marks it required.
    pub backend_servers: Vec<VServerBackendServer>,
}

impl Validate for CreateVServerGroupRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        check::required("VServerGroupName", &self.v_server_group_name)?;
        servers("BackendServers", &self.backend_servers, true)
    }
}

action!(CreateVServerGroupRequest => CreateVServerGroupResponse = VServerGroupResponse, "CreateVServerGroup", idempotent = false);

/// `SetVServerGroupAttribute`: renames a group and changes weights of servers already in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetVServerGroupAttributeRequest {
    pub v_server_group_id: String,
    pub v_server_group_name: String,
    /// Weights to change; not sent when empty (weights unchanged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_servers: Vec<VServerBackendServer>,
}

impl Validate for SetVServerGroupAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("VServerGroupId", &self.v_server_group_id)?;
        check::required("VServerGroupName", &self.v_server_group_name)?;
        servers("BackendServers", &self.backend_servers, true)
    }
}

action!(SetVServerGroupAttributeRequest => SetVServerGroupAttributeResponse = VServerGroupResponse, "SetVServerGroupAttribute");

/// `AddVServerGroupBackendServers`: adds up to 20 servers to a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddVServerGroupBackendServersRequest {
    pub v_server_group_id: String,
    pub backend_servers: Vec<VServerBackendServer>,
}

impl Validate for AddVServerGroupBackendServersRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("VServerGroupId", &self.v_server_group_id)?;
        servers("BackendServers", &self.backend_servers, false)
    }
}

action!(AddVServerGroupBackendServersRequest => AddVServerGroupBackendServersResponse = VServerGroupResponse, "AddVServerGroupBackendServers");

/// `RemoveVServerGroupBackendServers`: removes up to 20 servers (by ID and port; weights are not sent).
/// Servers not in the group are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveVServerGroupBackendServersRequest {
    pub v_server_group_id: String,
    pub backend_servers: Vec<VServerBackendServer>,
}

impl Validate for RemoveVServerGroupBackendServersRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("VServerGroupId", &self.v_server_group_id)?;
        servers("BackendServers", &self.backend_servers, false)
    }
}

action!(RemoveVServerGroupBackendServersRequest => RemoveVServerGroupBackendServersResponse = VServerGroupResponse, "RemoveVServerGroupBackendServers");

/// `ModifyVServerGroupBackendServers`: removes `old_backend_servers` and adds `new_backend_servers` in one
/// call (old entries not in the group are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyVServerGroupBackendServersRequest {
    pub v_server_group_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub old_backend_servers: Vec<VServerBackendServer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_backend_servers: Vec<VServerBackendServer>,
}

impl Validate for ModifyVServerGroupBackendServersRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("VServerGroupId", &self.v_server_group_id)?;
        if self.old_backend_servers.is_empty() && self.new_backend_servers.is_empty() {
            return Err("OldBackendServers or NewBackendServers must be given".into());
        }
        servers("OldBackendServers", &self.old_backend_servers, true)?;
        servers("NewBackendServers", &self.new_backend_servers, true)
    }
}

action!(ModifyVServerGroupBackendServersRequest => ModifyVServerGroupBackendServersResponse = VServerGroupResponse, "ModifyVServerGroupBackendServers");

/// `DeleteVServerGroup`: refused while a listener or rule uses the group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteVServerGroupRequest {
    pub v_server_group_id: String,
}

impl Validate for DeleteVServerGroupRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("VServerGroupId", &self.v_server_group_id)
    }
}

action!(DeleteVServerGroupRequest => DeleteVServerGroupResponse = Acknowledged, "DeleteVServerGroup");

/// `DescribeVServerGroups`: the groups of an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVServerGroupsRequest {
    pub load_balancer_id: String,
}

impl Validate for DescribeVServerGroupsRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VServerGroupSummary {
    #[serde(deserialize_with = "lenient::string")]
    pub v_server_group_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub v_server_group_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeVServerGroupsResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `VServerGroups.VServerGroup[]` (or a bare list) on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub v_server_groups: Vec<VServerGroupSummary>,
}

action!(DescribeVServerGroupsRequest => DescribeVServerGroupsResponse, "DescribeVServerGroups");

/// `DescribeVServerGroupAttribute`: one group with its servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVServerGroupAttributeRequest {
    pub v_server_group_id: String,
}

impl Validate for DescribeVServerGroupAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("VServerGroupId", &self.v_server_group_id)
    }
}

action!(DescribeVServerGroupAttributeRequest => DescribeVServerGroupAttributeResponse = VServerGroupResponse, "DescribeVServerGroupAttribute");

/// `CreateMasterSlaveServerGroup` (the reference's text says `CreateMasterSlaveVServerGroup`; its RAM table
/// and the official SDKs use this name): exactly two servers, one `Master` and one `Slave`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateMasterSlaveServerGroupRequest {
    pub load_balancer_id: String,
    pub master_slave_server_group_name: String,
    pub master_slave_backend_servers: Vec<MasterSlaveBackendServer>,
}

impl Validate for CreateMasterSlaveServerGroupRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        check::required(
            "MasterSlaveServerGroupName",
            &self.master_slave_server_group_name,
        )?;
        let servers = &self.master_slave_backend_servers;
        if servers.len() != 2 {
            return Err(format!(
                "MasterSlaveBackendServers takes exactly two servers, got {}",
                servers.len()
            )
            .into());
        }
        servers
            .iter()
            .try_for_each(MasterSlaveBackendServer::validate)?;
        // ServerType defaults to Master on the service side.
        let masters = servers
            .iter()
            .filter(|s| {
                s.server_type.unwrap_or(MasterSlaveServerType::Master)
                    == MasterSlaveServerType::Master
            })
            .count();
        if masters != 1 {
            return Err("MasterSlaveBackendServers needs one Master and one Slave".into());
        }
        Ok(())
    }
}

/// A master-slave server group and its servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MasterSlaveServerGroupResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// Also accepted as `MasterSlaveVServerGroupId`, see [`crate::lenient::normalize`].
    #[serde(deserialize_with = "lenient::string")]
    pub master_slave_server_group_id: String,
    pub master_slave_server_group_name: Option<String>,
    pub load_balancer_id: Option<String>,
    /// `MasterSlaveBackendServers.MasterSlaveBackendServer[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub master_slave_backend_servers: Vec<MasterSlaveBackendServer>,
}

action!(CreateMasterSlaveServerGroupRequest => CreateMasterSlaveServerGroupResponse = MasterSlaveServerGroupResponse, "CreateMasterSlaveServerGroup", idempotent = false);

/// `DeleteMasterSlaveServerGroup`: refused while a listener uses the group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteMasterSlaveServerGroupRequest {
    pub master_slave_server_group_id: String,
}

impl Validate for DeleteMasterSlaveServerGroupRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required(
            "MasterSlaveServerGroupId",
            &self.master_slave_server_group_id,
        )
    }
}

action!(DeleteMasterSlaveServerGroupRequest => DeleteMasterSlaveServerGroupResponse = Acknowledged, "DeleteMasterSlaveServerGroup");

/// `DescribeMasterSlaveServerGroupAttribute`: one group with its two servers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeMasterSlaveServerGroupAttributeRequest {
    pub master_slave_server_group_id: String,
}

impl Validate for DescribeMasterSlaveServerGroupAttributeRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required(
            "MasterSlaveServerGroupId",
            &self.master_slave_server_group_id,
        )
    }
}

action!(DescribeMasterSlaveServerGroupAttributeRequest => DescribeMasterSlaveServerGroupAttributeResponse = MasterSlaveServerGroupResponse, "DescribeMasterSlaveServerGroupAttribute");

/// `DescribeMasterSlaveServerGroups`: the master-slave groups of an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeMasterSlaveServerGroupsRequest {
    pub load_balancer_id: String,
}

impl Validate for DescribeMasterSlaveServerGroupsRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MasterSlaveServerGroupSummary {
    #[serde(deserialize_with = "lenient::string")]
    pub master_slave_server_group_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub master_slave_server_group_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeMasterSlaveServerGroupsResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `MasterSlaveServerGroups.MasterSlaveServerGroup[]` on the wire (the reference: `MasterSlaveVServerGroups`).
    #[serde(deserialize_with = "lenient::list")]
    pub master_slave_server_groups: Vec<MasterSlaveServerGroupSummary>,
}

action!(DescribeMasterSlaveServerGroupsRequest => DescribeMasterSlaveServerGroupsResponse, "DescribeMasterSlaveServerGroups");
