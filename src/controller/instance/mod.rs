//! The SlbInstance controller: creates (or adopts) a load balancer, keeps it as the spec says, and
//! deletes it (or leaves it, with Orphan) when the object goes away.

mod plan;

pub use plan::{CLUSTER_ID_TAG, OWNER_UID_TAG, client_token, deletion_policy};

use std::sync::Arc;
use std::time::Duration;

use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::{Api, ResourceExt};
use slb_api::{
    AddTagsRequest, DeleteLoadBalancerRequest, DescribeLoadBalancerAttributeRequest,
    DescribeLoadBalancerAttributeResponse, DescribeLoadBalancersRequest, DescribeTagsRequest,
    ModifyLoadBalancerInstanceSpecRequest, ModifyLoadBalancerInternetSpecRequest,
    RemoveTagsRequest, SetLoadBalancerNameRequest, SetLoadBalancerStatusRequest, SlbApi, Tag,
};

use self::plan::{Change, Identity, Observed, Plan};
use super::{
    ObjectKey, drive, finalized, publish_normal, resync, spec_controller, write_outcome,
    write_ready,
};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::crd::SlbMasterSlaveServerGroup;
use crate::crd::{
    DeletionPolicy, SlbInstance, SlbInstanceSpec, SlbInstanceStatus, SlbListener, SlbVServerGroup,
};
use crate::error::{Error, Result};

/// How soon to look again after changing SLB, to report the result.
const SETTLE_DELAY: Duration = Duration::from_secs(2);

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
            Finalizer::Apply(instance) => match sync(&instance, &ctx).await {
                Ok(action) => Ok(action),
                Err(error) => {
                    report_failure(&instance, &ctx, &error).await;
                    Err(error)
                }
            },
            Finalizer::Cleanup(instance) => cleanup(&instance, &ctx).await,
        }
    })
    .await
}

/// Shows a failed reconcile in the Ready condition, so `kubectl get` says why the object is not ready.
/// Best effort: the error itself still goes to the error policy (log, metric, Warning event, retry).
async fn report_failure(instance: &SlbInstance, ctx: &Context, error: &Error) {
    let status = instance.status.clone().unwrap_or_default();
    let ready = DesiredCondition::ready(false, Reason::ReconcileError, error.chain());
    if let Err(status_error) = write_ready(ctx, instance, status, ready).await {
        tracing::debug!(error = %status_error.chain(), "could not report the failure in the status");
    }
}

/// The region of the load balancer: the spec's, else the one recorded at creation, else the default.
pub(super) fn region_of(instance: &SlbInstance, ctx: &Context) -> String {
    instance
        .spec
        .region_id
        .clone()
        .or_else(|| instance.status.as_ref().and_then(|s| s.region_id.clone()))
        .unwrap_or_else(|| ctx.config.default_region.clone())
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

    // observe
    let observed = observe(
        slb.as_ref(),
        &instance.spec,
        &current,
        &key.uid,
        spec_changed,
    )
    .await?;
    let replaced_id = current
        .load_balancer_id
        .as_deref()
        .filter(|_| observed.load_balancer.is_none() && !plan::is_adopted(&instance.spec));

    // plan (no I/O)
    let plan = plan::plan(&instance.spec, &identity, &observed, replaced_id);

    // apply, then status
    let mut status = observed_status(&current, observed.load_balancer.as_ref(), &region);
    let (ready, action) = match plan {
        Plan::AdoptedMissing { load_balancer_id } => (
            DesiredCondition::ready(
                false,
                Reason::RemoteNotFound,
                format!("the adopted load balancer {load_balancer_id} does not exist in {region}"),
            ),
            resync(ctx.config.resync_period),
        ),
        Plan::Adopted => {
            if current.load_balancer_id.is_none() {
                let id = status.load_balancer_id.clone().unwrap_or_default();
                publish_normal(
                    ctx,
                    instance,
                    "Adopted",
                    format!("Adopted load balancer {id}"),
                )
                .await?;
            }
            (
                DesiredCondition::ready(
                    true,
                    Reason::Available,
                    "the adopted load balancer exists",
                ),
                resync(ctx.config.resync_period),
            )
        }
        Plan::Changes(changes) if changes.is_empty() => (
            DesiredCondition::ready(
                true,
                Reason::Available,
                "the load balancer matches the spec",
            ),
            resync(ctx.config.resync_period),
        ),
        Plan::Changes(changes) => {
            let drift = !spec_changed && observed.load_balancer.is_some();
            let summary = describe_changes(&changes);
            let id = execute(
                ctx,
                instance,
                slb.as_ref(),
                &region,
                &mut status,
                observed.load_balancer.as_ref(),
                changes,
            )
            .await?;
            if drift {
                publish_normal(
                    ctx,
                    instance,
                    "DriftRestored",
                    format!("Restored {id} after changes made outside: {summary}"),
                )
                .await?;
            } else if observed.load_balancer.is_some() {
                publish_normal(ctx, instance, "Updated", format!("Updated {id}: {summary}"))
                    .await?;
            } else if let Some(replaced) = replaced_id {
                publish_normal(
                    ctx,
                    instance,
                    "DriftRestored",
                    format!("Load balancer {replaced} was deleted outside the operator; created {id} in its place"),
                )
                .await?;
            }
            (
                DesiredCondition::ready(false, Reason::Progressing, format!("applied: {summary}")),
                Action::requeue(SETTLE_DELAY),
            )
        }
    };
    write_outcome(ctx, instance, status, ready).await?;
    Ok(action)
}

