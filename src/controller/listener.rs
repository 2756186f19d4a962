//! The SlbListener controller: creates the listener of its SlbInstance, keeps its settings, state,
//! whitelist and certificates as the spec says, and deletes it (then the certificates it uploaded)
//! when the object goes away.
//!
//! Ownership: the status records the address (load balancer, port, protocol) of the listener this
//! object created, written just before the create call (and cleared when SLB refuses the create,
//! so that a listener made there later is not taken as ours). Only that listener is ever changed or
//! deleted; a listener already at the spec's port is left alone (Ready=False, NotOwned), except on
//! an adopted instance in a namespace that may adopt (--adoption-namespaces), where the object
//! takes it over because it declares it.
//!
//! Here: the watches, the reconcile (observe → plan → apply → outcome) and the cleanup. Beside it:
//! `resolve` (references and ports), `certificates` (Secrets to uploaded certificates), `observe`
//! (the describes), `plan` and `settings` (pure), `apply` (the planned calls) and `outcome` (pure:
//! conditions, requeue, Events).

mod apply;
mod certificates;
mod observe;
mod outcome;
mod plan;
mod resolve;
mod settings;

pub use plan::{CERTIFICATE_NAME_PREFIX, certificate_name};

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use slb_api::SlbApi;

use self::apply::{delete_listener, execute};
use self::certificates::{
    WantedCertificates, delete_unused_certificates, ensure_certificate, read_certificates,
};
use self::observe::{current_listener, observe};
use self::outcome::{Applied, Before};
use self::plan::{Address, Change, Desired, Observed, Plan};
use self::resolve::{Groups, Ports, desired_listener, resolve_groups, resolve_instance};
use self::settings::Resolved;
use super::changes::{self, hash_of};
use super::events;
use super::instance::deletion_policy;
use super::object::ObjectKey;
use super::references::{LISTENER_REF, find_instance, referencing, referring};
use super::runtime::{Requeue, conclude, drive, finalized, spec_controller};
use super::scope;
use crate::conditions::is_ready;
use crate::context::Context;
use crate::crd::{
    DeletionPolicy, SlbInstance, SlbListener, SlbListenerSpec, SlbListenerStatus,
    SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup,
};
use crate::error::{Error, Result};

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let controller = spec_controller::<SlbListener>(&ctx);
    // References: only the fields a listener depends on wake it, not every status write.
    let instances = changes::relevant(
        scope::watch::<SlbInstance>(&ctx, watcher::Config::default()),
        changes::placement_fingerprint,
    );
    let v_server_groups = changes::relevant(
        scope::watch::<SlbVServerGroup>(&ctx, watcher::Config::default()),
        |group| {
            hash_of(
                group
                    .status
                    .as_ref()
                    .and_then(|s| s.v_server_group_id.as_deref()),
            )
        },
    );
    let master_slave_groups = changes::relevant(
        scope::watch::<SlbMasterSlaveServerGroup>(&ctx, watcher::Config::default()),
        |group| {
            hash_of(
                group
                    .status
                    .as_ref()
                    .and_then(|s| s.master_slave_server_group_id.as_deref()),
            )
        },
    );
    // Metadata only: the controller never keeps the key material of every Secret in memory.
    let secrets = changes::relevant(
        scope::watch::<PartialObjectMeta<Secret>>(&ctx, watcher::Config::default()),
        changes::resource_version,
    );

    let by_instance = controller.store();
    let by_v_server_group = controller.store();
    let by_master_slave_group = controller.store();
    let by_secret = controller.store();
    let controller = controller
        .watches_stream(instances, move |instance: SlbInstance| {
            referencing(&by_instance, &instance, |listener: &SlbListener| {
                listener.spec.instance_ref.name == instance.name_any()
            })
        })
        .watches_stream(v_server_groups, move |group: SlbVServerGroup| {
            referencing(&by_v_server_group, &group, |listener: &SlbListener| {
                listener
                    .spec
                    .v_server_group_ref
                    .as_ref()
                    .is_some_and(|r| r.name == group.name_any())
            })
        })
        .watches_stream(
            master_slave_groups,
            move |group: SlbMasterSlaveServerGroup| {
                referencing(&by_master_slave_group, &group, |listener: &SlbListener| {
                    listener
                        .spec
                        .master_slave_server_group_ref
                        .as_ref()
                        .is_some_and(|r| r.name == group.name_any())
                })
            },
        )
        .watches_stream(secrets, move |secret: PartialObjectMeta<Secret>| {
            referencing(&by_secret, &secret, |listener: &SlbListener| {
                secret_names(&listener.spec).any(|name| name == secret.name_any())
            })
        });
    drive(controller, reconcile, ctx, shutdown).await;
}

/// The names of the Secrets a spec reads certificates from.
fn secret_names(spec: &SlbListenerSpec) -> impl Iterator<Item = &str> {
    [&spec.server_certificate, &spec.ca_certificate]
        .into_iter()
        .flatten()
        .filter_map(|source| source.secret_ref.as_ref())
        .map(|r| r.name.as_str())
}

