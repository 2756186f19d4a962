//! The SlbInstance controller: creates (or adopts) a load balancer, keeps it as the spec says, and
//! deletes it (or leaves it, with Orphan) when the object goes away.

mod outcome;
mod plan;

pub use plan::{ADOPTED_BY_TAG, CLUSTER_ID_TAG, OWNER_UID_TAG, client_token, deletion_policy};

use std::sync::Arc;

use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::{Api, ResourceExt};
use slb_api::{
    AddTagsRequest, DeleteLoadBalancerRequest, DescribeLoadBalancerAttributeRequest,
    DescribeLoadBalancerAttributeResponse, DescribeLoadBalancersRequest, DescribeTagsRequest,
    ModifyLoadBalancerInstanceSpecRequest, ModifyLoadBalancerInternetSpecRequest,
    RemoveTagsRequest, SetLoadBalancerNameRequest, SetLoadBalancerStatusRequest, SlbApi, Tag,
    TagSet,
};

use self::outcome::{Applied, Before};
use self::plan::{Change, Identity, Observed, Ownership, Plan, Release};
use super::events;
use super::object::ObjectKey;
use super::references::{INSTANCE_REF, instance_region, referring};
use super::runtime::{conclude, drive, finalized, spec_controller};
use super::status::{Generation, report_status};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::crd::SlbMasterSlaveServerGroup;
use crate::crd::{
    DeletionPolicy, SlbInstance, SlbInstanceSpec, SlbInstanceStatus, SlbListener, SlbVServerGroup,
};
use crate::error::{Error, Result};

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let controller = spec_controller::<SlbInstance>(&ctx);
    drive(controller, reconcile, ctx, shutdown).await;
}

/// Reconciles one SlbInstance: the finalizer decides between keeping it in sync and cleaning up.
pub async fn reconcile(instance: Arc<SlbInstance>, ctx: Arc<Context>) -> Result<Action> {
    finalized(instance, &ctx, |event| async {
        match event {
            Finalizer::Apply(instance) => sync(&instance, &ctx).await,
            Finalizer::Cleanup(instance) => cleanup(&instance, &ctx).await,
        }
    })
    .await
}

/// The region of the load balancer (see [`instance_region`]).
pub(super) fn region_of(instance: &SlbInstance, ctx: &Context) -> String {
    instance_region(Some(instance), &ctx.config.default_region)
}

