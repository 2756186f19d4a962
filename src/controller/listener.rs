//! The SlbListener controller: creates the listener of its SlbInstance, keeps its settings, state,
//! whitelist and certificates as the spec says, and deletes it (then the certificates it uploaded)
//! when the object goes away.
//!
//! Ownership: the status records the address (load balancer, port, protocol) of the listener this
//! object created, written just before the create call. Only that listener is ever changed or
//! deleted; a listener already at the spec's port is left alone (Ready=False), except on an adopted
//! instance, where the object takes it over because it declares it.

mod plan;

pub use plan::{CERTIFICATE_NAME_PREFIX, certificate_name};

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::ListParams;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::Event as Finalizer;
use kube::runtime::{WatchStreamExt, predicates, watcher};
use kube::{Api, ResourceExt};
use slb_api::{
    AccessControlStatus, AddListenerWhiteListItemRequest, DeleteCACertificateRequest,
    DeleteLoadBalancerListenerRequest, DeleteServerCertificateRequest,
    DescribeCACertificatesRequest, DescribeListenerAccessControlAttributeRequest,
    DescribeLoadBalancerHTTPListenerAttributeRequest,
    DescribeLoadBalancerHTTPSListenerAttributeRequest,
    DescribeLoadBalancerTCPListenerAttributeRequest,
    DescribeLoadBalancerUDPListenerAttributeRequest, DescribeServerCertificatesRequest, OnOff,
    RemoveListenerWhiteListItemRequest, SetListenerAccessControlStatusRequest, SlbApi,
    StartLoadBalancerListenerRequest, StopLoadBalancerListenerRequest, UploadCACertificateRequest,
    UploadServerCertificateRequest,
};

use self::plan::{
    AccessControlState, Address, Change, Create, Desired, Observed, ObservedListener, Plan,
    Resolved, Set, Slot,
};
use super::events;
use super::instance::{deletion_policy, region_of};
use super::object::ObjectKey;
use super::references::{find_instance, get_instance, get_referenced, referencing};
use super::runtime::{drive, finalized, resync, spec_controller};
use super::status::{Generation, SYNCED, record_status, report_status};
use crate::conditions::{DesiredCondition, Reason, is_ready};
use crate::context::Context;
use crate::crd::{
    CertificateKind, CertificateSource, DeletionPolicy, ListenerProtocol, SlbInstance, SlbListener,
    SlbListenerSpec, SlbListenerStatus, SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup,
    UploadedCertificate,
};
use crate::error::{Error, Result};

/// How soon to look again after changing SLB, or while the listener is between states.
const SETTLE_DELAY: Duration = Duration::from_secs(2);

/// The API's error code for a port held by a listener of another protocol.
const OTHER_PROTOCOL_CODE: &str = "UnsupportedOperationonfixedprotocalport";

const TLS_CERTIFICATE_KEY: &str = "tls.crt";
const TLS_PRIVATE_KEY_KEY: &str = "tls.key";
const CA_CERTIFICATE_KEY: &str = "ca.crt";