/// Reconciles one SlbListener: the finalizer decides between keeping it in sync and cleaning up.
pub async fn reconcile(listener: Arc<SlbListener>, ctx: Arc<Context>) -> Result<Action> {
    finalized(listener, &ctx, |event| async {
        match event {
            Finalizer::Apply(listener) => sync(&listener, &ctx).await,
            Finalizer::Cleanup(listener) => cleanup(&listener, &ctx).await,
        }
    })
    .await
}

/// Keeps the listener as the spec says: observe, plan, apply, then the outcome.
async fn sync(listener: &SlbListener, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(listener)?;
    // Updated as the reconcile goes, so that each step is recorded on top of the ones before it.
    let mut status = listener.status.clone().unwrap_or_default();
    let was_ready = is_ready(&status.conditions, key.generation);

    // Resolve the references (Kubernetes reads only). A missing one is reported in the status; its
    // watch reconciles the listener again when it appears. Certificates are parsed and checked here
    // (key, PEM, expiry), so that a bad Secret changes nothing in SLB.
    let placement = resolve_instance(ctx, &key, &listener.spec).await?;
    let Groups {
        v_server_group_id,
        master_slave_server_group_id,
    } = resolve_groups(ctx, &key, &listener.spec, &placement).await?;
    let ports = Ports::of(&listener.spec)?;
    let certificates = read_certificates(ctx, &key, &listener.spec).await?;

    let slb = ctx.slb.region(&placement.region)?;
    status.region_id = Some(placement.region.clone());
    // The status's address only counts on the load balancer it was recorded for.
    if status.load_balancer_id.as_deref() != Some(placement.load_balancer_id.as_str()) {
        status.listener_port = None;
        status.protocol = None;
    }
    status.load_balancer_id = Some(placement.load_balancer_id.clone());
    let mut before = Before {
        load_balancer_id: &placement.load_balancer_id,
        address: ports.address,
        was_ready,
        existing: false,
        state: None,
        same_certificates: false,
    };
    let mut applied = Applied::default();
    let WantedCertificates { server, ca } = certificates;

    let may_adopt = ctx.config.may_adopt(&key.namespace);
    // Certificates from Secrets are uploaded first (and recorded at once), as the listener needs
    // their IDs; then observe and plan (no I/O).
    let prepared = async {
        let server_certificate_id = ensure_certificate(
            ctx,
            listener,
            slb.as_ref(),
            &mut status,
            server,
            &mut applied,
        )
        .await?;
        let ca_certificate_id =
            ensure_certificate(ctx, listener, slb.as_ref(), &mut status, ca, &mut applied).await?;
        let resolved = Resolved {
            v_server_group_id,
            master_slave_server_group_id,
            server_certificate_id,
            ca_certificate_id,
        };
        let desired = desired_listener(&listener.spec, &placement, ports, &resolved, may_adopt);
        let claimed = claimed_address(&status);
        let observed = observe(slb.as_ref(), &desired, claimed).await?;
        let plan = plan::plan(&desired, claimed, &observed);
        Ok::<_, Error>(Decision {
            adoption_refused: placement.adopted_instance && !may_adopt,
            resolved,
            desired,
            observed,
            plan,
        })
    }
    .await;
    let decision = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            let outcome = outcome::outcome(None, &before, &applied, true);
            return conclude(ctx, listener, status, outcome, Some(error)).await;
        }
    };
    let existing = current_listener(&decision.observed);
    let resolved = &decision.resolved;
    before.existing = existing.is_some();
    before.state = existing.and_then(|l| l.status);
    before.same_certificates = status.server_certificate_id == resolved.server_certificate_id
        && status.ca_certificate_id == resolved.ca_certificate_id;

    let failed = apply(
        ctx,
        listener,
        slb.as_ref(),
        &decision,
        &mut status,
        &mut applied,
    )
    .await
    .err();

    // outcome (no I/O), then Events and status
    let outcome = outcome::outcome(Some(&decision.plan), &before, &applied, failed.is_some());
    if failed.is_none() && outcome.requeue == Requeue::Resync {
        // Once per resync of a listener in its steady state, not on every requeue.
        let window = ctx.config.certificate_expiry_warning;
        for note in outcome::expiring_certificates(&status, Timestamp::now(), window) {
            events::warning(ctx, listener, "CertificateExpiring", note).await;
        }
    }
    conclude(ctx, listener, status, outcome, failed).await
}

/// What a reconcile decided, from the references it resolved and what SLB has.
struct Decision {
    /// The instance is adopted but its namespace may not adopt, so no listener is taken over.
    adoption_refused: bool,
    resolved: Resolved,
    desired: Desired,
    observed: Observed,
    plan: Plan,
}

