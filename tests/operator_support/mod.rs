//! Shared by the operator's cluster tests: a client of the local control plane (KUBECONFIG, from
//! `hack/cluster.sh env`), the CRDs installed, a namespace per test, an in-process slb-emulator and an
//! in-process operator watching only that namespace.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, dead_code)]

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client};
use prometheus_client::registry::Registry;
use serde_json::json;
use slb_api::{ClientConfig, Credentials, SlbApi};
use slb_emulator::{
    Config as EmulatorConfig, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, EcsInstance, Emulator,
    Faults, RunningEmulator,
};
use slb_operator::context::{Config, Context, SlbClients};
use slb_operator::controller;
use slb_operator::crd::{
    SlbInstance, SlbListener, SlbMasterSlaveServerGroup, SlbRule, SlbVServerGroup, crds,
};
use slb_operator::metrics::Metrics;
use tokio::sync::watch;

pub const REGION: &str = "cn-hangzhou";

/// A client of the local control plane. Fails (never skips) when it is not there.
pub async fn cluster_client() -> Client {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: run `hack/cluster.sh up` and `eval \"$(hack/cluster.sh env)\"` first"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::try_default()
        .await
        .expect("a client for the local control plane");
    client
        .apiserver_version()
        .await
        .expect("the local control plane answers");
    install_crds(&client).await;
    client
}

/// Applies the generated CRDs and waits until they are established.
async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds() {
        let name = crd.metadata.name.clone().expect("a CRD name");
        api.patch(
            &name,
            &PatchParams::apply("slb-operator-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .expect("the CRD applies");
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .expect("the CRD is established in time")
        .expect("the CRD can be watched");
    }
}

/// A fresh namespace, deleted when the returned guard is dropped... by the test calling `delete`.
pub struct TestNamespace {
    pub name: String,
    client: Client,
}

impl TestNamespace {
    pub async fn create(client: &Client, prefix: &str) -> Self {
        let name = format!(
            "{prefix}-{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..8)
                .unwrap_or("x")
        );
        let api: Api<Namespace> = Api::all(client.clone());
        api.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .expect("a test namespace");
        Self {
            name,
            client: client.clone(),
        }
    }

    pub async fn delete(self) {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let _ = api.delete(&self.name, &DeleteParams::default()).await;
    }
}

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
    tokio::process::Command::new(env!("CARGO_BIN_EXE_slb-operator"))
        .args(["run", "--endpoint", emulator_url, "--region", REGION])
        .args(["--cluster-id", cluster_id, "--watch-namespaces", namespace])
        .args(["--metrics-addr", "127.0.0.1:0", "--leader-elect", "false"])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the operator binary starts")
}

