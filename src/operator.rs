//! `slb-operator run`: wires the clients, the admin server, leader election and the controllers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use futures::FutureExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::runtime::events::Reporter;
use kube::runtime::reflector;
use kube::{Api, Client};
use kube_lease_manager::{LeaseManagerBuilder, LeaseParams};
use prometheus_client::registry::Registry;
use slb_api::{ClientConfig, SlbApi};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::admin::{self, AdminState};
use crate::cli::RunArgs;
use crate::context::{Concurrency, Config, Context, SlbClients};
use crate::controller::events::Recorder;
use crate::controller::{self, scope, status::FIELD_MANAGER};
use crate::crd::SlbInstance;
use crate::metered::{Metered, SlbCallMetrics};
use crate::metrics::Metrics;

/// Runs the operator until SIGTERM or Ctrl-C, or until leadership is lost.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    // kube and reqwest both use rustls; ring is the provider the workspace compiles. An `Err` only
    // means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let credentials = args
        .credentials()
        .context("cannot load the SLB credentials (set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or pass --credentials-file)")?;
    let client = Client::try_default()
        .await
        .context("cannot build a Kubernetes client")?;

    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let call_metrics = SlbCallMetrics::register(&mut registry);
    let admin_state = Arc::new(AdminState {
        registry,
        ready: AtomicBool::new(false),
    });
    let (shutdown_sender, shutdown) = watch::channel(false);
    let admin_server = tokio::spawn(admin::serve(
        args.metrics_addr,
        admin_state.clone(),
        wait_for(shutdown.clone()),
    ));

    let endpoint = args.endpoint.clone();
    let call_timeout = args.slb_call_timeout;
    // One limiter per account, shared by the clients of every region: SLB counts calls per account.
    let limiters = slb_api::RateLimiters::new(slb_api::RateLimits::default());
    let slb = SlbClients::new(Box::new(move |region: &str| {
        let mut config = ClientConfig::new(endpoint.clone(), region, credentials.clone());
        config.rate_limiters = Some(limiters.clone());
        config.timeout = call_timeout;
        let client = Arc::new(slb_api::Client::new(config)?);
        Ok(Arc::new(Metered::new(client, call_metrics.clone())) as Arc<dyn SlbApi>)
    }));
    let reporter = Reporter {
        controller: FIELD_MANAGER.to_owned(),
        instance: args.identity.clone(),
    };
    let (node_store, node_writer) = reflector::store();
    let ctx = Arc::new(Context::new(
        client.clone(),
        slb,
        Config {
            cluster_id: args.cluster_id.clone(),
            default_region: args.region.clone(),
            resync_period: args.resync_period,
            concurrency: Concurrency::new(args.concurrency, &args.kind_concurrency),
            watch_namespaces: watched_namespaces(&args.watch_namespaces),
            service_load_balancer_class: args.service_load_balancer_class.clone(),
            manage_services_without_class: args.manage_services_without_class,
            allow_deleting_adopted: args.allow_deleting_adopted,
            adoption_namespaces: args.adoption_namespaces.clone(),
            certificate_expiry_warning: args.certificate_expiry_warning,
        },
        metrics.clone(),
        Recorder::new(client.clone(), reporter),
        node_store,
    ));

    // Readiness means the CRDs are installed and readable, not leadership: a standby replica is
    // ready too, or a rolling update would wait forever for the new pod.
    for api in scope::apis::<SlbInstance>(&client, &ctx.config.watch_namespaces) {
        api.list(&ListParams::default().limit(1)).await.with_context(|| {
            format!(
                "cannot list SlbInstances{}; are the CRDs installed (crds/) and is the RBAC in place?",
                api.namespace().map(|ns| format!(" in {ns}")).unwrap_or_default()
            )
        })?;
    }
    admin_state.ready.store(true, Ordering::Relaxed);

    let signals = tokio::spawn(shutdown_on_signal(shutdown_sender.clone()));
    let leadership = if args.leader_elect {
        match lead(&args, client.clone(), &shutdown_sender).await? {
            Some(leadership) => Some(leadership),
            // Shut down while standing by.
            None => return Ok(()),
        }
    } else {
        None
    };

    metrics.set_leader(true);
    tracing::info!(endpoint = %args.endpoint, region = %args.region, "starting the controllers");
    let fenced = leadership.as_ref().map(|l| l.fenced.clone());
    tokio::select! {
        () = controller::run_all(ctx, node_writer, wait_for(shutdown.clone())) => {}
        // Past its deadline the Lease may be another replica's: no reconcile may finish its calls.
        () = async { if let Some(fenced) = &fenced { fenced.notified().await } else { std::future::pending().await } } => {
            tracing::error!("stopped the controllers at once: the Lease was not renewed in time");
        }
    }
    let _ = shutdown_sender.send(true);
    signals.abort();
    if let Some(leadership) = leadership {
        leadership.release().await;
    }
    admin_server
        .await
        .context("the admin server task failed")?
        .context("the admin server failed")?;
    Ok(())
}

