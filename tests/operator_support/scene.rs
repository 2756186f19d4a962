//! What a test runs against: the emulator, the operator (in-process, or as its own process) and the
//! [`Scene`] that holds them.

use super::*;

/// An SLB client of the emulator, with the demo account.
pub fn slb_client(emulator: &RunningEmulator) -> Arc<dyn SlbApi> {
    let credentials = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    Arc::new(slb_api::Client::new(ClientConfig::new(emulator.url(), REGION, credentials)).unwrap())
}

pub async fn start_emulator() -> RunningEmulator {
    Emulator::start(EmulatorConfig::for_tests())
        .await
        .expect("the emulator starts")
}

/// The emulator of the fault runs: 10% of calls fail with 503 and 5% with ProcessingSameRequest, which
/// `seed` picks, and every call takes 50 ms longer.
pub async fn start_faulty_emulator(seed: u64) -> RunningEmulator {
    let mut config = EmulatorConfig::for_tests();
    config.faults = Faults {
        error_503_rate: 0.10,
        processing_same_request_rate: 0.05,
        latency_ms: 50,
        seed,
        ..Faults::default()
    };
    Emulator::start(config).await.expect("the emulator starts")
}

/// An emulator that knows only these ECS instances (all running), so it checks backend ServerIds.
pub async fn start_emulator_with_ecs(instance_ids: &[String]) -> RunningEmulator {
    let config = EmulatorConfig {
        ecs_instances: Some(instance_ids.iter().map(EcsInstance::running).collect()),
        ..EmulatorConfig::for_tests()
    };
    Emulator::start(config).await.expect("the emulator starts")
}

/// The ECS instances i-0001..i-0040, of which the kwok nodes are i-0001..i-0003.
pub fn ecs_inventory() -> Vec<String> {
    (1..=40).map(|i| format!("i-{i:04}")).collect()
}

/// The operator's controllers, in-process, watching one namespace. Stops when dropped.
pub struct Operator {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    pub registry: Arc<Registry>,
}

impl Operator {
    pub async fn start(
        client: &Client,
        emulator: &RunningEmulator,
        namespace: &str,
        resync_period: Duration,
    ) -> Self {
        Self::start_with(client, emulator, namespace, |config| {
            config.resync_period = resync_period;
        })
        .await
    }

    /// The operator watching `namespace` with the test configuration as `configure` changes it.
    pub async fn start_with(
        client: &Client,
        emulator: &RunningEmulator,
        namespace: &str,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let url = emulator.url();
        let slb = SlbClients::new(Box::new(move |region: &str| {
            let credentials = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)?;
            Ok(Arc::new(slb_api::Client::new(ClientConfig::new(
                url.clone(),
                region,
                credentials,
            ))?) as Arc<dyn SlbApi>)
        }));
        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry);
        let reporter = Reporter {
            controller: "slb-operator".into(),
            instance: Some(namespace.to_owned()),
        };
        let mut config = Config {
            cluster_id: "test-cluster".into(),
            default_region: REGION.into(),
            resync_period: Duration::from_secs(600),
            concurrency: 4.into(),
            watch_namespaces: vec![namespace.to_owned()],
            service_load_balancer_class: "slb.operator.dev/slb".into(),
            manage_services_without_class: false,
            allow_deleting_adopted: false,
            adoption_namespaces: None,
            certificate_expiry_warning: Duration::from_secs(14 * 24 * 3600),
        };
        configure(&mut config);
        let (node_store, node_writer) = kube::runtime::reflector::store();
        let ctx = Arc::new(Context::new(
            client.clone(),
            slb,
            config,
            metrics,
            Recorder::new(client.clone(), reporter),
            node_store,
        ));
        let (stop, stopped) = watch::channel(false);
        let shutdown = async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|stop| *stop).await;
        }
        .boxed()
        .shared();
        let task = tokio::spawn(controller::run_all(ctx, node_writer, shutdown));
        Self {
            stop,
            task,
            registry: Arc::new(registry),
        }
    }

    /// The operator with a resync period longer than any test, so that only the watches wake it.
    pub async fn start_on_watches(
        client: &Client,
        emulator: &RunningEmulator,
        namespace: &str,
    ) -> Self {
        Self::start(client, emulator, namespace, Duration::from_secs(600)).await
    }

    /// Asks the controllers to stop, and aborts them if they are still running after 10 s, so that no
    /// reconcile of this operator can act after `stop` returns.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
            let _ = self.task.await;
        }
    }
}

