//! The pure part of the SlbInstance reconcile: what to call, given the spec and what SLB reports.

use std::collections::BTreeMap;

use slb_api::{
    CreateLoadBalancerRequest, DescribeLoadBalancerAttributeResponse, LoadBalancerStatus, Tag,
    TagSet,
};

use crate::crd::{
    AddressType, DeletionPolicy, InstanceState, InternetChargeType, LoadBalancerSpec,
    SlbInstanceSpec, SlbInstanceStatus,
};

/// Tag key holding the uid of the SlbInstance that created the load balancer.
pub const OWNER_UID_TAG: &str = "slb.operator.dev/owner-uid";
/// Tag key holding the `--cluster-id` of the operator that created the load balancer.
pub const CLUSTER_ID_TAG: &str = "slb.operator.dev/cluster-id";
/// Tag key holding the uid of the SlbInstance that adopted a load balancer it did not create.
pub const ADOPTED_BY_TAG: &str = "slb.operator.dev/adopted-by-uid";
/// Tag keys the Alibaba Cloud controller manager puts on the load balancers it creates.
pub const CCM_TAGS: [&str; 2] = [CCM_NAME_TAG, "ack.aliyun.com"];
/// The controller manager's tag holding its name of the load balancer (`a` and the Service's uid).
pub const CCM_NAME_TAG: &str = "kubernetes.do.not.delete";
/// The API binds at most this many tags per call.
pub const TAGS_PER_CALL: usize = 5;

/// Who the object is and where its load balancer lives.
#[derive(Clone, Debug)]
pub struct Identity<'a> {
    pub uid: &'a str,
    pub default_name: String,
    pub cluster_id: &'a str,
}

/// What SLB reported for the object.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The load balancer, if one was found (by ID, or by the owner tag).
    pub load_balancer: Option<DescribeLoadBalancerAttributeResponse>,
    /// Its tags, read only when the spec changed (so the steady state makes one describe call).
    pub tags: Option<Vec<TagSet>>,
    /// The create recorded in the status before a crash: sent again as it was, because the same
    /// ClientToken with other parameters is refused (IdempotentParameterMismatch).
    pub pending_create: Option<CreateLoadBalancerRequest>,
}

/// A call that brings SLB closer to the spec.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Create(Box<CreateLoadBalancerRequest>),
    SetName(String),
    SetStatus(LoadBalancerStatus),
    ModifyInternetSpec {
        charge_type: slb_api::InternetChargeType,
        bandwidth: Option<u32>,
    },
    ModifyInstanceSpec(slb_api::LoadBalancerSpec),
    /// At most [`TAGS_PER_CALL`] tags each.
    AddTags(Vec<Tag>),
    /// Tags the spec does not declare (any longer); at most [`TAGS_PER_CALL`] each.
    RemoveTags(Vec<Tag>),
}

/// The outcome of planning.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// The adopted load balancer does not exist; nothing is created in its place.
    AdoptedMissing { load_balancer_id: String },
    /// No load balancer of the cloud controller manager carries the name to take over; nothing is
    /// created in its place.
    CcmLoadBalancerMissing { ccm_name: String },
    /// An adopted load balancer exists; it is never changed, only tagged as adopted (the calls).
    Adopted(Vec<Change>),
    /// The load balancer is not this object's: nothing is called. The text names it and says why.
    NotOwned(String),
    /// Another object adopted the load balancer first.
    Conflict(String),
    /// Calls to make, in order; none when SLB matches the spec.
    Changes(Vec<Change>),
}

/// Whose a load balancer is, by its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Created for this object by this cluster's operator.
    Ours,
    /// Adopted by this object, in this cluster.
    AdoptedByUs,
    /// Nobody's we know of: an object may adopt it.
    Unclaimed,
    /// Adopted by another object of this cluster.
    AdoptedByOther(String),
    /// Created or adopted by something else; the text says what.
    Foreign(String),
}