async fn sync(instance: &SlbInstance, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(instance)?;
    let current = instance.status.clone().unwrap_or_default();
    let region = region_of(instance, ctx);
    let slb = ctx.slb.region(&region)?;
    let identity = Identity {
        uid: &key.uid,
        default_name: key.default_slb_name(),
        cluster_id: &ctx.config.cluster_id,
    };
    let spec_changed = current.observed_generation != key.generation;

    // Checked on every pass, as the admin may narrow the namespaces after an adoption.
    if plan::adopts_existing(&instance.spec, instance.status.as_ref())
        && !ctx.config.may_adopt(&key.namespace)
    {
        let what = match &instance.spec.load_balancer_id {
            Some(id) => format!("load balancer {id}"),
            None => "the cloud controller manager's load balancer".to_owned(),
        };
        return Err(Error::NotOwned {
            what: format!(
                "{what} (namespace {} may not adopt or take over load balancers: see --adoption-namespaces)",
                key.namespace
            ),
        });
    }

    let taking_over =
        instance.spec.take_over_from_ccm.is_some() && current.load_balancer_id.is_none();
    // observe: the tags (ownership, and the spec's own) only when they can matter, so that an
    // unchanged object of ours costs one describe per resync. An adopted one's tags are read on
    // every pass: another object's AddTags that lands after this one read its own tag back
    // overwrites it, and only a later read sees that.
    let read_tags = spec_changed || plan::is_adopted(&instance.spec) || taking_over;
    let mut observed = observe(slb.as_ref(), &instance.spec, &current, &identity).await?;
    if read_tags {
        observed.tags = describe_tags(slb.as_ref(), observed.load_balancer.as_ref()).await?;
    }
    let replaced_id = current
        .load_balancer_id
        .as_deref()
        .filter(|_| observed.load_balancer.is_none() && !plan::is_adopted(&instance.spec));

    // plan (no I/O); ownership is checked before any call that changes the load balancer
    let mut plan = plan::plan(&instance.spec, &identity, &observed, replaced_id);
    if observed.tags.is_none() && plan.changes_existing() {
        observed.tags = describe_tags(slb.as_ref(), observed.load_balancer.as_ref()).await?;
        plan = plan::plan(&instance.spec, &identity, &observed, replaced_id);
    }
    match &plan {
        Plan::NotOwned(what) => return Err(Error::NotOwned { what: what.clone() }),
        Plan::Conflict(message) => return Err(Error::AdoptionConflict(message.clone())),
        _ => {}
    }

    // apply. An adoption is recorded only once a later pass has read its tag back: two objects
    // adopting at once both find the load balancer unclaimed and both tag it, and the last AddTags
    // overwrites the other's.
    let tagging_adoption = matches!(&plan, Plan::Adopted(changes) if !changes.is_empty());
    let mut status = if tagging_adoption {
        SlbInstanceStatus {
            load_balancer_id: None,
            ..current.clone()
        }
    } else {
        observed_status(&current, observed.load_balancer.as_ref(), &region)
    };
    // Remembered past the spec: a load balancer taken over stays one this object did not create.
    if taking_over && observed.load_balancer.is_some() && !tagging_adoption {
        status.taken_over_from_ccm = instance.spec.take_over_from_ccm.clone();
    }
    let mut applied = Applied::default();
    let failed = match &plan {
        Plan::Changes(changes) | Plan::Adopted(changes) => {
            let existing = observed.load_balancer.as_ref();
            execute(
                ctx,
                instance,
                slb.as_ref(),
                &mut status,
                existing,
                changes,
                &mut applied,
            )
            .await
            .err()
        }
        Plan::AdoptedMissing { .. }
        | Plan::CcmLoadBalancerMissing { .. }
        | Plan::NotOwned(_)
        | Plan::Conflict(_) => None,
    };

    // outcome (no I/O), then status
    let before = Before {
        region: &region,
        spec_changed,
        existing_id: observed
            .load_balancer
            .as_ref()
            .map(|lb| lb.load_balancer_id.as_str()),
        replaced_id,
        recorded: current.load_balancer_id.is_some(),
        adopted_delete_refused: deletion_policy(&instance.spec) == DeletionPolicy::Delete
            && plan::release(
                &instance.spec,
                Some(&status),
                ctx.config.allow_deleting_adopted,
            ) != Release::Delete,
        taking_over,
    };
    let outcome = outcome::outcome(&plan, &before, &applied, failed.is_some());
    conclude(ctx, instance, status, outcome, failed).await
}

/// Finds the load balancer: by the adopted or recorded ID, else (after a crash between the create
/// and the status write, or a deletion outside) by the owner tag.
async fn observe(
    slb: &dyn SlbApi,
    spec: &SlbInstanceSpec,
    current: &SlbInstanceStatus,
    identity: &Identity<'_>,
) -> Result<Observed> {
    let known_id = spec
        .load_balancer_id
        .as_ref()
        .or(current.load_balancer_id.as_ref());
    let mut load_balancer = match known_id {
        Some(id) => describe(slb, id).await?,
        None => None,
    };
    if load_balancer.is_none() && !plan::is_adopted(spec) {
        load_balancer = match find_owned(slb, identity).await? {
            Some(id) => describe(slb, &id).await?,
            None => None,
        };
    }
    if let Some(ccm_name) = spec.take_over_from_ccm.as_deref()
        && load_balancer.is_none()
        && current.load_balancer_id.is_none()
    {
        load_balancer = match find_by_ccm_name(slb, ccm_name).await? {
            Some(id) => describe(slb, &id).await?,
            None => None,
        };
    }
    let pending_create = match &current.pending_create {
        Some(_) if load_balancer.is_some() => None,
        Some(recorded) => match serde_json::from_str(recorded) {
            Ok(request) => Some(request),
            Err(error) => {
                // Only a hand-edited status gets here; the spec is the best guess left.
                tracing::warn!(%error, "status.pendingCreate is not a CreateLoadBalancer request; creating from the spec");
                None
            }
        },
        None => None,
    };
    Ok(Observed {
        load_balancer,
        tags: None,
        pending_create,
    })
}

