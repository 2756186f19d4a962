//! Items shared by several actions: list elements of the JSON-string parameters and of responses.

use crate::check::{self, Check};
use crate::lenient;
use crate::types::MasterSlaveServerType;
use serde::{Deserialize, Serialize};

/// The response of actions that return only the common `RequestId`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Acknowledged {
    #[serde(rename = "RequestId", deserialize_with = "lenient::string")]
    pub request_id: String,
}

/// A backend server of an instance with its weight (`AddBackendServers`, `SetBackendServers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BackendServer {
    /// The ECS instance ID.
    #[serde(deserialize_with = "lenient::string")]
    pub server_id: String,
    /// 0–100; the service defaults to 100 when omitted.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_num"
    )]
    pub weight: Option<u32>,
}

impl BackendServer {
    pub(crate) fn validate(&self) -> Check {
        check::required("BackendServers.ServerId", &self.server_id)?;
        check::opt_range("BackendServers.Weight", self.weight, 0, 100)
    }
}

/// A backend server of a VServer group: ECS instance, port and weight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VServerBackendServer {
    /// The ECS instance ID.
    #[serde(deserialize_with = "lenient::string")]
    pub server_id: String,
    /// 1–65535.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub port: Option<u16>,
    /// 0–100; the service defaults to 100 when omitted.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_num"
    )]
    pub weight: Option<u32>,
}

impl VServerBackendServer {
    pub(crate) fn validate(&self, list: &str) -> Check {
        group_server(list, &self.server_id, self.port, self.weight)
    }
}

/// A server of a VServer or master-slave group, named as an item of `list`: an ECS instance, a port, and
/// a weight of 0–100 if given.
fn group_server(list: &str, server_id: &str, port: Option<u16>, weight: Option<u32>) -> Check {
    check::required(&format!("{list}.ServerId"), server_id)?;
    let port = port.ok_or_else(|| format!("{list}.Port is required"))?;
    check::port(&format!("{list}.Port"), port)?;
    check::opt_range(&format!("{list}.Weight"), weight, 0, 100)
}

/// A server of a master-slave server group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MasterSlaveBackendServer {
    /// The ECS instance ID.
    #[serde(deserialize_with = "lenient::string")]
    pub server_id: String,
    /// 1–65535.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub port: Option<u16>,
    /// 0–100; the service defaults to 100 when omitted.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_num"
    )]
    pub weight: Option<u32>,
    /// `Master` or `Slave`; the service defaults to `Master` when omitted.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_enum"
    )]
    pub server_type: Option<MasterSlaveServerType>,
}

impl MasterSlaveBackendServer {
    pub(crate) fn validate(&self) -> Check {
        group_server(
            "MasterSlaveBackendServers",
            &self.server_id,
            self.port,
            self.weight,
        )
    }
}

/// A tag: a key and an optional value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    #[serde(deserialize_with = "lenient::string")]
    pub tag_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_value: Option<String>,
}

impl Tag {
    /// A tag with a key and a value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            tag_key: key.into(),
            tag_value: Some(value.into()),
        }
    }

    pub(crate) fn validate(&self) -> Check {
        check::tag_text("TagKey", &self.tag_key, 1, 64)?;
        self.tag_value
            .as_deref()
            .map_or(Ok(()), |value| check::tag_text("TagValue", value, 0, 128))
    }
}
