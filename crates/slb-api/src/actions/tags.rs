//! Tags of load balancer instances. The reference spells the instance parameter `LoadBalancerID` in all
//! three tag actions (and `LoadBalancerId` everywhere else); that spelling is sent.

use crate::action::{Validate, ValidationError, action};
use crate::check;
use crate::lenient;
use crate::model::{Acknowledged, Tag};
use serde::{Deserialize, Serialize};

/// Tags in one request: at most 5.
const MAX_TAGS: usize = 5;

/// `AddTags`: binds up to 5 tags (an existing key gets the new value; at most 10 per instance).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddTagsRequest {
    #[serde(rename = "LoadBalancerID")]
    pub load_balancer_id: String,
    /// A JSON list on the wire.
    #[serde(rename = "Tags")]
    pub tags: Vec<Tag>,
}

impl Validate for AddTagsRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerID", &self.load_balancer_id)?;
        check::count("Tags", self.tags.len(), MAX_TAGS)?;
        self.tags.iter().try_for_each(Tag::validate)
    }
}

action!(AddTagsRequest => AddTagsResponse = Acknowledged, "AddTags");

/// `RemoveTags`: unbinds tags matching all given conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemoveTagsRequest {
    #[serde(rename = "LoadBalancerID")]
    pub load_balancer_id: String,
    /// At most 5; not sent when empty.
    #[serde(rename = "Tags", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl Validate for RemoveTagsRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::required("LoadBalancerID", &self.load_balancer_id)?;
        check::at_most("Tags", self.tags.len(), MAX_TAGS)?;
        self.tags.iter().try_for_each(Tag::validate)
    }
}

action!(RemoveTagsRequest => RemoveTagsResponse = Acknowledged, "RemoveTags");

/// `DescribeTags`: tags matching all given conditions, paged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DescribeTagsRequest {
    #[serde(rename = "LoadBalancerID")]
    pub load_balancer_id: Option<String>,
    /// At most 5; a key without a value matches every value of the key.
    #[serde(rename = "Tags", skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Default 50, at most 100.
    #[serde(rename = "PageSize")]
    pub page_size: Option<u32>,
    /// From 1, default 1.
    #[serde(rename = "PageNumber")]
    pub page_number: Option<u32>,
}

impl Validate for DescribeTagsRequest {
    fn validate(&self) -> Result<(), ValidationError> {
        check::at_most("Tags", self.tags.len(), MAX_TAGS)?;
        self.tags.iter().try_for_each(Tag::validate)?;
        check::opt_range("PageSize", self.page_size, 1, 100)?;
        check::opt_range("PageNumber", self.page_number, 1, u32::MAX)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagSet {
    #[serde(deserialize_with = "lenient::string")]
    pub tag_key: String,
    pub tag_value: Option<String>,
    /// Number of instances with this tag.
    #[serde(deserialize_with = "lenient::opt_num")]
    pub instance_count: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeTagsResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `TagSets.TagSet[]` on the wire.
    #[serde(deserialize_with = "lenient::list")]
    pub tag_sets: Vec<TagSet>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub page_size: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub page_number: Option<u32>,
    #[serde(deserialize_with = "lenient::opt_num")]
    pub total_count: Option<u32>,
}

action!(DescribeTagsRequest => DescribeTagsResponse, "DescribeTags");