/// The held Lease: watched for loss, and released on shutdown so a standby takes over at once.
struct Leadership {
    loss_watch: tokio::task::JoinHandle<()>,
    /// Notified when the Lease has not been confirmed as ours for too long.
    fenced: Arc<tokio::sync::Notify>,
    renewal_watch: tokio::task::JoinHandle<()>,
    lease_task:
        tokio::task::JoinHandle<kube_lease_manager::Result<kube_lease_manager::LeaseManager>>,
}

impl Leadership {
    async fn release(self) {
        // The loss watch drops the lease channel when shutdown starts, which makes the lease task
        // release the Lease and end.
        self.renewal_watch.abort();
        let _ = self.loss_watch.await;
        match tokio::time::timeout(Duration::from_secs(5), self.lease_task).await {
            Ok(Ok(Ok(_))) => tracing::info!("released the leader election Lease"),
            Ok(Ok(Err(error))) => {
                tracing::warn!(%error, "could not release the leader election Lease")
            }
            Ok(Err(error)) => tracing::warn!(%error, "the leader election task failed"),
            Err(_) => tracing::warn!("timed out releasing the leader election Lease"),
        }
    }
}

/// Waits until this replica holds the Lease; `None` when shutdown comes first. Losing the Lease later
/// shuts the operator down, since another replica may then act.
async fn lead(
    args: &RunArgs,
    client: Client,
    shutdown_sender: &watch::Sender<bool>,
) -> anyhow::Result<Option<Leadership>> {
    let namespace = args
        .lease_namespace
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let duration = args.lease_duration.as_secs().max(2);
    let grace = renewal_grace(duration);
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(|| format!("slb-operator-{:016x}", rand::random::<u64>()));
    let leases: Api<Lease> = Api::namespaced(client.clone(), &namespace);
    tracing::info!(lease = %args.lease_name, "waiting for leadership");
    let mut stopping = shutdown_sender.subscribe();
    // The Lease manager looks at a held Lease again only when the term it saw runs out, so it would miss a leader
    // releasing the Lease on shutdown, and a pod started later (the leader's replacement) would take it first. A
    // fresh manager reads the Lease anew: the standby starts one as soon as it sees the Lease free.
    let (mut leading, lease_task) = loop {
        let lease = LeaseManagerBuilder::new(client.clone(), &args.lease_name)
            .with_namespace(namespace.clone())
            .with_parameters(LeaseParams::new(identity.clone(), duration, grace))
            .build()
            .await
            .context("cannot set up leader election")?;
        let (mut leading, lease_task) = lease.watch().await;
        let standing_by = tokio::select! {
            biased;
            acquired = leading.wait_for(|leading| *leading) => {
                acquired.map(|_| Standby::Acquired).context("leader election stopped")?
            }
            _ = stopping.wait_for(|stop| *stop) => Standby::ShuttingDown,
            () = released(&leases, &args.lease_name) => Standby::Released,
        };
        match standing_by {
            Standby::Acquired => break (leading, lease_task),
            Standby::ShuttingDown => {
                drop(leading);
                let _ = tokio::time::timeout(Duration::from_secs(5), lease_task).await;
                return Ok(None);
            }
            Standby::Released => {
                tracing::debug!(lease = %args.lease_name, "the Lease is free; taking it");
                // Stopped at once: it holds nothing to release, and the next manager has the same
                // identity, so a lock it takes meanwhile is the next one's too.
                lease_task.abort();
            }
        }
    };
    tracing::info!(lease = %args.lease_name, "acquired leadership");
    let lost = shutdown_sender.clone();
    let loss_watch = tokio::spawn(async move {
        tokio::select! {
            _ = leading.wait_for(|leading| !*leading) => {
                tracing::error!("lost leadership; shutting down");
                let _ = lost.send(true);
            }
            _ = stopping.wait_for(|stop| *stop) => {}
        }
    });
    let fenced = Arc::new(tokio::sync::Notify::new());
    let renewal_watch = tokio::spawn(watch_renewals(
        leases,
        args.lease_name.clone(),
        identity,
        Duration::from_secs(duration),
        fenced.clone(),
        shutdown_sender.clone(),
    ));
    Ok(Some(Leadership {
        loss_watch,
        fenced,
        renewal_watch,
        lease_task,
    }))
}

