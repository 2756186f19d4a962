//! `slb-operator run`: wires the clients, the admin server, leader election and the controllers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::FutureExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::runtime::events::{Recorder, Reporter};
use kube::{Api, Client};
use kube_lease_manager::{LeaseManagerBuilder, LeaseParams};
use prometheus_client::registry::Registry;
use slb_api::{ClientConfig, SlbApi};
use tokio::sync::watch;

use crate::admin::{self, AdminState};
use crate::cli::RunArgs;
use crate::context::{Config, Context, SlbClients};
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
    // One limiter per account, shared by the clients of every region: SLB counts calls per account.
    let limiters = slb_api::RateLimiters::new(slb_api::RateLimits::default());
    let slb = SlbClients::new(Box::new(move |region: &str| {
        let mut config = ClientConfig::new(endpoint.clone(), region, credentials.clone());
        config.rate_limiters = Some(limiters.clone());
        let client = Arc::new(slb_api::Client::new(config)?);
        Ok(Arc::new(Metered::new(client, call_metrics.clone())) as Arc<dyn SlbApi>)
    }));
    let reporter = Reporter {
        controller: FIELD_MANAGER.to_owned(),
        instance: args.identity.clone(),
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        slb,
        Config {
            cluster_id: args.cluster_id.clone(),
            default_region: args.region.clone(),
            resync_period: args.resync_period,
            concurrency: args.concurrency,
            watch_namespaces: watched_namespaces(&args.watch_namespaces),
            service_load_balancer_class: args.service_load_balancer_class.clone(),
            manage_services_without_class: args.manage_services_without_class,
            allow_deleting_adopted: args.allow_deleting_adopted,
            adoption_namespaces: args.adoption_namespaces.clone(),
            certificate_expiry_warning: args.certificate_expiry_warning,
        },
        metrics,
        Recorder::new(client.clone(), reporter),
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

    tracing::info!(endpoint = %args.endpoint, region = %args.region, "starting the controllers");
    let fenced = leadership.as_ref().map(|l| l.fenced.clone());
    tokio::select! {
        () = controller::run_all(ctx, wait_for(shutdown.clone())) => {}
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
    // kube-lease-manager needs 0 < grace < duration.
    let duration = args.lease_duration.as_secs().max(2);
    let grace = (duration / 5).clamp(1, duration - 1);
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(|| format!("slb-operator-{:016x}", rand::random::<u64>()));
    let client_for_fence = client.clone();
    let namespace_for_fence = namespace.clone();
    let identity_for_fence = identity.clone();
    let lease = LeaseManagerBuilder::new(client, &args.lease_name)
        .with_namespace(namespace)
        .with_parameters(LeaseParams::new(identity, duration, grace))
        .build()
        .await
        .context("cannot set up leader election")?;
    let (mut leading, lease_task) = lease.watch().await;
    tracing::info!(lease = %args.lease_name, "waiting for leadership");
    let mut stopping = shutdown_sender.subscribe();
    let acquired = tokio::select! {
        acquired = leading.wait_for(|leading| *leading) => {
            acquired.map(|_| true).context("leader election stopped")?
        }
        _ = stopping.wait_for(|stop| *stop) => false,
    };
    if !acquired {
        drop(leading);
        let _ = tokio::time::timeout(Duration::from_secs(5), lease_task).await;
        return Ok(None);
    }
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
        Api::namespaced(client_for_fence, &namespace_for_fence),
        args.lease_name.clone(),
        identity_for_fence,
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

/// Reads the Lease every few seconds and stops this replica before its leadership can have passed
/// to another: once the last renewal it saw of its own is older than the Lease duration less a
/// margin (renewals failing, the Lease unreadable, or another holder), it notifies `fenced` and
/// shuts down. The Lease manager's own loss signal comes only after the fact.
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
        tokio::time::sleep(margin / 2).await;
        match leases.get_opt(&name).await {
            Ok(Some(lease)) => {
                if let Some(renewed) = own_renewal(&lease, &identity) {
                    // The renewal time is written by this replica's own clock.
                    let age = Timestamp::now().duration_since(renewed);
                    let age = Duration::try_from(age).unwrap_or_default();
                    confirmed = confirmed.max(Instant::now().checked_sub(age).unwrap_or(confirmed));
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot read the leader election Lease"),
        }
        if lease_expired_for_us(confirmed.elapsed(), duration) {
            tracing::error!(
                unconfirmed = ?confirmed.elapsed(),
                "the Lease was not renewed in time; stopping before another replica can take it"
            );
            fenced.notify_one();
            let _ = shutdown.send(true);
            return;
        }
    }
}

/// How long before the Lease runs out this replica stops acting: a quarter of the duration, at
/// least a second.
fn fence_margin(duration: Duration) -> Duration {
    (duration / 4).max(Duration::from_secs(1))
}

/// Whether a replica whose last confirmed renewal is `unconfirmed` old must stop (pure).
fn lease_expired_for_us(unconfirmed: Duration, duration: Duration) -> bool {
    unconfirmed + fence_margin(duration) >= duration
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
        let duration = Duration::from_secs(15);
        assert!(!lease_expired_for_us(Duration::from_secs(5), duration));
        assert!(!lease_expired_for_us(Duration::from_secs(11), duration));
        // 15 s less a margin of 3.75 s.
        assert!(lease_expired_for_us(
            Duration::from_millis(11_250),
            duration
        ));
        assert!(lease_expired_for_us(Duration::from_secs(30), duration));
        assert_eq!(fence_margin(Duration::from_secs(2)), Duration::from_secs(1));
    }

    #[test]
    fn each_namespace_is_watched_once() {
        let listed = ["b", "a", "b"].map(String::from);
        assert_eq!(watched_namespaces(&listed), ["a", "b"]);
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
}