/// Polls `probe` every 200 ms until it returns `Some`, or fails the test after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A custom resource of `kind` in `slb.operator.dev/v1alpha1`, from its spec.
pub fn object<K: serde::de::DeserializeOwned>(
    kind: &str,
    name: &str,
    spec: serde_json::Value,
) -> K {
    serde_json::from_value(json!({
        "apiVersion": "slb.operator.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

/// The Events in `namespace`.
pub async fn events(client: &Client, namespace: &str) -> Vec<k8s_openapi::api::events::v1::Event> {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), namespace);
    events
        .list(&kube::api::ListParams::default())
        .await
        .unwrap()
        .items
}

/// The Events in `namespace` with `reason` about the object `name`.
pub async fn events_about(
    client: &Client,
    namespace: &str,
    reason: &str,
    name: &str,
) -> Vec<k8s_openapi::api::events::v1::Event> {
    let mut events = events(client, namespace).await;
    events.retain(|e| {
        e.reason.as_deref() == Some(reason)
            && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
    });
    events
}

/// The reasons of the Events in `namespace`.
pub async fn event_reasons(client: &Client, namespace: &str) -> Vec<String> {
    let events = events(client, namespace).await;
    events
        .into_iter()
        .filter_map(|event| event.reason)
        .collect()
}

/// The IDs of every load balancer SLB holds for the account of `slb`.
pub async fn load_balancer_ids(slb: &dyn SlbApi) -> Vec<String> {
    slb.describe_load_balancers(&slb_api::DescribeLoadBalancersRequest::default())
        .await
        .expect("DescribeLoadBalancers")
        .load_balancers
        .into_iter()
        .map(|lb| lb.load_balancer_id)
        .collect()
}

/// A custom resource of this operator: its status, once written, carries the conditions.
pub trait Conditioned:
    kube::Resource<DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + serde::Serialize
    + std::fmt::Debug
{
    /// The conditions, none before the first status.
    fn conditions(&self) -> Vec<Condition>;
}

/// One impl for every kind: their statuses differ but for the `conditions` field they all have.
macro_rules! conditioned {
    ($($kind:ty),*) => {$(
        impl Conditioned for $kind {
            fn conditions(&self) -> Vec<Condition> {
                self.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default()
            }
        }
    )*};
}

conditioned!(
    SlbInstance,
    SlbListener,
    SlbVServerGroup,
    SlbMasterSlaveServerGroup,
    SlbRule
);

/// Creates the custom resource `name` with `spec`, and returns it as the apiserver stored it.
pub async fn create<K: Conditioned>(api: &Api<K>, name: &str, spec: serde_json::Value) -> K {
    api.create(&PostParams::default(), &object(&K::kind(&()), name, spec))
        .await
        .unwrap()
}

/// Waits until `name` is Ready for its current generation.
pub async fn wait_ready<K: Conditioned>(api: &Api<K>, name: &str, timeout: Duration) -> K {
    eventually(&format!("{name} to be Ready"), timeout, || async {
        let object = api.get(name).await.ok()?;
        slb_operator::conditions::is_ready(&object.conditions(), object.meta().generation)
            .then_some(object)
    })
    .await
}

/// Waits until the Ready condition of `name` is one that `wanted` accepts, and returns it.
pub async fn wait_ready_condition<K: Conditioned>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    wanted: impl Fn(&Condition) -> bool,
) -> Condition {
    eventually(
        &format!("the Ready condition of {name}"),
        timeout,
        || async {
            let object = api.get(name).await.ok()?;
            object
                .conditions()
                .into_iter()
                .find(|c| c.type_ == "Ready" && wanted(c))
        },
    )
    .await
}

/// Waits until `name` is Ready=False with `reason`, and returns the condition's message.
pub async fn wait_not_ready<K: Conditioned>(
    api: &Api<K>,
    name: &str,
    reason: &str,
    timeout: Duration,
) -> String {
    wait_ready_condition(api, name, timeout, |c| {
        c.status == "False" && c.reason == reason
    })
    .await
    .message
}

/// Creates the SlbInstance `name` with `spec` and returns its load balancer ID once it is Ready.
pub async fn ready_instance(
    client: &Client,
    namespace: &str,
    name: &str,
    spec: serde_json::Value,
    timeout: Duration,
) -> String {
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    create(&api, name, spec).await;
    let ready = wait_ready(&api, name, timeout).await;
    ready.status.unwrap().load_balancer_id.unwrap()
}

/// Waits until `name` is gone from the apiserver.
pub async fn gone<K>(api: &Api<K>, name: &str, timeout: Duration)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    eventually(&format!("{name} to be gone"), timeout, || async {
        api.get_opt(name).await.unwrap().is_none().then_some(())
    })
    .await;
}

/// Deletes `name` and waits until it is gone (its finalizers done).
pub async fn delete_and_wait<K>(api: &Api<K>, name: &str, timeout: Duration)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.delete(name, &DeleteParams::default()).await.unwrap();
    gone(api, name, timeout).await;
}