/// How a standby's wait for the Lease ended.
enum Standby {
    Acquired,
    ShuttingDown,
    Released,
}

/// How often a standby looks for a released Lease: client-go's standbys retry every 2 s; one second
/// keeps the standby ahead of the leader's replacement pod, which takes longer than that to start.
const STANDBY_RETRY: Duration = Duration::from_secs(1);

/// Returns once the Lease `name` exists with no holder (its leader released it); a Lease still
/// held, missing or unreadable is left to the Lease manager.
async fn released(leases: &Api<Lease>, name: &str) {
    loop {
        tokio::time::sleep(STANDBY_RETRY).await;
        if let Ok(Some(lease)) = leases.get_opt(name).await
            && lease_is_free(&lease)
        {
            return;
        }
    }
}

fn lease_is_free(lease: &Lease) -> bool {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.holder_identity.as_deref())
        .is_none_or(str::is_empty)
}

/// Reads the Lease every few seconds and stops this replica before its leadership can have passed
/// to another: once the last renewal it saw of its own is older than the Lease duration less a
/// margin (renewals failing, the Lease unreadable, or another holder), it notifies `fenced` and
/// shuts down. The Lease manager's own loss signal comes only after the fact. The deadline is a
/// timer of its own, so a read that hangs (kube sets no read timeout) cannot hold the fence back.
async fn watch_renewals(
    leases: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
    fenced: Arc<tokio::sync::Notify>,
    shutdown: watch::Sender<bool>,
) {
    let margin = fence_margin(duration);
    let mut confirmed = Instant::now();
    loop {
        let deadline = confirmed + fence_after(duration);
        let read = async {
            tokio::time::sleep(margin / 2).await;
            leases.get_opt(&name).await
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            read = read => match read {
                Ok(Some(lease)) => {
                    if let Some(renewed) = own_renewal(&lease, &identity) {
                        // The renewal time is written by this replica's own clock.
                        let age = Timestamp::now().duration_since(renewed);
                        let age = Duration::try_from(age).unwrap_or_default();
                        let at = Instant::now().checked_sub(age).unwrap_or(confirmed);
                        confirmed = confirmed.max(at);
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "cannot read the leader election Lease"),
            },
        }
    }
    tracing::error!(
        unconfirmed = ?confirmed.elapsed(),
        "the Lease was not renewed in time; stopping before another replica can take it"
    );
    fenced.notify_one();
    let _ = shutdown.send(true);
}

/// How many seconds before the Lease runs out its holder renews it: half the duration (kube-lease-manager
/// needs 0 < grace < duration). It must be well over `fence_margin`, or the fence stops the leader just
/// before each renewal; a fifth of the duration, as before, did exactly that.
fn renewal_grace(duration_secs: u64) -> u64 {
    (duration_secs / 2).clamp(1, duration_secs.saturating_sub(1).max(1))
}

/// How long before the Lease runs out this replica stops acting: a quarter of the duration, at
/// least a second.
fn fence_margin(duration: Duration) -> Duration {
    (duration / 4).max(Duration::from_secs(1))
}

/// How long after its last confirmed renewal a replica stops: the Lease duration less the margin.
fn fence_after(duration: Duration) -> Duration {
    duration.saturating_sub(fence_margin(duration))
}

/// The last renewal time of `lease`, if `identity` holds it.
fn own_renewal(lease: &Lease, identity: &str) -> Option<Timestamp> {
    let spec = lease.spec.as_ref()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    spec.renew_time.as_ref().map(|time| time.0)
}

/// The namespaces to watch, each once (a namespace listed twice would get two watchers).
fn watched_namespaces(listed: &[String]) -> Vec<String> {
    let mut namespaces = listed.to_vec();
    namespaces.sort();
    namespaces.dedup();
    namespaces
}

/// Completes when `true` is sent on `shutdown` (or the sender is gone).
fn wait_for(
    mut shutdown: watch::Receiver<bool>,
) -> impl Future<Output = ()> + Clone + Send + Sync + 'static {
    async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    }
    .boxed()
    .shared()
}