/// Carries out the plan, keeping the status (state, address, certificates in use) as SLB now has
/// them; the calls made go into `applied`.
async fn apply(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    decision: &Decision,
    status: &mut SlbListenerStatus,
    applied: &mut Applied,
) -> Result<()> {
    let Decision {
        adoption_refused,
        resolved,
        desired,
        observed,
        plan,
    } = decision;
    let existing = current_listener(observed);
    match plan {
        Plan::Wait(state) => {
            status.listener_state = Some(state.as_str().to_owned());
        }
        Plan::Occupied(address) => {
            status.listener_state = None;
            let hint = if *adoption_refused {
                format!(
                    " (namespace {} may not adopt: see --adoption-namespaces)",
                    listener.namespace().unwrap_or_default()
                )
            } else {
                String::new()
            };
            return Err(Error::NotOwned {
                what: format!(
                    "listener {address} of {}, which exists already{hint}",
                    desired.load_balancer_id
                ),
            });
        }
        Plan::Adopt => record_address(status, desired.address),
        Plan::Changes(changes) => {
            let reconfigured = changes
                .iter()
                .any(|change| matches!(change, Change::Set(_) | Change::Create(_)));
            if changes.is_empty() {
                status.listener_state = existing
                    .and_then(|l| l.status)
                    .map(|s| s.as_str().to_owned());
            }
            execute(
                ctx,
                listener,
                slb,
                desired,
                status,
                changes.clone(),
                applied,
            )
            .await?;
            // Certificates are in use as the listener now has them: swapped only by a set or
            // create (and, with no change, the listener matches the spec).
            if reconfigured || changes.is_empty() {
                status.server_certificate_id = resolved.server_certificate_id.clone();
                status.ca_certificate_id = resolved.ca_certificate_id.clone();
            } else if let Some(existing) = existing {
                status.server_certificate_id = existing.settings.server_certificate_id.clone();
                status.ca_certificate_id = existing.settings.ca_certificate_id.clone();
            }
            delete_unused_certificates(
                ctx,
                listener,
                slb,
                status,
                &mut applied.deleted_certificates,
            )
            .await?;
        }
    }
    Ok(())
}

/// The address the status records for the listener this object created (or took over).
fn claimed_address(status: &SlbListenerStatus) -> Option<Address> {
    let port = u16::try_from(status.listener_port?).ok()?;
    Some(Address {
        port,
        protocol: status.protocol?,
    })
}

fn record_address(status: &mut SlbListenerStatus, address: Address) {
    status.listener_port = Some(i32::from(address.port));
    status.protocol = Some(address.protocol);
}

/// Deletes the listener, then the certificates uploaded for it, once no SlbRule uses it.
///
/// The listener's deletionPolicy decides; without one, the instance's does: with Orphan (the
/// default for an adopted load balancer), or when the SlbInstance is already gone (only Orphan
/// releases it before its listeners), the load balancer is being left in place, so its listener
/// stays too, with the certificates it uses.
async fn cleanup(listener: &SlbListener, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(listener)?;
    let mut status = listener.status.clone().unwrap_or_default();
    let claimed = claimed_address(&status);
    if claimed.is_none() && status.uploaded_certificates.is_empty() {
        return Ok(Action::await_change());
    }
    let rules = dependent_rules(ctx, &key).await?;
    if !rules.is_empty() {
        return Err(Error::DependentsExist(rules.join(", ")));
    }
    let orphan = match listener.spec.deletion_policy {
        Some(policy) => policy == DeletionPolicy::Orphan,
        None => find_instance(ctx, &key.namespace, &listener.spec.instance_ref.name)
            .await?
            .is_none_or(|i| deletion_policy(&i.spec) == DeletionPolicy::Orphan),
    };
    let region = status
        .region_id
        .clone()
        .unwrap_or_else(|| ctx.config.default_region.clone());
    let slb = ctx.slb.region(&region)?;
    match (claimed, status.load_balancer_id.clone()) {
        (Some(address), Some(load_balancer_id)) if orphan => {
            events::normal(
                ctx,
                listener,
                "Orphaned",
                format!("Left listener {address} of {load_balancer_id} in place"),
            )
            .await;
        }
        (Some(address), Some(load_balancer_id)) => {
            delete_listener(slb.as_ref(), &load_balancer_id, address.port).await?;
            events::normal(
                ctx,
                listener,
                "Deleted",
                format!("Deleted listener {address} of {load_balancer_id}"),
            )
            .await;
        }
        _ => {}
    }
    if !orphan || claimed.is_none() {
        status.server_certificate_id = None;
        status.ca_certificate_id = None;
    }
    let mut deleted = Vec::new();
    let result =
        delete_unused_certificates(ctx, listener, slb.as_ref(), &mut status, &mut deleted).await;
    // Each deletion that happened is told, also when a later one failed.
    for certificate in &deleted {
        let note = outcome::certificate_deleted(certificate);
        events::normal(ctx, listener, note.reason, note.message).await;
    }
    result?;
    Ok(Action::await_change())
}

/// The SlbRules in the namespace that still point at this listener.
async fn dependent_rules(ctx: &Context, key: &ObjectKey) -> Result<Vec<String>> {
    let rules: Api<SlbRule> = Api::namespaced(ctx.client.clone(), &key.namespace);
    Ok(rules
        .list(&referring(LISTENER_REF, &key.name))
        .await?
        .into_iter()
        .map(|rule| format!("SlbRule {}", rule.name_any()))
        .collect())
}