/// Runs the controller until `shutdown` completes.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let controller = spec_controller::<SlbListener>(&ctx);
    // References: only the fields a listener depends on wake it, not every status write.
    let instances = watcher(ctx.api::<SlbInstance>(), watcher::Config::default())
        .default_backoff()
        .touched_objects()
        .predicate_filter(
            |instance: &SlbInstance| {
                let status = instance.status.as_ref();
                hash_of((
                    status.and_then(|s| s.load_balancer_id.clone()),
                    status.and_then(|s| s.region_id.clone()),
                ))
            },
            Default::default(),
        );
    let v_server_groups = watcher(ctx.api::<SlbVServerGroup>(), watcher::Config::default())
        .default_backoff()
        .touched_objects()
        .predicate_filter(
            |group: &SlbVServerGroup| {
                hash_of(
                    group
                        .status
                        .as_ref()
                        .and_then(|s| s.v_server_group_id.clone()),
                )
            },
            Default::default(),
        );
    let master_slave_groups = watcher(
        ctx.api::<SlbMasterSlaveServerGroup>(),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects()
    .predicate_filter(
        |group: &SlbMasterSlaveServerGroup| {
            hash_of(
                group
                    .status
                    .as_ref()
                    .and_then(|s| s.master_slave_server_group_id.clone()),
            )
        },
        Default::default(),
    );
    // Metadata only: the controller never keeps the key material of every Secret in memory.
    let secrets = watcher(
        ctx.api::<PartialObjectMeta<Secret>>(),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects()
    .predicate_filter(predicates::resource_version, Default::default());

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

fn hash_of(value: impl Hash) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    Some(hasher.finish())
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

/// Where the listener lives, from the SlbInstance.
struct Placement {
    load_balancer_id: String,
    region: String,
    adopted_instance: bool,
}

/// Keeps the listener as the spec says.
async fn sync(listener: &SlbListener, ctx: &Context) -> Result<Action> {
    let key = ObjectKey::of(listener)?;
    // Updated as the reconcile goes, so that each step is recorded on top of the ones before it.
    let mut status = listener.status.clone().unwrap_or_default();
    converge(listener, ctx, &key, &mut status).await
}

async fn converge(
    listener: &SlbListener,
    ctx: &Context,
    key: &ObjectKey,
    status: &mut SlbListenerStatus,
) -> Result<Action> {
    let was_ready = is_ready(&status.conditions, key.generation);

    // Resolve the references (Kubernetes reads only). A missing one is reported in the status; its
    // watch reconciles the listener again when it appears.
    let placement = resolve_instance(ctx, key, &listener.spec).await?;
    let groups = resolve_groups(ctx, key, &listener.spec, &placement).await?;
    let certificates = read_certificates(ctx, key, &listener.spec).await?;

    let slb = ctx.slb.region(&placement.region)?;
    status.region_id = Some(placement.region.clone());
    // The status's address only counts on the load balancer it was recorded for.
    if status.load_balancer_id.as_deref() != Some(placement.load_balancer_id.as_str()) {
        status.listener_port = None;
        status.protocol = None;
    }
    status.load_balancer_id = Some(placement.load_balancer_id.clone());

    // Certificates from Secrets are uploaded first (and recorded at once), as the listener needs their IDs.
    let server_certificate_id =
        ensure_certificate(ctx, listener, slb.as_ref(), status, certificates.server).await?;
    let ca_certificate_id =
        ensure_certificate(ctx, listener, slb.as_ref(), status, certificates.ca).await?;
    let resolved = Resolved {
        v_server_group_id: groups.v_server_group_id,
        master_slave_server_group_id: groups.master_slave_server_group_id,
        server_certificate_id,
        ca_certificate_id,
    };
    let desired = desired_listener(&listener.spec, &placement, &resolved)?;
    let claimed = claimed_address(status);

    // observe
    let observed = observe(slb.as_ref(), &desired, claimed).await?;

    // plan (no I/O)
    let plan = plan::plan(&desired, claimed, &observed);

    // apply, then status
    let (synced, ready, action) = match plan {
        Plan::Wait(state) => {
            status.listener_state = Some(state.as_str().to_owned());
            let message = format!("the listener is {state}; waiting for it to settle");
            (
                DesiredCondition::ready(true, Reason::Progressing, message.clone()),
                DesiredCondition::ready(false, Reason::Progressing, message),
                Action::requeue(SETTLE_DELAY),
            )
        }
        Plan::Occupied(address) => {
            status.listener_state = None;
            return Err(Error::NotOwned {
                what: format!(
                    "listener {address} of {}, which exists already",
                    desired.load_balancer_id
                ),
            });
        }
        Plan::Adopt => {
            record_address(status, desired.address);
            events::normal(
                ctx,
                listener,
                "Adopted",
                format!(
                    "Took over listener {} of {}",
                    desired.address, desired.load_balancer_id
                ),
            )
            .await;
            let message = format!("took over listener {}", desired.address);
            (
                DesiredCondition::ready(true, Reason::Progressing, message.clone()),
                DesiredCondition::ready(false, Reason::Progressing, message),
                Action::requeue(SETTLE_DELAY),
            )
        }
        Plan::Changes(changes) if changes.is_empty() => {
            let state = current_listener(&observed).and_then(|l| l.status);
            status.listener_state = state.map(|s| s.as_str().to_owned());
            // The listener matches the spec, so it uses the resolved certificates.
            status.server_certificate_id = resolved.server_certificate_id.clone();
            status.ca_certificate_id = resolved.ca_certificate_id.clone();
            delete_unused_certificates(ctx, listener, slb.as_ref(), status).await?;
            (
                DesiredCondition::ready(true, Reason::Available, "the spec is applied"),
                DesiredCondition::ready(
                    true,
                    Reason::Available,
                    format!(
                        "the listener is {}",
                        status.listener_state.as_deref().unwrap_or("up")
                    ),
                ),
                resync(ctx.config.resync_period),
            )
        }
        Plan::Changes(changes) => {
            let existing = current_listener(&observed);
            // Drift: the listener had converged on this generation and its references are the
            // same (a renewed certificate is an update, not drift).
            let drift = was_ready
                && status.server_certificate_id == resolved.server_certificate_id
                && status.ca_certificate_id == resolved.ca_certificate_id;
            let reconfigured = changes
                .iter()
                .any(|change| matches!(change, Change::Set(_) | Change::Create(_)));
            let summary = describe_changes(&changes);
            execute(ctx, listener, slb.as_ref(), &desired, status, changes).await?;
            // Certificates are in use as the listener now has them: swapped only by a set or create.
            if reconfigured {
                status.server_certificate_id = resolved.server_certificate_id.clone();
                status.ca_certificate_id = resolved.ca_certificate_id.clone();
            } else if let Some(existing) = existing {
                status.server_certificate_id = existing.settings.server_certificate_id.clone();
                status.ca_certificate_id = existing.settings.ca_certificate_id.clone();
            }
            delete_unused_certificates(ctx, listener, slb.as_ref(), status).await?;
            let address = desired.address;
            if drift {
                events::normal(
                    ctx,
                    listener,
                    "DriftRestored",
                    format!("Restored listener {address} after changes made outside: {summary}"),
                )
                .await;
            } else if existing.is_some() {
                events::normal(
                    ctx,
                    listener,
                    "Updated",
                    format!("Updated listener {address}: {summary}"),
                )
                .await;
            }
            (
                DesiredCondition::ready(true, Reason::Available, format!("applied: {summary}")),
                DesiredCondition::ready(
                    false,
                    Reason::Progressing,
                    format!("applied {summary}; checking the result"),
                ),
                Action::requeue(SETTLE_DELAY),
            )
        }
    };
    let synced = DesiredCondition {
        type_: SYNCED,
        ..synced
    };
    report_status(
        ctx,
        listener,
        status.clone(),
        [synced, ready],
        Generation::Observed,
    )
    .await?;
    Ok(action)
}

/// The load balancer of the SlbInstance the spec names. Stricter than `load_balancer_of`: only the
/// ID the instance recorded counts, so a listener waits until its instance has reconciled.
async fn resolve_instance(
    ctx: &Context,
    key: &ObjectKey,
    spec: &SlbListenerSpec,
) -> Result<Placement> {
    let name = &spec.instance_ref.name;
    let instance = get_instance(ctx, &key.namespace, name).await?;
    let load_balancer_id = instance
        .status
        .as_ref()
        .and_then(|s| s.load_balancer_id.clone())
        .ok_or_else(|| Error::ReferenceNotReady {
            kind: "SlbInstance",
            name: name.clone(),
        })?;
    Ok(Placement {
        load_balancer_id,
        region: region_of(&instance, ctx),
        adopted_instance: instance.spec.load_balancer_id.is_some(),
    })
}

struct Groups {
    v_server_group_id: Option<String>,
    master_slave_server_group_id: Option<String>,
}

/// The IDs of the server groups the spec names; each must be on the listener's load balancer.
async fn resolve_groups(
    ctx: &Context,
    key: &ObjectKey,
    spec: &SlbListenerSpec,
    placement: &Placement,
) -> Result<Groups> {
    let mut groups = Groups {
        v_server_group_id: None,
        master_slave_server_group_id: None,
    };
    if let Some(reference) = &spec.v_server_group_ref {
        let group: SlbVServerGroup =
            get_referenced(ctx, &key.namespace, "SlbVServerGroup", &reference.name).await?;
        let status = group.status.unwrap_or_default();
        groups.v_server_group_id = Some(group_id(
            "SlbVServerGroup",
            &reference.name,
            status.v_server_group_id,
            status.load_balancer_id,
            placement,
        )?);
    }
    if let Some(reference) = &spec.master_slave_server_group_ref {
        let group: SlbMasterSlaveServerGroup = get_referenced(
            ctx,
            &key.namespace,
            "SlbMasterSlaveServerGroup",
            &reference.name,
        )
        .await?;
        let status = group.status.unwrap_or_default();
        groups.master_slave_server_group_id = Some(group_id(
            "SlbMasterSlaveServerGroup",
            &reference.name,
            status.master_slave_server_group_id,
            status.load_balancer_id,
            placement,
        )?);
    }
    Ok(groups)
}

fn group_id(
    kind: &'static str,
    name: &str,
    id: Option<String>,
    load_balancer_id: Option<String>,
    placement: &Placement,
) -> Result<String> {
    let id = id.ok_or_else(|| Error::ReferenceNotReady {
        kind,
        name: name.to_owned(),
    })?;
    match load_balancer_id {
        Some(lb) if lb != placement.load_balancer_id => Err(Error::InvalidSpec(format!(
            "{kind} {name:?} belongs to load balancer {lb}, not to the listener's {}",
            placement.load_balancer_id
        ))),
        _ => Ok(id),
    }
}

/// A certificate the listener needs: an ID given in the spec, or PEM read from a Secret.
enum WantedCertificate {
    None,
    Id(String),
    Pem { name: String, upload: Upload },
}

/// What is uploaded for a certificate from a Secret.
enum Upload {
    Server {
        certificate: String,
        private_key: String,
    },
    Ca {
        certificate: String,
    },
}

impl Upload {
    fn kind(&self) -> CertificateKind {
        match self {
            Upload::Server { .. } => CertificateKind::Server,
            Upload::Ca { .. } => CertificateKind::Ca,
        }
    }
}

struct WantedCertificates {
    server: WantedCertificate,
    ca: WantedCertificate,
}

async fn read_certificates(
    ctx: &Context,
    key: &ObjectKey,
    spec: &SlbListenerSpec,
) -> Result<WantedCertificates> {
    if spec.protocol != ListenerProtocol::Https {
        return Ok(WantedCertificates {
            server: WantedCertificate::None,
            ca: WantedCertificate::None,
        });
    }
    Ok(WantedCertificates {
        server: read_certificate(
            ctx,
            key,
            spec.server_certificate.as_ref(),
            CertificateKind::Server,
        )
        .await?,
        ca: read_certificate(ctx, key, spec.ca_certificate.as_ref(), CertificateKind::Ca).await?,
    })
}

async fn read_certificate(
    ctx: &Context,
    key: &ObjectKey,
    source: Option<&CertificateSource>,
    kind: CertificateKind,
) -> Result<WantedCertificate> {
    let Some(source) = source else {
        return Ok(WantedCertificate::None);
    };
    if let Some(id) = &source.certificate_id {
        return Ok(WantedCertificate::Id(id.clone()));
    }
    let Some(reference) = &source.secret_ref else {
        return Ok(WantedCertificate::None);
    };
    let secret: Secret = get_referenced(ctx, &key.namespace, "Secret", &reference.name).await?;
    let text = |field: &str| -> Result<String> {
        let bytes = secret
            .data
            .as_ref()
            .and_then(|data| data.get(field))
            .filter(|value| !value.0.is_empty())
            .ok_or_else(|| Error::InvalidCertificate {
                name: reference.name.clone(),
                reason: format!("it has no {field}"),
            })?;
        String::from_utf8(bytes.0.clone()).map_err(|_| Error::InvalidCertificate {
            name: reference.name.clone(),
            reason: format!("{field} is not PEM text"),
        })
    };
    let upload = match kind {
        CertificateKind::Server => Upload::Server {
            certificate: text(TLS_CERTIFICATE_KEY)?,
            private_key: text(TLS_PRIVATE_KEY_KEY)?,
        },
        CertificateKind::Ca => Upload::Ca {
            certificate: text(CA_CERTIFICATE_KEY)?,
        },
    };
    let certificate = match &upload {
        Upload::Server { certificate, .. } | Upload::Ca { certificate } => certificate,
    };
    Ok(WantedCertificate::Pem {
        name: certificate_name(&key.uid, certificate),
        upload,
    })
}

/// The ID of the wanted certificate, uploading it first when it is new. An upload is recorded in
/// the status at once, so that it is found again (and deleted in time) whatever happens next.
async fn ensure_certificate(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    status: &mut SlbListenerStatus,
    wanted: WantedCertificate,
) -> Result<Option<String>> {
    let (name, upload) = match wanted {
        WantedCertificate::None => return Ok(None),
        WantedCertificate::Id(id) => return Ok(Some(id)),
        WantedCertificate::Pem { name, upload } => (name, upload),
    };
    let kind = upload.kind();
    if let Some(uploaded) = status
        .uploaded_certificates
        .iter()
        .find(|u| u.kind == kind && u.name == name)
    {
        return Ok(Some(uploaded.id.clone()));
    }
    // Uploaded before a crash, but not recorded: the name finds it.
    let id = match find_certificate(slb, kind, &name).await? {
        Some(id) => id,
        None => {
            let id = match upload {
                Upload::Server {
                    certificate,
                    private_key,
                } => {
                    slb.upload_server_certificate(&UploadServerCertificateRequest {
                        server_certificate: certificate,
                        private_key,
                        server_certificate_name: Some(name.clone()),
                        ..Default::default()
                    })
                    .await?
                    .server_certificate_id
                }
                Upload::Ca { certificate } => {
                    slb.upload_ca_certificate(&UploadCACertificateRequest {
                        ca_certificate: certificate,
                        ca_certificate_name: name.clone(),
                        resource_group_id: None,
                    })
                    .await?
                    .ca_certificate_id
                }
            };
            events::normal(
                ctx,
                listener,
                "CertificateUploaded",
                format!("Uploaded {} certificate {id} as {name}", kind_name(kind)),
            )
            .await;
            id
        }
    };
    status.uploaded_certificates.push(UploadedCertificate {
        kind,
        id: id.clone(),
        name,
    });
    record_status(ctx, listener, status).await?;
    Ok(Some(id))
}

fn kind_name(kind: CertificateKind) -> &'static str {
    match kind {
        CertificateKind::Server => "server",
        CertificateKind::Ca => "CA",
    }
}

async fn find_certificate(
    slb: &dyn SlbApi,
    kind: CertificateKind,
    name: &str,
) -> Result<Option<String>> {
    Ok(match kind {
        CertificateKind::Server => slb
            .describe_server_certificates(&DescribeServerCertificatesRequest::default())
            .await?
            .server_certificates
            .into_iter()
            .find(|c| c.server_certificate_name == name)
            .map(|c| c.server_certificate_id),
        CertificateKind::Ca => slb
            .describe_ca_certificates(&DescribeCACertificatesRequest::default())
            .await?
            .ca_certificates
            .into_iter()
            .find(|c| c.ca_certificate_name == name)
            .map(|c| c.ca_certificate_id),
    })
}

/// Deletes the uploaded certificates the listener no longer uses (after a renewal swapped them out).
async fn delete_unused_certificates(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    status: &mut SlbListenerStatus,
) -> Result<()> {
    let unused = plan::unused_certificates(
        &status.uploaded_certificates,
        status.server_certificate_id.as_deref(),
        status.ca_certificate_id.as_deref(),
    );
    for certificate in unused {
        delete_certificate(ctx, listener, slb, &certificate).await?;
        status.uploaded_certificates.retain(|u| u != &certificate);
    }
    Ok(())
}

async fn delete_certificate(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    certificate: &UploadedCertificate,
) -> Result<()> {
    let id = certificate.id.clone();
    let deleted = match certificate.kind {
        CertificateKind::Server => slb
            .delete_server_certificate(&DeleteServerCertificateRequest {
                server_certificate_id: id.clone(),
            })
            .await
            .map(|_| ()),
        CertificateKind::Ca => slb
            .delete_ca_certificate(&DeleteCACertificateRequest {
                ca_certificate_id: id.clone(),
            })
            .await
            .map(|_| ()),
    };
    match deleted {
        Ok(()) => {
            events::normal(
                ctx,
                listener,
                "CertificateDeleted",
                format!(
                    "Deleted {} certificate {id} ({})",
                    kind_name(certificate.kind),
                    certificate.name
                ),
            )
            .await;
            Ok(())
        }
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// The spec with its references resolved and its ports checked.
fn desired_listener(
    spec: &SlbListenerSpec,
    placement: &Placement,
    resolved: &Resolved,
) -> Result<Desired> {
    let port = |name: &str, value: i32| {
        u16::try_from(value)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| Error::InvalidSpec(format!("{name} {value} is not a port")))
    };
    let backend_port = port("backendServerPort", spec.backend_server_port)?;
    Ok(Desired {
        load_balancer_id: placement.load_balancer_id.clone(),
        address: Address {
            port: port("listenerPort", spec.listener_port)?,
            protocol: spec.protocol,
        },
        settings: plan::desired_settings(spec, backend_port, resolved),
        started: spec.started.unwrap_or(true),
        access_control: spec.access_control.as_ref().map(|ac| AccessControlState {
            enabled: ac.enabled,
            source_items: ac.source_items.clone(),
        }),
        x_forwarded_for: OnOff::from_bool(spec.x_forwarded_for.unwrap_or(true)),
        adopted_instance: placement.adopted_instance,
    })
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

fn current_listener(observed: &Observed) -> Option<&ObservedListener> {
    match &observed.claimed {
        Slot::Listener(listener) => Some(listener),
        Slot::Free | Slot::OtherProtocol => None,
    }
}

/// One describe of the claimed listener (plus its whitelist when the spec manages it); the spec's
/// port is looked at only when it is not the claimed one.
async fn observe(
    slb: &dyn SlbApi,
    desired: &Desired,
    claimed: Option<Address>,
) -> Result<Observed> {
    let with_access_control = desired.access_control.is_some();
    let claimed_slot = match claimed {
        Some(address) => {
            describe(slb, &desired.load_balancer_id, address, with_access_control).await?
        }
        None => Slot::Free,
    };
    let target = match claimed {
        Some(address) if address.port == desired.address.port => None,
        _ => Some(describe(slb, &desired.load_balancer_id, desired.address, false).await?),
    };
    Ok(Observed {
        claimed: claimed_slot,
        target,
    })
}

async fn describe(
    slb: &dyn SlbApi,
    load_balancer_id: &str,
    address: Address,
    with_access_control: bool,
) -> Result<Slot> {
    let load_balancer_id = load_balancer_id.to_owned();
    let listener_port = address.port;
    let described = match address.protocol {
        ListenerProtocol::Http => slb
            .describe_load_balancer_http_listener_attribute(
                &DescribeLoadBalancerHTTPListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, plan::observed_http(address.protocol, &a))),
        ListenerProtocol::Https => slb
            .describe_load_balancer_https_listener_attribute(
                &DescribeLoadBalancerHTTPSListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, plan::observed_http(address.protocol, &a))),
        ListenerProtocol::Tcp => slb
            .describe_load_balancer_tcp_listener_attribute(
                &DescribeLoadBalancerTCPListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, plan::observed_layer4(address.protocol, &a))),
        ListenerProtocol::Udp => slb
            .describe_load_balancer_udp_listener_attribute(
                &DescribeLoadBalancerUDPListenerAttributeRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                },
            )
            .await
            .map(|a| (a.status, plan::observed_layer4(address.protocol, &a))),
    };
    let (status, settings) = match described {
        Ok(described) => described,
        Err(error) if error.is_not_found() => return Ok(Slot::Free),
        Err(error) if error.code() == Some(OTHER_PROTOCOL_CODE) => {
            return Ok(Slot::OtherProtocol);
        }
        Err(error) => return Err(error.into()),
    };
    let access_control = if with_access_control {
        let attribute = slb
            .describe_listener_access_control_attribute(
                &DescribeListenerAccessControlAttributeRequest {
                    load_balancer_id,
                    listener_port,
                },
            )
            .await?;
        Some(AccessControlState {
            enabled: attribute.access_control_status == Some(AccessControlStatus::OpenWhiteList),
            source_items: attribute.source_items,
        })
    } else {
        None
    };
    Ok(Slot::Listener(Box::new(ObservedListener {
        status,
        settings,
        access_control,
    })))
}