async fn shutdown_on_signal(shutdown: watch::Sender<bool>) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
    let _ = shutdown.send(true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    #[test]
    fn a_leader_stops_before_its_lease_can_run_out() {
        // 15 s less a margin of 3.75 s.
        assert_eq!(
            fence_after(Duration::from_secs(15)),
            Duration::from_millis(11_250)
        );
        assert_eq!(fence_after(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(fence_margin(Duration::from_secs(2)), Duration::from_secs(1));
    }

    /// A Lease read that never answers (kube sets no read timeout) must not keep the leader
    /// acting past its deadline: the fence fires on time all the same.
    #[tokio::test(start_paused = true)]
    async fn a_lease_read_that_hangs_does_not_hold_the_fence_back() {
        let hangs = tower::service_fn(|_: axum::http::Request<kube::client::Body>| {
            std::future::pending::<Result<axum::http::Response<kube::client::Body>, std::io::Error>>(
            )
        });
        let leases: Api<Lease> = Api::default_namespaced(Client::new(hangs, "default"));
        let fenced = Arc::new(tokio::sync::Notify::new());
        let (shutdown, stopping) = watch::channel(false);
        let duration = Duration::from_secs(8);
        let started = Instant::now();
        let fence = watch_renewals(
            leases,
            "lease".to_owned(),
            "me".to_owned(),
            duration,
            fenced.clone(),
            shutdown,
        );
        tokio::time::timeout(duration * 2, fence)
            .await
            .expect("the fence fired while the read hung");
        assert_eq!(started.elapsed(), fence_after(duration));
        assert!(*stopping.borrow());
        tokio::time::timeout(Duration::ZERO, fenced.notified())
            .await
            .expect("the controllers were told to stop");
    }

    #[test]
    fn each_namespace_is_watched_once() {
        let listed = ["b", "a", "b"].map(String::from);
        assert_eq!(watched_namespaces(&listed), ["a", "b"]);
    }

    #[test]
    fn a_leader_renews_well_before_its_fence_would_stop_it() {
        for seconds in 4..=300 {
            let grace = Duration::from_secs(renewal_grace(seconds));
            let margin = fence_margin(Duration::from_secs(seconds));
            assert!(
                grace >= margin + Duration::from_millis(500),
                "a {seconds} s Lease is renewed {grace:?} before it runs out, the fence is at {margin:?}"
            );
            assert!(grace < Duration::from_secs(seconds));
        }
        assert_eq!(renewal_grace(15), 7);
        assert_eq!(renewal_grace(2), 1);
    }

    #[test]
    fn only_the_holders_own_renewals_count() {
        let renewed = Timestamp::from_second(1_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let lease = Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some("a".into()),
                renew_time: Some(MicroTime(renewed)),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(own_renewal(&lease, "a"), Some(renewed));
        assert_eq!(own_renewal(&lease, "b"), None);
        assert_eq!(own_renewal(&Lease::default(), "a"), None);
    }

    #[test]
    fn a_standby_sees_a_lease_without_a_holder_as_free() {
        let held = Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some("a".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(!lease_is_free(&held));
        let released = Lease {
            spec: Some(LeaseSpec::default()),
            ..Default::default()
        };
        assert!(lease_is_free(&released));
        let emptied = Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(String::new()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(lease_is_free(&emptied));
    }
}