/// Finds the load balancer: by the adopted or recorded ID, else (after a crash between the create
/// and the status write, or a deletion outside) by the owner tag.
async fn observe(
    slb: &dyn SlbApi,
    spec: &SlbInstanceSpec,
    current: &SlbInstanceStatus,
    uid: &str,
    read_tags: bool,
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
        load_balancer = match find_owned(slb, uid).await? {
            Some(id) => describe(slb, &id).await?,
            None => None,
        };
    }
    let tags = match &load_balancer {
        Some(lb) if read_tags && !plan::is_adopted(spec) => Some(
            slb.describe_tags(&DescribeTagsRequest {
                load_balancer_id: Some(lb.load_balancer_id.clone()),
                tags: Vec::new(),
                page_size: Some(100),
                page_number: None,
            })
            .await?
            .tag_sets,
        ),
        _ => None,
    };
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
        tags,
        pending_create,
    })
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

/// The load balancer tagged with the object's uid, if any.
async fn find_owned(slb: &dyn SlbApi, uid: &str) -> Result<Option<String>> {
    let request = DescribeLoadBalancersRequest {
        tags: vec![Tag::new(OWNER_UID_TAG, uid)],
        ..Default::default()
    };
    let found = slb.describe_load_balancers(&request).await?;
    Ok(found
        .load_balancers
        .into_iter()
        .next()
        .map(|lb| lb.load_balancer_id))
}