/// Makes the planned calls. The address is recorded in the status before a create, so that a
/// crash after it never leaves a listener the object does not know it owns.
async fn execute(
    ctx: &Context,
    listener: &SlbListener,
    slb: &dyn SlbApi,
    desired: &Desired,
    status: &mut SlbListenerStatus,
    changes: Vec<Change>,
) -> Result<()> {
    let load_balancer_id = desired.load_balancer_id.clone();
    let listener_port = desired.address.port;
    for change in changes {
        match change {
            Change::Delete { address, reason } => {
                events::normal(
                    ctx,
                    listener,
                    "Recreating",
                    format!(
                        "Deleting listener {address} to create {} because {reason}",
                        desired.address
                    ),
                )
                .await;
                delete_listener(slb, &load_balancer_id, address.port).await?;
                status.listener_port = None;
                status.protocol = None;
                status.listener_state = None;
                record_status(ctx, listener, status).await?;
            }
            Change::Create(create) => {
                record_address(status, desired.address);
                record_status(ctx, listener, status).await?;
                match *create {
                    Create::Http(request) => {
                        slb.create_load_balancer_http_listener(&request).await?;
                    }
                    Create::Https(request) => {
                        slb.create_load_balancer_https_listener(&request).await?;
                    }
                    Create::Tcp(request) => {
                        slb.create_load_balancer_tcp_listener(&request).await?;
                    }
                    Create::Udp(request) => {
                        slb.create_load_balancer_udp_listener(&request).await?;
                    }
                }
                events::normal(
                    ctx,
                    listener,
                    "Created",
                    format!("Created listener {} on {load_balancer_id}", desired.address),
                )
                .await;
            }
            Change::Set(set) => match *set {
                Set::Http(request) => {
                    slb.set_load_balancer_http_listener_attribute(&request)
                        .await?;
                }
                Set::Https(request) => {
                    slb.set_load_balancer_https_listener_attribute(&request)
                        .await?;
                }
                Set::Tcp(request) => {
                    slb.set_load_balancer_tcp_listener_attribute(&request)
                        .await?;
                }
                Set::Udp(request) => {
                    slb.set_load_balancer_udp_listener_attribute(&request)
                        .await?;
                }
            },
            Change::AddSourceItems(source_items) => {
                slb.add_listener_white_list_item(&AddListenerWhiteListItemRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                    source_items,
                })
                .await?;
            }
            Change::RemoveSourceItems(source_items) => {
                slb.remove_listener_white_list_item(&RemoveListenerWhiteListItemRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                    source_items,
                })
                .await?;
            }
            Change::SetAccessControl(enabled) => {
                slb.set_listener_access_control_status(&SetListenerAccessControlStatusRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                    access_control_status: if enabled {
                        AccessControlStatus::OpenWhiteList
                    } else {
                        AccessControlStatus::Close
                    },
                })
                .await?;
            }
            Change::Start => {
                slb.start_load_balancer_listener(&StartLoadBalancerListenerRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                })
                .await?;
            }
            Change::Stop => {
                slb.stop_load_balancer_listener(&StopLoadBalancerListenerRequest {
                    load_balancer_id: load_balancer_id.clone(),
                    listener_port,
                })
                .await?;
            }
        }
    }
    Ok(())
}

