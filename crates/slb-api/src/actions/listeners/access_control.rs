//! Access control of a listener: its white list and whether it is enforced.

use super::listener;
use crate::action::{Validate, ValidationError, action, comma_joined};
use crate::check::Check;
use crate::lenient;
use crate::model::Acknowledged;
use crate::types::AccessControlStatus;
use serde::{Deserialize, Serialize};

listener_request!(
    /// `DescribeListenerAccessControlAttribute`.
    DescribeListenerAccessControlAttributeRequest
);

/// `SetListenerAccessControlStatus`: turns the white list on or off (its items are kept either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetListenerAccessControlStatusRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub access_control_status: AccessControlStatus,
}

impl Validate for SetListenerAccessControlStatusRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)
    }
}

action!(SetListenerAccessControlStatusRequest => SetListenerAccessControlStatusResponse = Acknowledged, "SetListenerAccessControlStatus");

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeListenerAccessControlAttributeResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    #[serde(deserialize_with = "lenient::opt_enum")]
    pub access_control_status: Option<AccessControlStatus>,
    /// IPs and CIDR ranges; one comma-separated string on the wire.
    #[serde(deserialize_with = "lenient::comma_separated")]
    pub source_items: Vec<String>,
}

action!(DescribeListenerAccessControlAttributeRequest => DescribeListenerAccessControlAttributeResponse, "DescribeListenerAccessControlAttribute");

fn validate_source_items(items: &[String]) -> Check {
    if items.is_empty() {
        return Err("SourceItems must not be empty".into());
    }
    for item in items {
        let address = item.split('/').next().unwrap_or_default().trim();
        if address.is_empty() || item.contains(',') {
            return Err(format!("SourceItems item {item:?} is not an IP address or range").into());
        }
        if address == "0.0.0.0" {
            return Err("SourceItems must not contain 0.0.0.0; set AccessControlStatus to close to allow all".into());
        }
    }
    Ok(())
}

/// `AddListenerWhiteListItem`: adds IPs or CIDR ranges to a listener's white list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddListenerWhiteListItemRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    #[serde(serialize_with = "comma_joined")]
    pub source_items: Vec<String>,
}

impl Validate for AddListenerWhiteListItemRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        validate_source_items(&self.source_items)
    }
}

action!(AddListenerWhiteListItemRequest => AddListenerWhiteListItemResponse = Acknowledged, "AddListenerWhiteListItem");

/// `RemoveListenerWhiteListItem`: removes IPs or CIDR ranges from a listener's white list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveListenerWhiteListItemRequest {
    pub load_balancer_id: String,
    pub listener_port: u16,
    #[serde(serialize_with = "comma_joined")]
    pub source_items: Vec<String>,
}

impl Validate for RemoveListenerWhiteListItemRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        listener(&self.load_balancer_id, self.listener_port)?;
        if self.source_items.is_empty() {
            return Err("SourceItems must not be empty".into());
        }
        Ok(())
    }
}

action!(RemoveListenerWhiteListItemRequest => RemoveListenerWhiteListItemResponse = Acknowledged, "RemoveListenerWhiteListItem");