/// Reads the ownership tags of a load balancer.
pub fn ownership(tags: &[TagSet], identity: &Identity<'_>) -> Ownership {
    let value = |key: &str| {
        tags.iter()
            .find(|tag| tag.tag_key == key)
            .map(|tag| tag.tag_value.clone().unwrap_or_default())
    };
    let cluster = value(CLUSTER_ID_TAG);
    if let Some(cluster) = cluster.as_ref().filter(|c| *c != identity.cluster_id) {
        return Ownership::Foreign(format!(
            "it belongs to the slb-operator of cluster {cluster:?}"
        ));
    }
    if let Some(owner) = value(OWNER_UID_TAG) {
        return if owner == identity.uid && cluster.is_some() {
            Ownership::Ours
        } else {
            Ownership::Foreign(format!("it was created for the object with uid {owner}"))
        };
    }
    if let Some(adopter) = value(ADOPTED_BY_TAG) {
        return if adopter == identity.uid {
            Ownership::AdoptedByUs
        } else {
            Ownership::AdoptedByOther(adopter)
        };
    }
    if let Some(key) = CCM_TAGS.iter().find(|key| value(key).is_some()) {
        return Ownership::Foreign(format!(
            "the Alibaba Cloud controller manager manages it (tag {key})"
        ));
    }
    Ownership::Unclaimed
}

/// The tags that mark a load balancer as adopted by this object.
pub fn adoption_tags(identity: &Identity<'_>) -> Vec<Tag> {
    vec![
        Tag::new(ADOPTED_BY_TAG, identity.uid),
        Tag::new(CLUSTER_ID_TAG, identity.cluster_id),
    ]
}

impl Plan {
    /// Whether the plan changes a load balancer that exists: its ownership must be checked first.
    pub fn changes_existing(&self) -> bool {
        match self {
            Plan::Changes(changes) => changes
                .first()
                .is_some_and(|change| !matches!(change, Change::Create(_))),
            Plan::Adopted(changes) => !changes.is_empty(),
            Plan::AdoptedMissing { .. }
            | Plan::CcmLoadBalancerMissing { .. }
            | Plan::NotOwned(_)
            | Plan::Conflict(_) => false,
        }
    }
}

/// What the cleanup does with the load balancer, decided before anything is read from SLB, so that
/// an object let go never waits on SLB answering (wrong credentials, a permission the AccessKey lacks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Delete it, unless its tags say it is not this object's to delete ([`refusal`]).
    Delete,
    /// Leave it in place. `untag`: it was adopted by ID, so the adoption tags, when this object's,
    /// come off on a best-effort basis.
    Orphan { untag: bool },
}

/// What the cleanup does, given the policy in effect and whether the operator may delete load
/// balancers it did not create.
pub fn release(
    spec: &SlbInstanceSpec,
    status: Option<&SlbInstanceStatus>,
    allow_deleting_adopted: bool,
) -> Release {
    if deletion_policy(spec) == DeletionPolicy::Orphan
        || (adopts_existing(spec, status) && !allow_deleting_adopted)
    {
        return Release::Orphan {
            untag: is_adopted(spec),
        };
    }
    Release::Delete
}

/// Why the load balancer must not be deleted after all, given whose its tags say it is; `None`
/// when it may be.
pub fn refusal(spec: &SlbInstanceSpec, ownership: &Ownership) -> Option<String> {
    let adopted = is_adopted(spec);
    match ownership {
        Ownership::AdoptedByUs if adopted => None,
        // Unclaimed: recorded at creation, with a crash before its tags.
        Ownership::Ours | Ownership::Unclaimed if !adopted => None,
        Ownership::Unclaimed => Some("it was never tagged as adopted".to_owned()),
        Ownership::AdoptedByOther(uid) => Some(format!("another object (uid {uid}) adopted it")),
        Ownership::Foreign(why) => Some(why.clone()),
        Ownership::Ours | Ownership::AdoptedByUs => {
            Some("its tags do not match how this object holds it".to_owned())
        }
    }
}