/// What an operator test runs in: a fresh namespace of the local control plane, an in-process
/// emulator, an SLB client of it, and (while one runs) the operator watching that namespace.
pub struct Scene {
    pub client: Client,
    pub namespace: TestNamespace,
    pub emulator: RunningEmulator,
    pub slb: Arc<dyn SlbApi>,
    /// Behind a lock so that a test can restart the operator while it borrows the scene.
    operator: std::sync::Mutex<Option<Operator>>,
}

impl Scene {
    /// The usual scene: the emulator for tests, and the operator woken by its watches only.
    pub async fn start(prefix: &str) -> Self {
        Self::with_emulator(prefix, start_emulator().await).await
    }

    /// The scene around `emulator`, with the operator woken by its watches only.
    pub async fn with_emulator(prefix: &str, emulator: RunningEmulator) -> Self {
        let scene = Self::without_operator(prefix, emulator).await;
        scene.run_operator(|_| {}).await;
        scene
    }

    /// The scene around `emulator`, for a test that starts the operator itself.
    pub async fn without_operator(prefix: &str, emulator: RunningEmulator) -> Self {
        let client = cluster_client().await;
        let namespace = TestNamespace::create(&client, prefix).await;
        let slb = slb_client(&emulator);
        Self {
            client,
            namespace,
            emulator,
            slb,
            operator: std::sync::Mutex::default(),
        }
    }

    pub fn ns(&self) -> &str {
        &self.namespace.name
    }

    pub fn slb(&self) -> &dyn SlbApi {
        self.slb.as_ref()
    }

    /// The API of `K` in the test's namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), self.ns())
    }

    /// Stops the operator if one runs, then starts it again with the test configuration (a resync
    /// period longer than any test) as `configure` changes it.
    pub async fn run_operator(&self, configure: impl FnOnce(&mut Config)) {
        self.stop_operator().await;
        let operator =
            Operator::start_with(&self.client, &self.emulator, self.ns(), configure).await;
        *self.operator.lock().unwrap() = Some(operator);
    }

    /// Stops the operator and runs it again with a resync every `period`.
    pub async fn run_operator_resyncing(&self, period: Duration) {
        self.run_operator(|config| config.resync_period = period)
            .await;
    }

    /// Stops the operator, so that nothing of it acts after this returns.
    pub async fn stop_operator(&self) {
        let running = self.operator.lock().unwrap().take();
        if let Some(operator) = running {
            operator.stop().await;
        }
    }

    /// Waits until the Events of the test's namespace include one with `reason`.
    pub async fn wait_for_event(&self, reason: &str, timeout: Duration) {
        eventually(&format!("a {reason} event"), timeout, || async {
            let reasons = event_reasons(&self.client, self.ns()).await;
            reasons.iter().any(|r| r == reason).then_some(())
        })
        .await;
    }

    /// Asserts that the Events of the test's namespace include each of `reasons`.
    pub async fn assert_events(&self, reasons: &[&str]) {
        let seen = event_reasons(&self.client, self.ns()).await;
        for reason in reasons {
            assert!(
                seen.iter().any(|r| r == reason),
                "no {reason} event in {seen:?}"
            );
        }
    }

    /// Stops the operator and deletes the namespace.
    pub async fn end(self) {
        self.stop_operator().await;
        self.namespace.delete().await;
    }
}

/// The operator binary, as its own process (so that a test can SIGKILL it), watching `namespace` of
/// the local control plane, against the emulator at `emulator_url`, without leader election.
pub fn spawn_operator(
    emulator_url: &str,
    namespace: &str,
    cluster_id: &str,
) -> tokio::process::Child {
    spawn_operator_with(emulator_url, namespace, cluster_id, &[])
}

/// [`spawn_operator`], with `extra` flags.
pub fn spawn_operator_with(
    emulator_url: &str,
    namespace: &str,
    cluster_id: &str,
    extra: &[&str],
) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_slb-operator"))
        .args(["run", "--endpoint", emulator_url, "--region", REGION])
        .args(["--cluster-id", cluster_id, "--watch-namespaces", namespace])
        .args(["--metrics-addr", "127.0.0.1:0", "--leader-elect", "false"])
        .args(extra)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the operator binary starts")
}