async fn delete_listener(slb: &dyn SlbApi, load_balancer_id: &str, port: u16) -> Result<()> {
    match slb
        .delete_load_balancer_listener(&DeleteLoadBalancerListenerRequest {
            load_balancer_id: load_balancer_id.to_owned(),
            listener_port: port,
        })
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if error.is_not_found() => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// A short, human-readable list of the planned calls, for Events and conditions.
fn describe_changes(changes: &[Change]) -> String {
    let mut names: Vec<&str> = changes
        .iter()
        .map(|change| match change {
            Change::Delete { .. } => "delete",
            Change::Create(_) => "create",
            Change::Set(_) => "settings",
            Change::AddSourceItems(_) | Change::RemoveSourceItems(_) => "whitelist",
            Change::SetAccessControl(_) => "access control",
            Change::Start => "start",
            Change::Stop => "stop",
        })
        .collect();
    names.dedup();
    names.join(", ")
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
    delete_unused_certificates(ctx, listener, slb.as_ref(), &mut status).await?;
    Ok(Action::await_change())
}

/// The SlbRules in the namespace that still point at this listener.
async fn dependent_rules(ctx: &Context, key: &ObjectKey) -> Result<Vec<String>> {
    let rules: Api<SlbRule> = Api::namespaced(ctx.client.clone(), &key.namespace);
    Ok(rules
        .list(&ListParams::default())
        .await?
        .into_iter()
        .filter(|rule| rule.spec.listener_ref.name == key.name)
        .map(|rule| format!("SlbRule {}", rule.name_any()))
        .collect())
}