/// Whether the spec adopts an existing load balancer by its ID, to use it as it is.
pub fn is_adopted(spec: &SlbInstanceSpec) -> bool {
    spec.load_balancer_id.is_some()
}

/// Whether the object holds a load balancer that it did not create: adopted by ID, or taken over
/// from the cloud controller manager (as the spec says, or the status recorded). Either is the
/// cluster admin's to allow: only in the namespaces of `--adoption-namespaces`, and deleted only
/// with `--allow-deleting-adopted`.
pub fn adopts_existing(spec: &SlbInstanceSpec, status: Option<&SlbInstanceStatus>) -> bool {
    is_adopted(spec)
        || spec.take_over_from_ccm.is_some()
        || status.is_some_and(|status| status.taken_over_from_ccm.is_some())
}

/// The deletion policy in effect: as set, else Orphan for adopted and Delete for created load balancers.
pub fn deletion_policy(spec: &SlbInstanceSpec) -> DeletionPolicy {
    spec.deletion_policy.unwrap_or(if is_adopted(spec) {
        DeletionPolicy::Orphan
    } else {
        DeletionPolicy::Delete
    })
}

/// The idempotency token of CreateLoadBalancer: the uid, so a retry after a crash returns the same
/// load balancer. When a previous load balancer was deleted outside the operator, its ID is appended,
/// so the replacement gets a token of its own.
pub fn client_token(uid: &str, replaced_id: Option<&str>) -> String {
    let mut token = match replaced_id {
        Some(id) => format!("{uid}.{id}"),
        None => uid.to_owned(),
    };
    token.retain(|c| c.is_ascii_alphanumeric() || "-/._".contains(c));
    token.truncate(64);
    token
}

/// The tags the load balancer must carry: the ownership tags and the spec's.
pub fn desired_tags(spec: &SlbInstanceSpec, identity: &Identity<'_>) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> = spec.tags.clone().unwrap_or_default();
    tags.insert(OWNER_UID_TAG.to_owned(), identity.uid.to_owned());
    tags.insert(CLUSTER_ID_TAG.to_owned(), identity.cluster_id.to_owned());
    tags
}

