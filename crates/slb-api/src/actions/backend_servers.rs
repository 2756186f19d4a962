//! Backend servers attached directly to an instance, and their health.

use crate::action::{Validate, ValidationError, action};
use crate::actions::instances::AttachedBackendServer;
use crate::check::{self, Check};
use crate::lenient;
use crate::model::BackendServer;
use crate::types::ServerHealthStatus;
use serde::{Deserialize, Serialize};

/// Backend servers in one request: at most 20.
const MAX_BACKEND_SERVERS: usize = 20;

/// The instance and the 1 to 20 servers to attach or to weigh.
fn servers(load_balancer_id: &str, servers: &[BackendServer]) -> Check {
    check::required("LoadBalancerId", load_balancer_id)?;
    check::count("BackendServers", servers.len(), MAX_BACKEND_SERVERS)?;
    servers.iter().try_for_each(BackendServer::validate)
}

/// The response of the three backend-server actions: the instance's backend servers after the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BackendServersResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub load_balancer_id: String,
    /// `BackendServers.BackendServer[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub backend_servers: Vec<AttachedBackendServer>,
}

/// `AddBackendServers`: attaches running ECS instances (at most 20; repeated IDs keep the first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddBackendServersRequest {
    pub load_balancer_id: String,
    /// A JSON list on the wire.
    pub backend_servers: Vec<BackendServer>,
}

impl Validate for AddBackendServersRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        servers(&self.load_balancer_id, &self.backend_servers)
    }
}

action!(AddBackendServersRequest => AddBackendServersResponse = BackendServersResponse, "AddBackendServers");

/// `RemoveBackendServers`: detaches servers; IDs not attached are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveBackendServersRequest {
    pub load_balancer_id: String,
    /// ECS instance IDs; a JSON list of strings on the wire, as the reference's example shows.
    pub backend_servers: Vec<String>,
}

impl Validate for RemoveBackendServersRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        check::ids("BackendServers", &self.backend_servers, MAX_BACKEND_SERVERS)
    }
}

action!(RemoveBackendServersRequest => RemoveBackendServersResponse = BackendServersResponse, "RemoveBackendServers");

/// `SetBackendServers`: sets the weights of attached servers (at most 20).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetBackendServersRequest {
    pub load_balancer_id: String,
    pub backend_servers: Vec<BackendServer>,
}

impl Validate for SetBackendServersRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        servers(&self.load_balancer_id, &self.backend_servers)
    }
}

action!(SetBackendServersRequest => SetBackendServersResponse = BackendServersResponse, "SetBackendServers");

/// `DescribeHealthStatus`: health of the instance's backend servers, for one listener port or all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeHealthStatusRequest {
    pub load_balancer_id: String,
    /// All ports when `None` (the reference marks it required but says omitting it means all ports).
    pub listener_port: Option<u16>,
}

impl Validate for DescribeHealthStatusRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerId", &self.load_balancer_id)?;
        self.listener_port
            .map_or(Ok(()), |port| check::port("ListenerPort", port))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BackendServerHealth {
    #[serde(deserialize_with = "lenient::string")]
    pub server_id: String,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub server_health_status: Option<ServerHealthStatus>,
    /// Reported by the official SDK's model, not by the reference.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub listener_port: Option<u16>,
    /// As `listener_port`: the backend port.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeHealthStatusResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::list")]
    pub backend_servers: Vec<BackendServerHealth>,
}

action!(DescribeHealthStatusRequest => DescribeHealthStatusResponse, "DescribeHealthStatus");