/// Makes the planned calls, recording the ID in the status right after a create. Returns the ID.
async fn execute(
    ctx: &Context,
    instance: &SlbInstance,
    slb: &dyn SlbApi,
    region: &str,
    status: &mut SlbInstanceStatus,
    existing: Option<&DescribeLoadBalancerAttributeResponse>,
    changes: Vec<Change>,
) -> Result<String> {
    let mut id = existing
        .map(|lb| lb.load_balancer_id.clone())
        .unwrap_or_default();
    for change in changes {
        match change {
            Change::Create(request) => {
                // Recorded first, so that a crash before the ID reaches the status repeats this
                // very call rather than one built from a spec that may change meanwhile.
                let recorded = serde_json::to_string(&request)?;
                if status.pending_create.as_ref() != Some(&recorded) {
                    status.pending_create = Some(recorded);
                    let creating = DesiredCondition::ready(false, Reason::Progressing, "creating");
                    write_ready(ctx, instance, status.clone(), creating).await?;
                }
                let created = slb.create_load_balancer(&request).await?;
                status.pending_create = None;
                id = created.load_balancer_id.clone();
                status.load_balancer_id = Some(created.load_balancer_id);
                status.region_id = Some(region.to_owned());
                status.address = Some(created.address).filter(|a| !a.is_empty());
                status.vpc_id = created.vpc_id;
                status.network_type = created.network_type.map(|n| n.as_str().to_owned());
                // Recorded before anything else, so that a crash from here on never leads to a second
                // load balancer. observedGeneration stays, so the next reconcile still checks the tags.
                let created =
                    DesiredCondition::ready(false, Reason::Progressing, format!("created {id}"));
                write_ready(ctx, instance, status.clone(), created).await?;
                publish_normal(
                    ctx,
                    instance,
                    "Created",
                    format!("Created load balancer {id} in {region}"),
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
    Ok(id)
}

/// A short, human-readable list of the planned calls, for Events and conditions.
fn describe_changes(changes: &[Change]) -> String {
    let mut names: Vec<&str> = changes
        .iter()
        .map(|change| match change {
            Change::Create(_) => "create",
            Change::SetName(_) => "name",
            Change::SetStatus(_) => "status",
            Change::ModifyInternetSpec { .. } => "billing and bandwidth",
            Change::ModifyInstanceSpec(_) => "instance spec",
            Change::AddTags(_) | Change::RemoveTags(_) => "tags",
        })
        .collect();
    names.dedup();
    names.join(", ")
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
    let known_id = instance
        .spec
        .load_balancer_id
        .clone()
        .or(status.load_balancer_id.clone());
    if deletion_policy(&instance.spec) == DeletionPolicy::Orphan {
        if let Some(id) = known_id {
            publish_normal(
                ctx,
                instance,
                "Orphaned",
                format!("Left load balancer {id} in place"),
            )
            .await?;
        }
        return Ok(Action::await_change());
    }
    let dependents = dependents(ctx, &key).await?;
    if !dependents.is_empty() {
        return Err(Error::DependentsExist(dependents.join(", ")));
    }
    let slb = ctx.slb.region(&region_of(instance, ctx))?;
    let id = match known_id {
        Some(id) => Some(id),
        // A crash between create and status write leaves only the owner tag to find it by. Not found
        // (even the region) means there is nothing to delete.
        None if !plan::is_adopted(&instance.spec) => match find_owned(slb.as_ref(), &key.uid).await
        {
            Ok(found) => found,
            Err(Error::Slb(error)) if error.is_not_found() => None,
            Err(error) => return Err(error),
        },
        None => None,
    };
    if let Some(id) = id {
        match slb
            .delete_load_balancer(&DeleteLoadBalancerRequest {
                load_balancer_id: id.clone(),
            })
            .await
        {
            Ok(_) => {
                publish_normal(
                    ctx,
                    instance,
                    "Deleted",
                    format!("Deleted load balancer {id}"),
                )
                .await?
            }
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Action::await_change())
}

/// The listeners and groups in the namespace that still point at this instance.
async fn dependents(ctx: &Context, key: &ObjectKey) -> Result<Vec<String>> {
    let params = ListParams::default();
    let mut found = Vec::new();
    let listeners: Api<SlbListener> = Api::namespaced(ctx.client.clone(), &key.namespace);
    for listener in listeners.list(&params).await? {
        if listener.spec.instance_ref.name == key.name {
            found.push(format!("SlbListener {}", listener.name_any()));
        }
    }
    let groups: Api<SlbVServerGroup> = Api::namespaced(ctx.client.clone(), &key.namespace);
    for group in groups.list(&params).await? {
        if group.spec.instance_ref.name == key.name {
            found.push(format!("SlbVServerGroup {}", group.name_any()));
        }
    }
    let groups: Api<SlbMasterSlaveServerGroup> =
        Api::namespaced(ctx.client.clone(), &key.namespace);
    for group in groups.list(&params).await? {
        if group.spec.instance_ref.name == key.name {
            found.push(format!("SlbMasterSlaveServerGroup {}", group.name_any()));
        }
    }
    Ok(found)
}