/// Plans the calls for a created (not adopted) load balancer, or reports on an adopted one.
/// `replaced_id` is the ID in the status when that load balancer no longer exists.
pub fn plan(
    spec: &SlbInstanceSpec,
    identity: &Identity<'_>,
    observed: &Observed,
    replaced_id: Option<&str>,
) -> Plan {
    if let Some(id) = &spec.load_balancer_id {
        if observed.load_balancer.is_none() {
            return Plan::AdoptedMissing {
                load_balancer_id: id.clone(),
            };
        }
        return match observed
            .tags
            .as_deref()
            .map(|tags| ownership(tags, identity))
        {
            // Every pass reads an adopted load balancer's tags; without them there is nothing to check.
            None | Some(Ownership::AdoptedByUs) => Plan::Adopted(Vec::new()),
            Some(Ownership::Unclaimed) => {
                Plan::Adopted(vec![Change::AddTags(adoption_tags(identity))])
            }
            Some(Ownership::AdoptedByOther(uid)) => Plan::Conflict(format!(
                "load balancer {id} is adopted by another object already (uid {uid})"
            )),
            Some(Ownership::Ours) => Plan::NotOwned(format!(
                "load balancer {id} (it was created for this object: remove loadBalancerId to manage it)"
            )),
            Some(Ownership::Foreign(why)) => Plan::NotOwned(format!("load balancer {id} ({why})")),
        };
    }
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| identity.default_name.clone());
    // A take-over creates nothing, unless the taken-over load balancer was deleted afterwards.
    if let Some(ccm_name) = &spec.take_over_from_ccm
        && observed.load_balancer.is_none()
        && replaced_id.is_none()
        && observed.pending_create.is_none()
    {
        return Plan::CcmLoadBalancerMissing {
            ccm_name: ccm_name.clone(),
        };
    }
    let Some(remote) = &observed.load_balancer else {
        let request = match &observed.pending_create {
            Some(pending) => pending.clone(),
            None => create_request(spec, name, identity, replaced_id),
        };
        let mut changes = vec![Change::Create(Box::new(request))];
        if spec.status == Some(InstanceState::Inactive) {
            changes.push(Change::SetStatus(LoadBalancerStatus::Inactive));
        }
        changes.extend(tag_changes(&desired_tags(spec, identity), &[]));
        return Plan::Changes(changes);
    };

    if let Some(tags) = &observed.tags {
        match ownership(tags, identity) {
            // Unclaimed: recorded at creation, and a crash came before its tags; they are added now.
            Ownership::Ours | Ownership::Unclaimed => {}
            // The tag diff below makes it ours: our tags first, then the controller manager's removed.
            Ownership::Foreign(_) if is_ccm_takeover(spec, tags) => {}
            Ownership::AdoptedByUs | Ownership::AdoptedByOther(_) | Ownership::Foreign(_) => {
                return Plan::NotOwned(format!(
                    "load balancer {} (not tagged {OWNER_UID_TAG}={} and {CLUSTER_ID_TAG}={})",
                    remote.load_balancer_id, identity.uid, identity.cluster_id
                ));
            }
        }
    }
    let mut changes = Vec::new();
    if remote.load_balancer_name != name {
        changes.push(Change::SetName(name));
    }
    let desired_status = match spec.status.unwrap_or(InstanceState::Active) {
        InstanceState::Active => LoadBalancerStatus::Active,
        InstanceState::Inactive => LoadBalancerStatus::Inactive,
    };
    // A locked load balancer (overdue, or locked by Alibaba Cloud) cannot be switched.
    if remote.load_balancer_status != Some(LoadBalancerStatus::Locked)
        && remote.load_balancer_status != Some(desired_status)
    {
        changes.push(Change::SetStatus(desired_status));
    }
    if remote.address_type != Some(slb_api::AddressType::Intranet) {
        let charge_type = to_api_charge_type(
            spec.internet_charge_type
                .unwrap_or(InternetChargeType::Paybytraffic),
        );
        let bandwidth = spec.bandwidth.and_then(|b| u32::try_from(b).ok());
        let bandwidth_differs =
            bandwidth.is_some_and(|b| remote.bandwidth != i32::try_from(b).ok());
        if remote.internet_charge_type != Some(charge_type) || bandwidth_differs {
            changes.push(Change::ModifyInternetSpec {
                charge_type,
                bandwidth,
            });
        }
    }
    if let Some(load_balancer_spec) = spec.load_balancer_spec.map(to_api_spec)
        && remote.load_balancer_spec != Some(load_balancer_spec)
    {
        changes.push(Change::ModifyInstanceSpec(load_balancer_spec));
    }
    if let Some(tags) = &observed.tags {
        changes.extend(tag_changes(&desired_tags(spec, identity), tags));
    }
    Plan::Changes(changes)
}

/// Whether `tags` are those of the cloud controller manager's load balancer that `spec` takes over:
/// its name tag, and no tag of ours or of another operator.
pub fn is_ccm_takeover(spec: &SlbInstanceSpec, tags: &[TagSet]) -> bool {
    let Some(ccm_name) = &spec.take_over_from_ccm else {
        return false;
    };
    let ours = [OWNER_UID_TAG, CLUSTER_ID_TAG, ADOPTED_BY_TAG];
    let claimed = tags.iter().any(|tag| ours.contains(&tag.tag_key.as_str()));
    let named = tags
        .iter()
        .any(|tag| tag.tag_key == CCM_NAME_TAG && tag.tag_value.as_deref() == Some(ccm_name));
    named && !claimed
}