/// A load balancer made outside the operator, named `name`.
pub async fn made_by_hand(slb: &dyn SlbApi, name: &str) -> slb_api::CreateLoadBalancerResponse {
    slb.create_load_balancer(&slb_api::CreateLoadBalancerRequest {
        load_balancer_name: Some(name.into()),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// The vServer groups SLB holds on the load balancer `lb`.
pub async fn vserver_groups(slb: &dyn SlbApi, lb: &str) -> Vec<slb_api::VServerGroupSummary> {
    slb.describe_vserver_groups(&slb_api::DescribeVServerGroupsRequest {
        load_balancer_id: lb.to_owned(),
    })
    .await
    .unwrap()
    .v_server_groups
}

/// The Deployment `web` (pods labelled `app=web`) that [`scale`] and [`ready_pods_per_instance`] use.
pub async fn create_deployment(client: &Client, namespace: &str, replicas: i32) {
    let labels = json!({"app": "web"});
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), namespace);
    let deployment = json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                // The image is never pulled: kwok plays the kubelet.
                "spec": {"containers": [{"name": "web", "image": "example.invalid/web:1"}]}
            }
        }
    });
    create_object(&deployments, deployment).await;
}

/// Scales the Deployment `web` in `namespace`.
pub async fn scale(client: &Client, namespace: &str, replicas: i32) {
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), namespace);
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"spec": {"replicas": replicas}})),
        )
        .await
        .unwrap();
}

/// How many Ready pods labelled `app=web` each kwok node hosts, by the node's ECS instance ID
/// (`kwok-node-N` has providerID `…i-000N`). Terminating pods are left out.
pub async fn ready_pods_per_instance(
    client: &Client,
    namespace: &str,
) -> std::collections::BTreeMap<String, u32> {
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
    let mut counts = std::collections::BTreeMap::new();
    for pod in pods
        .list(&kube::api::ListParams::default().labels("app=web"))
        .await
        .unwrap()
    {
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        if !ready || pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let node = pod.spec.and_then(|s| s.node_name).unwrap_or_default();
        let number: u32 = node
            .trim_start_matches("kwok-node-")
            .parse()
            .expect("a kwok node");
        *counts.entry(format!("i-{number:04}")).or_insert(0) += 1;
    }
    counts
}

/// Every SLB object the emulator holds, as (kind, id), across its accounts.
pub fn slb_objects(state: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    let mut objects = std::collections::BTreeSet::new();
    let Some(accounts) = state["accounts"].as_object() else {
        return objects;
    };
    for account in accounts.values() {
        for kind in ["load_balancers", "server_certificates", "ca_certificates"] {
            if let Some(map) = account[kind].as_object() {
                objects.extend(map.keys().map(|id| (kind.to_owned(), id.clone())));
            }
        }
    }
    objects
}

/// A self-signed certificate and its key, as PEM, from the `openssl` CLI.
pub fn self_signed(dir: &std::path::Path, common_name: &str) -> (String, String) {
    let key = dir.join(format!("{common_name}.key"));
    let certificate = dir.join(format!("{common_name}.crt"));
    let output = std::process::Command::new("openssl")
        .args(["req", "-x509", "-nodes", "-days", "1", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-subj"])
        .arg(format!("/CN={common_name}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        std::fs::read_to_string(certificate).unwrap(),
        std::fs::read_to_string(key).unwrap(),
    )
}

pub fn tls_secret(
    name: &str,
    (certificate, key): &(String, String),
) -> k8s_openapi::api::core::v1::Secret {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": certificate, "tls.key": key},
    }))
    .unwrap()
}

/// Creates the Service `name` in `namespace` with these annotations and spec.
pub async fn create_service(
    client: &Client,
    namespace: &str,
    name: &str,
    annotations: serde_json::Value,
    spec: serde_json::Value,
) -> k8s_openapi::api::core::v1::Service {
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(client.clone(), namespace);
    services
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": name, "annotations": annotations},
                "spec": spec,
            }))
            .unwrap(),
        )
        .await
        .unwrap()
}

/// SLB's attributes of the load balancer `id`, `None` when SLB does not know it.
pub async fn load_balancer(
    slb: &dyn SlbApi,
    id: &str,
) -> Option<slb_api::DescribeLoadBalancerAttributeResponse> {
    slb.describe_load_balancer_attribute(&slb_api::DescribeLoadBalancerAttributeRequest {
        load_balancer_id: id.to_owned(),
        ..Default::default()
    })
    .await
    .ok()
}

/// SLB's attributes of the load balancer `id`, which must exist.
pub async fn attribute(
    slb: &dyn SlbApi,
    id: &str,
) -> slb_api::DescribeLoadBalancerAttributeResponse {
    load_balancer(slb, id)
        .await
        .expect("the load balancer exists")
}

