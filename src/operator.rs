//! `slb-operator run`: wires the clients, the admin server, leader election and the controllers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use futures::FutureExt;
use kube::Client;
use kube::api::ListParams;
use kube::runtime::events::{Recorder, Reporter};
use kube_lease_manager::LeaseManagerBuilder;
use prometheus_client::registry::Registry;
use slb_api::{ClientConfig, SlbApi};
use tokio::sync::watch;

use crate::admin::{self, AdminState};
use crate::cli::RunArgs;
use crate::context::{Config, Context, SlbClients};
use crate::controller::{self, FIELD_MANAGER};
use crate::crd::SlbInstance;
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
    let slb = SlbClients::new(Box::new(move |region: &str| {
        let config = ClientConfig::new(endpoint.clone(), region, credentials.clone());
        Ok(Arc::new(slb_api::Client::new(config)?) as Arc<dyn SlbApi>)
    }));
    let reporter = Reporter {
        controller: FIELD_MANAGER.to_owned(),
        instance: args.identity.clone(),
    };
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), reporter),
        client: client.clone(),
        slb,
        config: Config {
            cluster_id: args.cluster_id.clone(),
            default_region: args.region.clone(),
            resync_period: args.resync_period,
            concurrency: args.concurrency,
            watch_namespace: args.watch_namespace.clone(),
        },
        metrics,
    });

    // Readiness means the CRDs are installed and readable, not leadership: a standby replica is
    // ready too, or a rolling update would wait forever for the new pod.
    ctx.api::<SlbInstance>()
        .list(&ListParams::default().limit(1))
        .await
        .context(
            "cannot list SlbInstances; are the CRDs installed (crds/) and is the RBAC in place?",
        )?;
    admin_state.ready.store(true, Ordering::Relaxed);

    let signals = tokio::spawn(shutdown_on_signal(shutdown_sender.clone()));
    if args.leader_elect {
        let namespace = args
            .lease_namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let mut builder =
            LeaseManagerBuilder::new(client.clone(), &args.lease_name).with_namespace(namespace);
        if let Some(identity) = &args.identity {
            builder = builder.with_identity(identity);
        }
        let lease = builder
            .build()
            .await
            .context("cannot set up leader election")?;
        let (mut leading, lease_task) = lease.watch().await;
        tracing::info!(lease = %args.lease_name, "waiting for leadership");
        let mut stopping = shutdown.clone();
        tokio::select! {
            acquired = leading.wait_for(|leading| *leading) => { acquired.context("leader election stopped")?; }
            _ = stopping.wait_for(|stop| *stop) => {
                lease_task.abort();
                return Ok(());
            }
        }
        tracing::info!("acquired leadership");
        // Losing the lease means another replica may act: stop at once and let Kubernetes restart us.
        let lost = shutdown_sender.clone();
        tokio::spawn(async move {
            let _ = leading.wait_for(|leading| !*leading).await;
            tracing::error!("lost leadership; shutting down");
            let _ = lost.send(true);
        });
    }

    tracing::info!(endpoint = %args.endpoint, region = %args.region, "starting the controllers");
    controller::run_all(ctx, wait_for(shutdown.clone())).await;
    let _ = shutdown_sender.send(true);
    signals.abort();
    admin_server
        .await
        .context("the admin server task failed")?
        .context("the admin server failed")?;
    Ok(())
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