/// The tags of `load_balancer`, if there is one.
async fn describe_tags(
    slb: &dyn SlbApi,
    load_balancer: Option<&DescribeLoadBalancerAttributeResponse>,
) -> Result<Option<Vec<TagSet>>> {
    match load_balancer {
        Some(lb) => Ok(Some(tags_of(slb, &lb.load_balancer_id).await?)),
        None => Ok(None),
    }
}

/// The tags SLB holds for the load balancer `id`.
async fn tags_of(slb: &dyn SlbApi, id: &str) -> std::result::Result<Vec<TagSet>, slb_api::Error> {
    let request = DescribeTagsRequest {
        load_balancer_id: Some(id.to_owned()),
        tags: Vec::new(),
        page_size: Some(100),
        page_number: None,
    };
    Ok(slb.describe_tags(&request).await?.tag_sets)
}

async fn describe(
    slb: &dyn SlbApi,
    id: &str,
) -> Result<Option<DescribeLoadBalancerAttributeResponse>> {
    let request = DescribeLoadBalancerAttributeRequest {
        load_balancer_id: id.to_owned(),
        ..Default::default()
    };
    match slb.describe_load_balancer_attribute(&request).await {
        Ok(attribute) => Ok(Some(attribute)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The load balancer tagged with the object's uid and this cluster's id, if any.
async fn find_owned(slb: &dyn SlbApi, identity: &Identity<'_>) -> Result<Option<String>> {
    let request = DescribeLoadBalancersRequest {
        tags: vec![
            Tag::new(OWNER_UID_TAG, identity.uid),
            Tag::new(CLUSTER_ID_TAG, identity.cluster_id),
        ],
        ..Default::default()
    };
    let found = slb.describe_load_balancers(&request).await?;
    Ok(found
        .load_balancers
        .into_iter()
        .next()
        .map(|lb| lb.load_balancer_id))
}

/// The load balancer the cloud controller manager created under `ccm_name`. The controller manager
/// refuses to go on when several carry its name, and so does this.
async fn find_by_ccm_name(slb: &dyn SlbApi, ccm_name: &str) -> Result<Option<String>> {
    let request = DescribeLoadBalancersRequest {
        tags: vec![Tag::new(plan::CCM_NAME_TAG, ccm_name)],
        ..Default::default()
    };
    let mut found = slb.describe_load_balancers(&request).await?.load_balancers;
    if found.len() > 1 {
        let ids: Vec<String> = found.into_iter().map(|lb| lb.load_balancer_id).collect();
        return Err(Error::NotOwned {
            what: format!(
                "the load balancers {} (all tagged {}={ccm_name}: take over one by hand)",
                ids.join(", "),
                plan::CCM_NAME_TAG
            ),
        });
    }
    Ok(found.pop().map(|lb| lb.load_balancer_id))
}

/// Makes the planned calls, recording the ID in the status right after a create, and in `applied`.
async fn execute(
    ctx: &Context,
    instance: &SlbInstance,
    slb: &dyn SlbApi,
    status: &mut SlbInstanceStatus,
    existing: Option<&DescribeLoadBalancerAttributeResponse>,
    changes: &[Change],
    applied: &mut Applied,
) -> Result<()> {
    let mut id = existing
        .map(|lb| lb.load_balancer_id.clone())
        .unwrap_or_default();
    for change in changes {
        match change.clone() {
            Change::Create(request) => {
                // Recorded first, so that a crash before the ID reaches the status repeats this
                // very call rather than one built from a spec that may change meanwhile.
                let recorded = serde_json::to_string(&request)?;
                if status.pending_create.as_ref() != Some(&recorded) {
                    status.pending_create = Some(recorded);
                    let creating = DesiredCondition::ready(false, Reason::Progressing, "creating");
                    report_status(
                        ctx,
                        instance,
                        status.clone(),
                        [creating],
                        Generation::Pending,
                    )
                    .await?;
                }
                let created = slb.create_load_balancer(&request).await?;
                status.pending_create = None;
                id = created.load_balancer_id.clone();
                applied.created_id = Some(id.clone());
                status.load_balancer_id = Some(created.load_balancer_id);
                // Made by this object: whatever was taken over before is gone.
                status.taken_over_from_ccm = None;
                status.address = Some(created.address).filter(|a| !a.is_empty());
                status.vpc_id = created.vpc_id;
                status.network_type = created.network_type.map(|n| n.as_str().to_owned());
                // Recorded before anything else, so that a crash from here on never leads to a second
                // load balancer. observedGeneration stays, so the next reconcile still checks the tags.
                let created =
                    DesiredCondition::ready(false, Reason::Progressing, format!("created {id}"));
                report_status(
                    ctx,
                    instance,
                    status.clone(),
                    [created],
                    Generation::Pending,
                )
                .await?;
            }
            Change::SetName(name) => {
                slb.set_load_balancer_name(&SetLoadBalancerNameRequest {
                    load_balancer_id: id.clone(),
                    load_balancer_name: name,
                })
                .await?;
            }
            Change::SetStatus(load_balancer_status) => {
                slb.set_load_balancer_status(&SetLoadBalancerStatusRequest {
                    load_balancer_id: id.clone(),
                    load_balancer_status,
                })
                .await?;
            }
            Change::ModifyInternetSpec {
                charge_type,
                bandwidth,
            } => {
                slb.modify_load_balancer_internet_spec(&ModifyLoadBalancerInternetSpecRequest {
                    load_balancer_id: id.clone(),
                    internet_charge_type: Some(charge_type),
                    bandwidth,
                })
                .await?;
            }
            Change::ModifyInstanceSpec(load_balancer_spec) => {
                slb.modify_load_balancer_instance_spec(&ModifyLoadBalancerInstanceSpecRequest {
                    load_balancer_id: id.clone(),
                    load_balancer_spec: Some(load_balancer_spec),
                })
                .await?;
            }
            Change::AddTags(tags) => {
                slb.add_tags(&AddTagsRequest {
                    load_balancer_id: id.clone(),
                    tags,
                })
                .await?;
            }
            Change::RemoveTags(tags) => {
                slb.remove_tags(&RemoveTagsRequest {
                    load_balancer_id: id.clone(),
                    tags,
                })
                .await?;
            }
        }
    }
    Ok(())
}

/// The status fields SLB reports, on top of what the object already records.
fn observed_status(
    current: &SlbInstanceStatus,
    load_balancer: Option<&DescribeLoadBalancerAttributeResponse>,
    region: &str,
) -> SlbInstanceStatus {
    let mut status = current.clone();
    status.region_id = Some(region.to_owned());
    if let Some(lb) = load_balancer {
        status.load_balancer_id = Some(lb.load_balancer_id.clone());
        status.address = Some(lb.address.clone()).filter(|a| !a.is_empty());
        status.network_type = lb.network_type.map(|n| n.as_str().to_owned());
        status.vpc_id = lb.vpc_id.clone().filter(|v| !v.is_empty());
        status.load_balancer_status = lb.load_balancer_status.map(|s| s.as_str().to_owned());
        status.pending_create = None;
    }
    status
}

/// Deletes the load balancer (unless the policy is Orphan) once no listener or group still uses it.
async fn cleanup(instance: &SlbInstance, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(instance)?;
    let status = instance.status.clone().unwrap_or_default();
    let identity = Identity {
        uid: &key.uid,
        default_name: key.default_slb_name(),
        cluster_id: &ctx.config.cluster_id,
    };
    let known_id = instance
        .spec
        .load_balancer_id
        .clone()
        .or(status.load_balancer_id.clone());
    let slb = ctx.slb.region(&region_of(instance, ctx))?;
    let release = plan::release(
        &instance.spec,
        Some(&status),
        ctx.config.allow_deleting_adopted,
    );
    if release == Release::Delete {
        let dependents = dependents(ctx, &key).await?;
        if !dependents.is_empty() {
            return Err(Error::DependentsExist(dependents.join(", ")));
        }
    }
    let id = match known_id {
        Some(id) => Some(id),
        // A crash between create and status write leaves only the owner tag to find it by. Not found
        // (even the region) means there is nothing to delete.
        None if release == Release::Delete && !plan::is_adopted(&instance.spec) => {
            match find_owned(slb.as_ref(), &identity).await {
                Ok(found) => found,
                Err(Error::Slb(error)) if error.is_not_found() => None,
                Err(error) => return Err(error),
            }
        }
        None => None,
    };
    let Some(id) = id else {
        return Ok(Action::await_change());
    };
    if let Release::Orphan { untag } = release {
        if untag && let Err(error) = untag_adopted(slb.as_ref(), &id, &identity).await {
            let error = Error::from(error);
            let message = format!(
                "Left load balancer {id} in place, but could not remove its adoption tag {}: {}",
                plan::ADOPTED_BY_TAG,
                error.chain()
            );
            events::warning(ctx, instance, error.category(), message).await;
            return Ok(Action::await_change());
        }
        let message = format!("Left load balancer {id} in place");
        events::normal(ctx, instance, "Orphaned", message).await;
        return Ok(Action::await_change());
    }
    // Ownership is checked on SLB's own tags right before anything is changed.
    let tags = match tags_of(slb.as_ref(), &id).await {
        Ok(tags) => tags,
        Err(error) if error.is_not_found() => return Ok(Action::await_change()),
        Err(error) => return Err(error.into()),
    };
    if let Some(why) = plan::refusal(&instance.spec, &plan::ownership(&tags, &identity)) {
        let message =
            format!("Left load balancer {id} in place: this object does not own it ({why})");
        events::warning(ctx, instance, "NotOwned", message).await;
        return Ok(Action::await_change());
    }
    let request = DeleteLoadBalancerRequest {
        load_balancer_id: id.clone(),
    };
    match slb.delete_load_balancer(&request).await {
        Ok(_) => {
            let message = format!("Deleted load balancer {id}");
            events::normal(ctx, instance, "Deleted", message).await;
        }
        Err(error) if error.is_not_found() => {}
        Err(error) => return Err(error.into()),
    }
    Ok(Action::await_change())
}

/// Removes this object's adoption tags from the load balancer `id`, if they are there (another
/// object may hold it: then it keeps that one's).
async fn untag_adopted(
    slb: &dyn SlbApi,
    id: &str,
    identity: &Identity<'_>,
) -> std::result::Result<(), slb_api::Error> {
    let tags = match tags_of(slb, id).await {
        Ok(tags) => tags,
        Err(error) if error.is_not_found() => return Ok(()),
        Err(error) => return Err(error),
    };
    if plan::ownership(&tags, identity) != Ownership::AdoptedByUs {
        return Ok(());
    }
    let request = RemoveTagsRequest {
        load_balancer_id: id.to_owned(),
        tags: plan::adoption_tags(identity),
    };
    match slb.remove_tags(&request).await {
        Err(error) if !error.is_not_found() => Err(error),
        _ => Ok(()),
    }
}

/// The listeners and groups in the namespace that still point at this instance.
async fn dependents(ctx: &Context, key: &ObjectKey) -> Result<Vec<String>> {
    let params = referring(INSTANCE_REF, &key.name);
    let mut found = Vec::new();
    let listeners: Api<SlbListener> = Api::namespaced(ctx.client.clone(), &key.namespace);
    for listener in listeners.list(&params).await? {
        found.push(format!("SlbListener {}", listener.name_any()));
    }
    let groups: Api<SlbVServerGroup> = Api::namespaced(ctx.client.clone(), &key.namespace);
    for group in groups.list(&params).await? {
        found.push(format!("SlbVServerGroup {}", group.name_any()));
    }
    let groups: Api<SlbMasterSlaveServerGroup> =
        Api::namespaced(ctx.client.clone(), &key.namespace);
    for group in groups.list(&params).await? {
        found.push(format!("SlbMasterSlaveServerGroup {}", group.name_any()));
    }
    Ok(found)
}