/// The actions of the successful state-changing calls the emulator logged, after the first `skip`.
pub fn writes_after(emulator: &RunningEmulator, skip: u64) -> Vec<String> {
    let mut writes: Vec<String> = emulator
        .calls()
        .into_iter()
        .filter(|call| call.write)
        .map(|call| call.action)
        .collect();
    writes.drain(..skip as usize);
    writes
}

/// The listeners of a load balancer, by port.
pub fn listeners(
    lb: &slb_api::DescribeLoadBalancerAttributeResponse,
) -> std::collections::BTreeMap<u16, slb_api::ListenerProtocol> {
    lb.listener_ports_and_protocol
        .iter()
        .filter_map(|l| Some((l.listener_port?, l.listener_protocol?)))
        .collect()
}

/// The first ingress address in a Service's status.
pub fn ingress_ip(service: &k8s_openapi::api::core::v1::Service) -> Option<String> {
    service
        .status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?
        .ip
        .clone()
}

/// The ECS instances i-0001..i-0040, of which the kwok nodes are i-0001..i-0003.
pub fn ecs_inventory() -> Vec<String> {
    (1..=40).map(|i| format!("i-{i:04}")).collect()
}

/// Merge-patches `name` with `patch`.
pub async fn merge_patch<K>(api: &Api<K>, name: &str, patch: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap()
}

/// Merge-patches the spec of `name` with `spec`.
pub async fn patch_spec<K>(api: &Api<K>, name: &str, spec: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    merge_patch(api, name, json!({ "spec": spec })).await
}

/// Merge-patches the annotations of `name` with `annotations` (`null` removes one).
pub async fn patch_annotations<K>(api: &Api<K>, name: &str, annotations: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    merge_patch(api, name, json!({"metadata": {"annotations": annotations}})).await
}

/// SLB's attributes of a listener, one function per protocol (each has its own action), `None`
/// when there is no such listener.
macro_rules! listener_attribute {
    ($($name:ident: $describe:ident($request:ident) -> $attribute:ident;)*) => {$(
        pub async fn $name(slb: &dyn SlbApi, lb: &str, port: u16) -> Option<slb_api::$attribute> {
            slb.$describe(&slb_api::$request {
                load_balancer_id: lb.into(),
                listener_port: port,
            })
            .await
            .ok()
        }
    )*};
}

listener_attribute! {
    http_listener: describe_load_balancer_http_listener_attribute(
        DescribeLoadBalancerHTTPListenerAttributeRequest
    ) -> HttpListenerAttribute;
    https_listener: describe_load_balancer_https_listener_attribute(
        DescribeLoadBalancerHTTPSListenerAttributeRequest
    ) -> HttpListenerAttribute;
    tcp_listener: describe_load_balancer_tcp_listener_attribute(
        DescribeLoadBalancerTCPListenerAttributeRequest
    ) -> Layer4ListenerAttribute;
    udp_listener: describe_load_balancer_udp_listener_attribute(
        DescribeLoadBalancerUDPListenerAttributeRequest
    ) -> Layer4ListenerAttribute;
}

/// The IDs and names of the server certificates in SLB.
pub async fn server_certificates(slb: &dyn SlbApi) -> Vec<(String, String)> {
    slb.describe_server_certificates(&slb_api::DescribeServerCertificatesRequest::default())
        .await
        .unwrap()
        .server_certificates
        .into_iter()
        .map(|c| (c.server_certificate_id, c.server_certificate_name))
        .collect()
}

/// The IDs of the server certificates in SLB.
pub async fn server_certificate_ids(slb: &dyn SlbApi) -> Vec<String> {
    let certificates = server_certificates(slb).await;
    certificates.into_iter().map(|(id, _)| id).collect()
}

/// The IDs of the vServer groups SLB holds on the load balancer `lb`.
pub async fn vserver_group_ids(slb: &dyn SlbApi, lb: &str) -> Vec<String> {
    let groups = vserver_groups(slb, lb).await;
    groups.into_iter().map(|g| g.v_server_group_id).collect()
}