fn create_request(
    spec: &SlbInstanceSpec,
    name: String,
    identity: &Identity<'_>,
    replaced_id: Option<&str>,
) -> CreateLoadBalancerRequest {
    let address_type = spec.address_type.unwrap_or(AddressType::Internet);
    let internet = address_type == AddressType::Internet;
    CreateLoadBalancerRequest {
        load_balancer_spec: spec.load_balancer_spec.map(to_api_spec),
        resource_group_id: spec.resource_group_id.clone(),
        load_balancer_name: Some(name),
        address_type: Some(match address_type {
            AddressType::Internet => slb_api::AddressType::Internet,
            AddressType::Intranet => slb_api::AddressType::Intranet,
        }),
        vswitch_id: spec.v_switch_id.clone(),
        internet_charge_type: spec
            .internet_charge_type
            .filter(|_| internet)
            .map(to_api_charge_type),
        bandwidth: spec.bandwidth.and_then(|b| u32::try_from(b).ok()),
        client_token: Some(client_token(identity.uid, replaced_id)),
        master_zone_id: spec.master_zone_id.clone(),
        slave_zone_id: spec.slave_zone_id.clone(),
    }
}

/// AddTags calls for the desired tags that are missing or have another value, and RemoveTags calls
/// for the tags the spec does not declare: the load balancer is ours, so its tags are the spec's.
fn tag_changes(desired: &BTreeMap<String, String>, remote: &[TagSet]) -> Vec<Change> {
    let undeclared: Vec<Tag> = remote
        .iter()
        .filter(|tag| !desired.contains_key(&tag.tag_key) && !is_system_tag(&tag.tag_key))
        .map(|tag| Tag {
            tag_key: tag.tag_key.clone(),
            tag_value: tag.tag_value.clone(),
        })
        .collect();
    let mut changes = added_tags(desired, remote);
    changes.extend(
        undeclared
            .chunks(TAGS_PER_CALL)
            .map(|chunk| Change::RemoveTags(chunk.to_vec())),
    );
    changes
}

/// Tags the cloud itself manages (`acs:`, `aliyun`), which users cannot set and we never remove.
fn is_system_tag(key: &str) -> bool {
    key.starts_with("acs:") || key.starts_with("aliyun")
}

fn added_tags(desired: &BTreeMap<String, String>, remote: &[TagSet]) -> Vec<Change> {
    let mut missing: Vec<Tag> = desired
        .iter()
        .filter(|(key, value)| {
            !remote
                .iter()
                .any(|tag| &tag.tag_key == *key && tag.tag_value.as_deref() == Some(value.as_str()))
        })
        .map(|(key, value)| Tag::new(key, value))
        .collect();
    // The ownership tags go in the first call, so that a crash between two calls never leaves the
    // load balancer tagged with the cluster but not the owner.
    missing.sort_by_key(|tag| ![OWNER_UID_TAG, CLUSTER_ID_TAG].contains(&tag.tag_key.as_str()));
    missing
        .chunks(TAGS_PER_CALL)
        .map(|chunk| Change::AddTags(chunk.to_vec()))
        .collect()
}

fn to_api_charge_type(charge_type: InternetChargeType) -> slb_api::InternetChargeType {
    match charge_type {
        InternetChargeType::Paybytraffic => slb_api::InternetChargeType::PayByTraffic,
        InternetChargeType::Paybybandwidth => slb_api::InternetChargeType::PayByBandwidth,
    }
}

fn to_api_spec(spec: LoadBalancerSpec) -> slb_api::LoadBalancerSpec {
    match spec {
        LoadBalancerSpec::S1Small => slb_api::LoadBalancerSpec::S1Small,
        LoadBalancerSpec::S2Small => slb_api::LoadBalancerSpec::S2Small,
        LoadBalancerSpec::S2Medium => slb_api::LoadBalancerSpec::S2Medium,
        LoadBalancerSpec::S3Small => slb_api::LoadBalancerSpec::S3Small,
        LoadBalancerSpec::S3Medium => slb_api::LoadBalancerSpec::S3Medium,
        LoadBalancerSpec::S3Large => slb_api::LoadBalancerSpec::S3Large,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
