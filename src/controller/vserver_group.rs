//! The SlbVServerGroup controller: a VServer group on the load balancer of an SlbInstance, holding
//! explicit backends or the nodes behind a Service, changed by diff in calls of at most 20 servers.

mod apply;
mod cleanup;
mod health;
mod known;
mod node_backends;
mod outcome;
mod plan;

pub use self::node_backends::{
    BackendChoice, SERVICE_NAME_LABEL, ServiceBackends, ecs_instance_id, service_backends,
};

pub(crate) use self::cleanup::{CleanupPlacement, cleanup_placement};
pub use plan::{SERVERS_PER_CALL, deletion_policy_in_effect, ensure_placed};

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use slb_api::{DescribeVServerGroupAttributeRequest, DescribeVServerGroupsRequest, SlbApi};

use self::apply::{delete_group, execute};
use self::cleanup::cleanup;
use self::health::health;
pub use self::known::KnownGroups;
use self::known::{Names, Planned, plan_group, write_at_once};
use self::outcome::{Applied, Before};
use self::plan::{Backends, RemoteGroup};
use super::changes;
use super::events;
use super::object::ObjectKey;
use super::readiness_gate;
use super::references::{
    LoadBalancerRef, find_instance, get_referenced, load_balancer_of, matching, referencing,
};
use super::runtime::{conclude, drive, finalized, spec_controller};
use super::scope;
use super::status::{Generation, report_status};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::crd::{SlbInstance, SlbVServerGroup, SlbVServerGroupStatus};
use crate::error::{Error, Result};

/// How long a node that left a Service keeps weight 0 when `serviceRef.drainSeconds` is not set.
const DEFAULT_DRAIN: Duration = Duration::from_secs(30);

/// The error code SLB answers DeleteVServerGroup with while a listener or rule uses the group.
pub(super) const IN_USE_CODE: &str = "ActionNotAllowed";

/// The name a group is created under: derived from the uid, so that it is found again after a crash
/// between the create and the status write, and never confused with a group someone else made.
pub fn creation_name(uid: &str) -> String {
    format!("slb-operator.{uid}")
}

