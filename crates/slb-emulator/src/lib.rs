//! A faithful, stateful emulator of the Alibaba Cloud Server Load Balancer API, version 2014-05-15.
//!
//! Tests start it in-process:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use slb_emulator::{Config, Emulator};
//! let emulator = Emulator::start(Config::for_tests()).await?;
//! let endpoint = emulator.url(); // http://127.0.0.1:PORT, signed with the demo keys
//! # let _ = endpoint;
//! emulator.shutdown().await?;
//! # Ok(()) }
//! ```

mod actions;
mod admin;
mod auth;
mod calls;
mod clock;
mod config;
mod error;
mod faults;
mod health;
mod ids;
mod params;
mod persist;
mod render;
mod server;
mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use actions::ACTIONS;
pub use calls::{CallRecord, Counters};
/// Formats a `Timestamp` parameter, for clients that sign their own requests.
pub use clock::iso8601;
pub use config::{
    Account, Config, DEFAULT_REGIONS, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_ACCOUNT_ID,
    EcsInstance, Faults, TransitionDelays,
};
pub use health::HealthOverride;

/// How long `shutdown` waits for in-flight calls (a hang fault can hold one for a minute).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Starts emulators.
pub struct Emulator;

impl Emulator {
    /// Binds `config.listen`, loads `config.state_file` if it exists, and serves until shut down.
    pub async fn start(config: Config) -> anyhow::Result<RunningEmulator> {
        let shared = Arc::new(server::Shared::new(&config)?);
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(RunningEmulator {
            addr,
            stop: Some(stop),
            task: Some(task),
            shared,
        })
    }
}

/// A serving emulator. Dropping it stops serving; `shutdown` also waits for the server to finish.
pub struct RunningEmulator {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    shared: Arc<server::Shared>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`: the API at `/`, the admin endpoints under `/__admin/`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`, the form the SDKs take as an endpoint.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The call log (oldest first), as `GET /__admin/calls` returns it.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.calls.lock().records(0, None)
    }

    pub fn counters(&self) -> Counters {
        self.shared.calls.lock().counters()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.lock().set(faults);
    }

    pub fn set_health_overrides(&self, overrides: Vec<HealthOverride>) {
        *self.shared.health.write() = overrides;
    }

    /// `None` accepts any ServerId; `Some` checks ServerIds against the list.
    pub fn set_ecs_instances(&self, instances: Option<Vec<EcsInstance>>) {
        *self.shared.ecs.write() = instances;
    }

    /// All accounts' resources as JSON (the same document as `GET /__admin/state`).
    pub fn state(&self) -> serde_json::Value {
        serde_json::to_value(&*self.shared.store.lock()).unwrap_or(serde_json::Value::Null)
    }

    /// Every account's load balancers by ID, each as [`Self::state`] shows it (its listeners,
    /// groups and rules inside).
    pub fn load_balancers(&self) -> BTreeMap<String, serde_json::Value> {
        let mut state = self.state();
        let mut load_balancers = BTreeMap::new();
        if let Some(accounts) = state["accounts"].as_object_mut() {
            for account in accounts.values_mut() {
                if let serde_json::Value::Object(held) = account["load_balancers"].take() {
                    load_balancers.extend(held);
                }
            }
        }
        load_balancers
    }

    /// Forgets all resources, calls, health overrides and nonces.
    pub fn reset(&self) -> std::io::Result<()> {
        self.shared.reset()
    }

    /// Stops accepting calls and waits (briefly) for in-flight ones, then for the state to be let go
    /// of, so that an emulator started next can open the same state file.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(joined) => joined??,
                Err(_) => task.abort(),
            }
        }
        // The server returns once every connection is closed, but a connection's task can still hold
        // the shared state (and with it the state file's lock) for a moment after.
        while Arc::strong_count(&self.shared) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
