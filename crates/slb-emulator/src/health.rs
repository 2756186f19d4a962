//! Backend health as DescribeHealthStatus reports it, with overrides set through the admin endpoint.

use serde::{Deserialize, Serialize};

/// Forces the health of one backend (optionally only on one port or listener).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthOverride {
    pub load_balancer_id: String,
    pub server_id: String,
    /// The backend port; any port when absent.
    #[serde(default)]
    pub port: Option<u16>,
    /// The listener; every listener when absent.
    #[serde(default)]
    pub listener_port: Option<u16>,
    /// `normal`, `abnormal` or `unavailable`.
    pub status: String,
}

pub const HEALTH_STATES: &[&str] = &["normal", "abnormal", "unavailable"];

impl HealthOverride {
    pub fn applies_to(
        &self,
        load_balancer_id: &str,
        server_id: &str,
        port: u16,
        listener_port: u16,
    ) -> bool {
        self.load_balancer_id == load_balancer_id
            && self.server_id == server_id
            && self.port.is_none_or(|p| p == port)
            && self.listener_port.is_none_or(|p| p == listener_port)
    }
}