/// Runs the controller until `shutdown` completes. Its Node watch also fills the context's Node
/// store through `node_store`.
pub async fn run(
    ctx: Arc<Context>,
    node_store: Writer<Node>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let controller = spec_controller::<SlbVServerGroup>(&ctx);
    let nodes = watcher(
        Api::<Node>::all(ctx.client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(node_store);
    let nodes = changes::relevant(nodes, node_backends::node_fingerprint);
    let slices_config = watcher::Config::default().labels(node_backends::SERVICE_NAME_LABEL);
    // Kept in stores too, so that a node change wakes only the groups it concerns.
    let (services, service_events) = scope::reflect::<Service>(&ctx, watcher::Config::default());
    let (slices, slice_events) = scope::reflect::<EndpointSlice>(&ctx, slices_config);
    let (by_instance, by_service, by_slice, by_node, by_pod) = (
        controller.store(),
        controller.store(),
        controller.store(),
        controller.store(),
        controller.store(),
    );
    let controller = controller
        .watches_stream(
            changes::relevant(
                scope::watch::<SlbInstance>(&ctx, watcher::Config::default()),
                changes::placement_fingerprint,
            ),
            move |instance: SlbInstance| {
                referencing(&by_instance, &instance, |group: &SlbVServerGroup| {
                    group.spec.instance_ref.name == instance.name_any()
                })
            },
        )
        .watches_stream(
            changes::relevant(service_events, changes::service_spec_fingerprint),
            move |svc: Service| {
                referencing(&by_service, &svc, |group: &SlbVServerGroup| {
                    service_name(group) == Some(svc.name_any().as_str())
                })
            },
        )
        .watches_stream(
            slice_events.touched_objects(),
            move |slice: EndpointSlice| {
                let owner = slice
                    .labels()
                    .get(node_backends::SERVICE_NAME_LABEL)
                    .cloned();
                referencing(&by_slice, &slice, |group: &SlbVServerGroup| {
                    owner.is_some() && service_name(group) == owner.as_deref()
                })
            },
        )
        // A pod that waits for a Service's readiness gate counts as ready once its containers are
        // (see readiness_gate::count_gated_as_ready), which changes no EndpointSlice.
        .watches_stream(
            scope::watch::<Pod>(&ctx, watcher::Config::default()).touched_objects(),
            move |pod: Pod| {
                referencing(&by_pod, &pod, |group: &SlbVServerGroup| {
                    readiness_gate::gated_services(&pod).any(|s| service_name(group) == Some(s))
                })
            },
        )
        .watches_stream(nodes, move |node: Node| {
            let node = node.name_any();
            // Read once per node event, not once per group.
            let slices = slices.state();
            matching(&by_node, |group: &SlbVServerGroup| {
                node_concerns(group, &services, &slices, &node)
            })
        });
    drive(controller, reconcile, ctx, shutdown).await;
}

/// Whether a change of `node` can change the backends of `group`: a Service-backed group whose
/// Service is not known yet is woken, to be safe.
fn node_concerns(
    group: &SlbVServerGroup,
    services: &Store<Service>,
    slices: &[Arc<EndpointSlice>],
    node: &str,
) -> bool {
    let Some(service_name) = service_name(group) else {
        return false;
    };
    let namespace = group.namespace();
    let service = services
        .get(&ObjectRef::new(service_name).within(namespace.as_deref().unwrap_or_default()));
    let Some(service) = service else {
        return true;
    };
    let of_service = slices.iter().map(AsRef::as_ref).filter(|slice| {
        slice.namespace() == namespace
            && slice
                .labels()
                .get(node_backends::SERVICE_NAME_LABEL)
                .map(String::as_str)
                == Some(service_name)
    });
    node_backends::node_matters(&service, of_service, node)
}

fn service_name(group: &SlbVServerGroup) -> Option<&str> {
    group.spec.service_ref.as_ref().map(|s| s.name.as_str())
}

/// Reconciles one SlbVServerGroup: the finalizer decides between keeping it in sync and cleaning up.
async fn reconcile(group: Arc<SlbVServerGroup>, ctx: Arc<Context>) -> Result<Action> {
    finalized(group, &ctx, |event| async {
        match event {
            Finalizer::Apply(group) => sync(&group, &ctx).await,
            Finalizer::Cleanup(group) => cleanup(&group, &ctx).await,
        }
    })
    .await
}

/// What the spec resolves to: the load balancer, and the backends wanted on it.
struct Resolved {
    load_balancer: LoadBalancerRef,
    backends: Backends,
    /// The drain period of a Service-backed group; `None` for explicit backends, removed at once.
    drain_period: Option<Duration>,
    /// Backends already in the group keep their weight there.
    keep_weights: bool,
}

async fn sync(group: &SlbVServerGroup, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(group)?;
    let current = group.status.clone().unwrap_or_default();
    // Taken out, and put back only by a reconcile that succeeds: after any failure the next one
    // describes SLB again.
    let known = ctx.known_groups.take(&key.uid);
    let resolved = resolve(group, ctx, &key).await?;
    let lb = &resolved.load_balancer;
    let slb = ctx.slb.region(&lb.region)?;
    let spec_changed = current.observed_generation != key.generation;
    let now = Timestamp::now();
    // An existing group the spec names keeps its name and is not ours to remember.
    let own_group = group.spec.v_server_group_id.is_none();
    let names = Names {
        wanted: key.slb_name(group.spec.name.as_ref()),
        creation: creation_name(&key.uid),
        keep_existing: !own_group,
    };
    let plan_against =
        |remote: Option<&RemoteGroup>| plan_group(&resolved, remote, &current, &names, now);

    // observe: a change of the wanted backends is written at once against what this process last
    // saw or wrote of its own group (the describe before it would wait on SLB's describe quota
    // while a Deployment rolls); SLB's answer, then the next check, verify it. Otherwise: an existing group the
    // spec names; else ours by the recorded ID, else by the creation name. A recorded group SLB no
    // longer has is looked for by name too: the create that replaced it may have succeeded
    // unanswered.
    let written_at_once = write_at_once(
        known,
        own_group,
        &current,
        &lb.load_balancer_id,
        plan_against,
    );
    let (remote, replaced_id, planned) = match written_at_once {
        Some((known, planned)) => (Some(known), None, planned),
        None => {
            let (remote, replaced_id) = match &group.spec.v_server_group_id {
                Some(id) => {
                    let ours = plan::from_spec(&current.backends).unwrap_or_default();
                    let existing = existing_group(
                        ctx,
                        slb.as_ref(),
                        &key,
                        group,
                        lb,
                        id,
                        &resolved.backends,
                        &ours,
                    )
                    .await?;
                    (Some(existing), None)
                }
                None => observe_own(ctx, group, slb.as_ref(), &key, &current, lb).await?,
            };
            let planned = plan_against(remote.as_ref());
            (remote, replaced_id, planned)
        }
    };
    let replaced_id = replaced_id.as_deref();
    let Planned {
        desired,
        changes,
        draining,
        next_drain_check,
    } = planned;

    // apply
    let observed_backends = remote
        .as_ref()
        .map(|g| g.backends.clone())
        .unwrap_or_default();
    let mut status = current.clone();
    status.load_balancer_id = Some(lb.load_balancer_id.clone());
    status.region_id = Some(lb.region.clone());
    status.v_server_group_id = remote.as_ref().map(|g| g.id.clone());
    status.draining = draining;
    let mut applied = Applied::default();
    let failed = if changes.is_empty() {
        status.backends = plan::to_status(&observed_backends);
        status.health = health(ctx, slb.as_ref(), group, &key, lb, &observed_backends).await?;
        None
    } else {
        let failed = execute(
            ctx,
            group,
            slb.as_ref(),
            &mut status,
            &changes,
            &mut applied,
        )
        .await
        .err();
        status.backends = plan::to_status(&desired.backends);
        failed
    };
    // What SLB has once this reconcile has succeeded (our own groups only).
    let now_known = applied
        .created_id
        .clone()
        .or_else(|| remote.as_ref().map(|g| g.id.clone()))
        .filter(|_| own_group)
        .map(|id| RemoteGroup {
            id,
            name: desired.name.clone(),
            backends: match changes.is_empty() {
                true => observed_backends.clone(),
                false => desired.backends.clone(),
            },
        });

    // outcome (no I/O), then status
    let recorded_backends = plan::from_spec(&current.backends).unwrap_or_default();
    let before = Before {
        load_balancer_id: &lb.load_balancer_id,
        spec_changed,
        remote: remote.as_ref(),
        desired_name: &desired.name,
        recorded_backends: &recorded_backends,
        replaced_id,
        next_drain_check,
        desired_backends: &desired.backends,
        resync_period: ctx.config.resync_period,
    };
    let outcome = outcome::outcome(&changes, &before, &applied, failed.is_some());
    let action = conclude(ctx, group, status, outcome, failed).await?;
    if let Some(known) = now_known {
        ctx.known_groups.remember(&key.uid, known);
    }
    Ok(action)
}

/// Resolves the instance reference and the backends the spec asks for.
async fn resolve(group: &SlbVServerGroup, ctx: &Context, key: &ObjectKey) -> Result<Resolved> {
    let load_balancer =
        load_balancer_of(ctx, &key.namespace, &group.spec.instance_ref.name).await?;
    if let Some(backends) = &group.spec.backends {
        return Ok(Resolved {
            load_balancer,
            backends: plan::from_spec(backends).map_err(Error::InvalidSpec)?,
            drain_period: None,
            keep_weights: false,
        });
    }
    let Some(service_ref) = &group.spec.service_ref else {
        return Err(Error::InvalidSpec(
            "set exactly one of backends and serviceRef".to_owned(),
        ));
    };
    let svc: Service = get_referenced(ctx, &key.namespace, "Service", &service_ref.name).await?;
    let slices: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let selector = format!("{}={}", node_backends::SERVICE_NAME_LABEL, service_ref.name);
    let mut slices = slices
        .list(&ListParams::default().labels(&selector))
        .await?;
    // The Service's own pods only: during a rollout some endpoint is always unready, and a list of
    // the whole namespace in each group's reconcile grows with every pod in it.
    let pod_selector = readiness_gate::pod_selector(&svc)
        .filter(|_| readiness_gate::has_unready_endpoints(&slices.items));
    if let Some(selector) = pod_selector {
        let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &key.namespace);
        let pods = pods.list(&ListParams::default().labels(&selector)).await?;
        readiness_gate::count_gated_as_ready(&mut slices.items, &pods.items, &service_ref.name);
    }
    let nodes = ctx.nodes().await?;
    let found = node_backends::service_backends(
        &svc,
        &node_backends::BackendChoice::of(service_ref),
        &slices.items,
        nodes.iter().map(AsRef::as_ref),
    )
    .map_err(Error::InvalidSpec)?;
    if !found.skipped.is_empty() {
        // The first few are enough to act on, and keep the note under the Events API limit.
        let skipped: Vec<String> = found
            .skipped
            .iter()
            .take(10)
            .map(|(node, why)| format!("{node}: {why}"))
            .collect();
        events::warning(
            ctx,
            group,
            "NodeSkipped",
            format!("Nodes left out of the group: {}", skipped.join("; ")),
        )
        .await;
    }
    let drain_seconds = service_ref
        .drain_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map_or(DEFAULT_DRAIN, Duration::from_secs);
    Ok(Resolved {
        load_balancer,
        backends: found.backends,
        drain_period: Some(drain_seconds),
        keep_weights: service_ref.keep_weights.unwrap_or(false),
    })
}

/// Our own group: by the recorded ID, else by the creation name; and the recorded ID it replaces,
/// if that one is gone.
async fn observe_own(
    ctx: &Context,
    group: &SlbVServerGroup,
    slb: &dyn SlbApi,
    key: &ObjectKey,
    current: &SlbVServerGroupStatus,
    lb: &LoadBalancerRef,
) -> Result<(Option<RemoteGroup>, Option<String>)> {
    let recorded_id = current
        .v_server_group_id
        .clone()
        .filter(|_| current.load_balancer_id.as_deref() == Some(lb.load_balancer_id.as_str()));
    let described = match &recorded_id {
        Some(id) => describe_recorded(slb, id, &lb.load_balancer_id).await?,
        None => None,
    };
    let remote = match described {
        Some(found) => Some(found),
        None => {
            let found = recover(slb, &lb.load_balancer_id, &key.uid).await?;
            if let Some(found) = &found {
                // Recorded before the rename, which takes away the name it was found by.
                let mut status = current.clone();
                status.load_balancer_id = Some(lb.load_balancer_id.clone());
                status.region_id = Some(lb.region.clone());
                status.v_server_group_id = Some(found.id.clone());
                let note = format!("found {}, created before its ID was recorded", found.id);
                let progressing = DesiredCondition::ready(false, Reason::Progressing, note);
                report_status(ctx, group, status, [progressing], Generation::Pending).await?;
            }
            found
        }
    };
    let replaced_id = recorded_id.filter(|id| remote.as_ref().is_none_or(|r| r.id != *id));
    Ok((remote, replaced_id))
}

/// The existing group `id` that the spec names, on its instance's adopted load balancer, with only
/// the backends this object manages: those it wants and those it added before.
#[allow(clippy::too_many_arguments)]
async fn existing_group(
    ctx: &Context,
    slb: &dyn SlbApi,
    key: &ObjectKey,
    group: &SlbVServerGroup,
    lb: &LoadBalancerRef,
    id: &str,
    wanted: &Backends,
    ours: &Backends,
) -> Result<RemoteGroup> {
    let instance = find_instance(ctx, &key.namespace, &group.spec.instance_ref.name).await?;
    if instance.is_none_or(|i| i.spec.load_balancer_id.is_none()) {
        return Err(Error::InvalidSpec(format!(
            "vServerGroupId {id} is an existing group, which only an SlbInstance that adopts its load balancer (loadBalancerId) can use"
        )));
    }
    let on_the_load_balancer = slb
        .describe_vserver_groups(&DescribeVServerGroupsRequest {
            load_balancer_id: lb.load_balancer_id.clone(),
        })
        .await?
        .v_server_groups
        .iter()
        .any(|g| g.v_server_group_id == id);
    let found = match on_the_load_balancer {
        true => describe(slb, id).await?,
        false => None,
    };
    let mut found = found.ok_or_else(|| {
        Error::InvalidSpec(format!(
            "VServer group {id} does not exist on load balancer {}",
            lb.load_balancer_id
        ))
    })?;
    found.backends = plan::managed_part(&found.backends, wanted, ours);
    Ok(found)
}

pub(super) async fn describe(slb: &dyn SlbApi, id: &str) -> Result<Option<RemoteGroup>> {
    Ok(describe_placed(slb, id).await?.map(|(group, _)| group))
}

/// The group `id`, and the load balancer SLB reports it on (the official SDK's model has that
/// field; the reference's table does not).
async fn describe_placed(
    slb: &dyn SlbApi,
    id: &str,
) -> Result<Option<(RemoteGroup, Option<String>)>> {
    let request = DescribeVServerGroupAttributeRequest {
        v_server_group_id: id.to_owned(),
    };
    match slb.describe_vserver_group_attribute(&request).await {
        Ok(group) => Ok(Some((
            RemoteGroup {
                id: id.to_owned(),
                name: group.v_server_group_name.unwrap_or_default(),
                backends: plan::from_api(&group.backend_servers),
            },
            group.load_balancer_id,
        ))),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The recorded group `id` while SLB has it; NotOwned when SLB has it on another load balancer
/// than `load_balancer_id` (a status written by hand, say): that group is someone else's.
pub(super) async fn describe_recorded(
    slb: &dyn SlbApi,
    id: &str,
    load_balancer_id: &str,
) -> Result<Option<RemoteGroup>> {
    let Some((group, reported)) = describe_placed(slb, id).await? else {
        return Ok(None);
    };
    let listed = || named_groups(slb, load_balancer_id);
    ensure_recorded_placed("VServer group", id, reported, load_balancer_id, listed).await?;
    Ok(Some(group))
}

/// [`ensure_placed`] for a recorded group (VServer or master-slave) that SLB described: on the load
/// balancer its describe reported, else, when the describe leaves that out (the reference's table
/// has no such field), on `load_balancer_id` if that one's `listed` groups hold it.
pub(crate) async fn ensure_recorded_placed<Listed>(
    noun: &str,
    id: &str,
    reported: Option<String>,
    load_balancer_id: &str,
    listed: impl FnOnce() -> Listed,
) -> Result<()>
where
    Listed: Future<Output = Result<Vec<(String, String)>>>,
{
    let placed_on = match reported {
        Some(reported) => Some(reported),
        None => listed()
            .await?
            .iter()
            .any(|(listed, _)| listed == id)
            .then(|| load_balancer_id.to_owned()),
    };
    ensure_placed(noun, id, placed_on.as_deref(), load_balancer_id)
}

/// The group created under the uid-derived name before a crash kept its ID out of the status.
/// Retried creates can leave more than one; those are ours, so the extras are deleted.
async fn recover(
    slb: &dyn SlbApi,
    load_balancer_id: &str,
    uid: &str,
) -> Result<Option<RemoteGroup>> {
    let ours = owned_group_ids(slb, load_balancer_id, uid).await?;
    let Some((first, extras)) = ours.split_first() else {
        return Ok(None);
    };
    for extra in extras {
        delete_group(slb, extra).await?;
    }
    describe(slb, first).await
}

/// IDs of the groups on the load balancer that still carry the uid-derived creation name.
pub(super) async fn owned_group_ids(
    slb: &dyn SlbApi,
    load_balancer_id: &str,
    uid: &str,
) -> Result<Vec<String>> {
    let name = creation_name(uid);
    let groups = named_groups(slb, load_balancer_id).await?;
    Ok(groups
        .into_iter()
        .filter(|(_, listed)| *listed == name)
        .map(|(id, _)| id)
        .collect())
}

/// The groups on the load balancer, as (ID, name).
async fn named_groups(slb: &dyn SlbApi, load_balancer_id: &str) -> Result<Vec<(String, String)>> {
    let groups = slb
        .describe_vserver_groups(&DescribeVServerGroupsRequest {
            load_balancer_id: load_balancer_id.to_owned(),
        })
        .await?;
    Ok(groups
        .v_server_groups
        .into_iter()
        .map(|g| (g.v_server_group_id, g.v_server_group_name))
        .collect())
}