/// Creates the SlbVServerGroup `name` on the instance `lb`, with the one backend i-0001:80, and
/// returns its ID once it is Ready.
pub async fn ready_one_backend_group(scene: &Scene, name: &str, timeout: Duration) -> String {
    let api: Api<SlbVServerGroup> = scene.api();
    let spec =
        json!({"instanceRef": {"name": "lb"}, "backends": [{"serverId": "i-0001", "port": 80}]});
    create(&api, name, spec).await;
    let ready = wait_ready(&api, name, timeout).await;
    ready.status.unwrap().v_server_group_id.unwrap()
}

/// Creates the HTTP SlbListener `http` on port 80 of the instance `lb`, sending its traffic to the
/// group `group`.
pub async fn create_http_listener(api: &Api<SlbListener>, group: &str) -> SlbListener {
    let spec = json!({"instanceRef": {"name": "lb"}, "listenerPort": 80, "protocol": "HTTP",
                      "backendServerPort": 80, "vServerGroupRef": {"name": group}});
    create(api, "http", spec).await
}

/// The tags of the load balancer `id`, by key.
pub async fn load_balancer_tags(
    slb: &dyn SlbApi,
    id: &str,
) -> std::collections::BTreeMap<String, String> {
    slb.describe_tags(&slb_api::DescribeTagsRequest {
        load_balancer_id: Some(id.to_owned()),
        ..Default::default()
    })
    .await
    .unwrap()
    .tag_sets
    .into_iter()
    .map(|t| (t.tag_key, t.tag_value.unwrap_or_default()))
    .collect()
}

/// Writes the TLS Secret `name` with the certificate and key `pair`: creates it, or replaces its
/// contents as cert-manager does when it renews a certificate.
pub async fn apply_tls_secret(
    client: &Client,
    namespace: &str,
    name: &str,
    pair: &(String, String),
) {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), namespace);
    secrets
        .patch(
            name,
            &PatchParams::apply("slb-operator-tests").force(),
            &Patch::Apply(&tls_secret(name, pair)),
        )
        .await
        .unwrap();
}

/// Deletes the Service `name` and waits until it is gone.
pub async fn delete_service(client: &Client, namespace: &str, name: &str, timeout: Duration) {
    let services: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(client.clone(), namespace);
    delete_and_wait(&services, name, timeout).await;
}

/// The operator's LoadBalancerReady condition on a Service: status, reason and message.
pub fn load_balancer_ready(
    service: &k8s_openapi::api::core::v1::Service,
) -> Option<(String, String, String)> {
    let conditions = service.status.as_ref()?.conditions.as_ref()?;
    let condition = conditions
        .iter()
        .find(|c| c.type_ == slb_operator::controller::service::LOAD_BALANCER_READY)?;
    Some((
        condition.status.clone(),
        condition.reason.clone(),
        condition.message.clone(),
    ))
}

/// Waits until the test's namespace holds no `K` at all.
pub async fn none_left<K>(api: &Api<K>, timeout: Duration)
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let what = format!("every {} to be gone", K::kind(&()));
    eventually(&what, timeout, || async {
        let listed = api.list(&kube::api::ListParams::default()).await.ok()?;
        listed.items.is_empty().then_some(())
    })
    .await;
}

/// Deletes the Services `names` and waits until none is left in the namespace.
pub async fn delete_services(
    services: &Api<k8s_openapi::api::core::v1::Service>,
    names: &[&str],
    timeout: Duration,
) {
    for name in names {
        services
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    none_left(services, timeout).await;
}

/// Creates the object that `value` describes, and returns it as the apiserver stored it.
pub async fn create_object<K>(api: &Api<K>, value: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let object: K = serde_json::from_value(value).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap()
}

/// Who holds the Lease `name`, if anyone does.
pub async fn lease_holder(
    leases: &Api<k8s_openapi::api::coordination::v1::Lease>,
    name: &str,
) -> Option<String> {
    leases
        .get_opt(name)
        .await
        .ok()??
        .spec?
        .holder_identity
        .filter(|h| !h.is_empty())
}
