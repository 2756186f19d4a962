//! The scale benchmark (issue 12): annotated Services of type LoadBalancer, each over its own
//! Deployment, against the operator binary (a child process, so its memory and CPU are its own) and
//! an in-process slb-emulator with a QPS limit and added latency. It measures
//! (a) apply → every Service has its address and `LoadBalancerReady`, against the lower bound the
//!     limit allows for the minimal calls;
//! (b) EndpointSlice change → the group's next backend call at the emulator, while Deployments roll;
//! (c) the calls made per action against the minimal ones;
//! (d) the operator's peak RSS and CPU seconds;
//! (e) writes and describes during idle resync periods;
//! (f) an operator restart: time until every SLB object has been described again, and its writes;
//! (g) nodes added at once: time until every Cluster-mode group holds them.
//!
//! `benches/scale.rs` runs it at full size (`hack/bench-scale.sh`); `tests/operator_scale.rs` runs a
//! small version in the test suite so that the harness cannot rot.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use slb_emulator::{
    CallRecord, Config as EmulatorConfig, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Emulator,
    Faults, RunningEmulator,
};
use slb_operator::controller::service::LOAD_BALANCER_READY;
use slb_operator::controller::vserver_group::{
    BackendChoice, SERVICE_NAME_LABEL, ServiceBackends, service_backends,
};
use slb_operator::crd::{SlbVServerGroup, Weighting};

use super::operator_support::{REGION, TestNamespace};

/// SLB takes at most this many backends per call.
const SERVERS_PER_CALL: u64 = 20;
const ANNOTATION_PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";
/// The calls that change a VServer group's backends.
const BACKEND_ACTIONS: [&str; 3] = [
    "AddVServerGroupBackendServers",
    "RemoveVServerGroupBackendServers",
    "ModifyVServerGroupBackendServers",
];

/// How the emulator limits the account.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// This many calls per second of each action (SLB's own limit).
    PerAction(u32),
    /// This many calls per second of all actions together (an account shared with other tools).
    Global(u32),
}

impl Limit {
    fn qps(self) -> u32 {
        match self {
            Self::PerAction(qps) | Self::Global(qps) => qps,
        }
    }

    /// The least time `calls` (per action) take under this limit: the busiest action's calls over
    /// its QPS, or all calls over the global QPS.
    pub fn lower_bound(self, calls: &BTreeMap<String, u64>) -> Duration {
        let needed = match self {
            Self::PerAction(_) => calls.values().copied().max().unwrap_or(0),
            Self::Global(_) => calls.values().sum(),
        };
        Duration::from_secs_f64(needed as f64 / f64::from(self.qps()))
    }

    pub fn describe(self) -> String {
        match self {
            Self::PerAction(qps) => format!("{qps} QPS per action"),
            Self::Global(qps) => format!("{qps} QPS for all actions"),
        }
    }
}

/// What one run does. Phases with a zero count or duration are left out.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub services: usize,
    pub pods_per_service: i32,
    pub limit: Limit,
    pub latency_ms: u64,
    /// The operator's `--concurrency`.
    pub concurrency: u16,
    /// (b): how many Deployments roll at once.
    pub rolling_deployments: usize,
    /// The operator's `--resync-period` for (a), (b), (f) and (g).
    pub resync: Duration,
    /// (e): how long the operator stays idle, and its `--resync-period` then (a new process, so
    /// that a short resync does not crowd the other phases as it would not in production).
    pub idle: Duration,
    pub idle_resync: Duration,
    /// (f)
    pub restart: bool,
    /// (g): how many nodes are added at once.
    pub nodes_added: usize,
    /// How long any one wait may take before the run fails.
    pub timeout: Duration,
    /// Where the operator's logs go.
    pub log_dir: PathBuf,
}

/// What one run measured.
#[derive(Debug)]
pub struct Report {
    pub scenario: Scenario,
    pub nodes: usize,
    pub ports: usize,
    /// (a)
    pub converged: Duration,
    pub minimal_calls: BTreeMap<String, u64>,
    /// (c): calls per action until (a), throttled ones included.
    pub calls: BTreeMap<String, u64>,
    pub throttled: u64,
    /// (b)
    pub endpoint_latency: Option<Latency>,
    /// (d): the first operator process, up to the restart.
    pub usage: Usage,
    /// (e)
    pub idle: Option<Idle>,
    /// (f)
    pub restart: Option<Restart>,
    /// (g)
    pub nodes_added: Option<NodesAdded>,
    /// Calls per second from the apply on: (all, throttled, the busiest action's).
    pub timeline: Vec<(u32, u32, u32)>,
    /// Seconds from the apply at which each phase began.
    pub phases: Vec<(String, f64)>,
}

#[derive(Debug)]
pub struct Latency {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub samples: usize,
    /// Changes of the wanted backends that no backend call followed.
    pub unmatched: usize,
    pub backend_calls: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub peak_rss_mib: f64,
    pub cpu_seconds: f64,
}

#[derive(Debug)]
pub struct Idle {
    pub duration: Duration,
    pub writes: u64,
    pub describes: u64,
    pub throttled: u64,
}

#[derive(Debug)]
pub struct Restart {
    pub verified: Duration,
    pub lower_bound: Duration,
    pub needed_describes: BTreeMap<String, u64>,
    pub writes: u64,
    pub calls: BTreeMap<String, u64>,
    pub usage: Usage,
}

#[derive(Debug)]
pub struct NodesAdded {
    pub added: usize,
    pub groups: usize,
    pub done: Duration,
    pub lower_bound: Duration,
    pub needed: BTreeMap<String, u64>,
    pub calls: BTreeMap<String, u64>,
}

/// The operator binary, run against the emulator and watching one namespace.
pub struct OperatorProcess {
    child: tokio::process::Child,
}

impl OperatorProcess {
    pub fn spawn(
        emulator: &RunningEmulator,
        namespace: &str,
        scenario: &Scenario,
        resync: Duration,
        log: &Path,
    ) -> Self {
        let log = std::fs::File::create(log).expect("the operator's log file");
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_slb-operator"))
            .arg("run")
            .arg(format!("--endpoint={}", emulator.url()))
            .arg("--cluster-id=scale-bench")
            .arg(format!("--region={REGION}"))
            .arg(format!("--watch-namespace={namespace}"))
            .arg(format!("--resync-period={}s", resync.as_secs()))
            .arg(format!("--concurrency={}", scenario.concurrency))
            .arg("--metrics-addr=127.0.0.1:0")
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", DEMO_ACCESS_KEY_ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", DEMO_ACCESS_KEY_SECRET)
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("the operator binary starts");
        Self { child }
    }

    /// Peak resident memory (VmHWM) and CPU time (user + system) so far.
    pub fn usage(&self) -> Usage {
        let pid = self.child.id().expect("the operator is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let peak_kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Fields after the command name (which may hold spaces): utime and stime are the 12th and
        // 13th, in clock ticks of 1/100 s (USER_HZ on Linux).
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        Usage {
            peak_rss_mib: peak_kib / 1024.0,
            cpu_seconds: ticks / 100.0,
        }
    }

    /// SIGTERM, then waits for the exit (SIGKILL after 30 s).
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

fn log(message: impl AsRef<str>) {
    eprintln!("[scale {}] {}", clock_hms(), message.as_ref());
}

fn clock_hms() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Polls `probe` every `every` until it returns `Some`, or panics after `timeout` saying `what`.
async fn poll<T, F, Fut>(what: &str, every: Duration, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(every).await;
    }
}

pub async fn start_emulator(scenario: &Scenario) -> RunningEmulator {
    let (qps_limit, qps_limit_per_action) = match scenario.limit {
        Limit::PerAction(qps) => (None, Some(qps)),
        Limit::Global(qps) => (Some(qps), None),
    };
    Emulator::start(EmulatorConfig {
        faults: Faults {
            latency_ms: scenario.latency_ms,
            qps_limit,
            qps_limit_per_action,
            ..Faults::default()
        },
        // Every call of the run, for the per-second plot and the per-phase counts.
        call_log_capacity: 2_000_000,
        call_log_max_bytes: 1 << 30,
        ..EmulatorConfig::for_tests()
    })
    .await
    .expect("the emulator starts")
}

/// The ports of Service `index`: one to three, the third UDP.
fn service_ports(index: usize) -> Vec<serde_json::Value> {
    let all = [
        json!({"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}),
        json!({"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}),
        json!({"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"}),
    ];
    all[..index % 3 + 1].to_vec()
}

/// Even Services keep traffic on the nodes of their pods (Local), odd ones use every node (Cluster).
fn is_local(index: usize) -> bool {
    index.is_multiple_of(2)
}

fn app(index: usize) -> String {
    format!("app-{index:03}")
}

async fn create_deployments(client: &Client, namespace: &str, scenario: &Scenario) {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    futures::stream::iter(0..scenario.services)
        .for_each_concurrent(8, |index| {
            let api = api.clone();
            async move {
                let labels = json!({"app": app(index)});
                let deployment = json!({
                    "metadata": {"name": app(index)},
                    "spec": {
                        "replicas": scenario.pods_per_service,
                        "selector": {"matchLabels": labels},
                        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                        "template": {
                            "metadata": {"labels": labels},
                            // Never pulled: kwok plays the kubelet.
                            "spec": {"containers": [{"name": "app", "image": "example.invalid/app:1"}]}
                        }
                    }
                });
                api.create(
                    &PostParams::default(),
                    &serde_json::from_value(deployment).unwrap(),
                )
                .await
                .expect("a Deployment");
            }
        })
        .await;
}

fn pod_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn ready_pods(client: &Client, namespace: &str) -> Vec<Pod> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(pod_ready)
        .collect()
}

async fn ready_nodes(client: &Client) -> BTreeSet<String> {
    let api: Api<Node> = Api::all(client.clone());
    api.list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|node| {
            node.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .filter_map(|node| node.spec?.provider_id)
        .filter_map(|id| Some(id.split_once('.')?.1.to_owned()))
        .collect()
}

fn service(index: usize) -> Service {
    let name = app(index);
    serde_json::from_value(json!({
        "metadata": {
            "name": name,
            "annotations": {
                format!("{ANNOTATION_PREFIX}spec"): "slb.s1.small",
                format!("{ANNOTATION_PREFIX}scheduler"): "wrr",
            }
        },
        "spec": {
            "type": "LoadBalancer",
            "loadBalancerClass": "slb.operator.dev/slb",
            "externalTrafficPolicy": if is_local(index) { "Local" } else { "Cluster" },
            "selector": {"app": name},
            "ports": service_ports(index),
        }
    }))
    .unwrap()
}

/// The writes SLB needs for Service `index`, per action: the load balancer, and per port a group with
/// its backends (in calls of 20), a listener and its start.
fn minimal_writes(
    index: usize,
    local_backends: usize,
    cluster_backends: usize,
    calls: &mut BTreeMap<String, u64>,
) {
    let mut add = |action: &str, count: u64| {
        if count > 0 {
            *calls.entry(action.to_owned()).or_insert(0) += count;
        }
    };
    add("CreateLoadBalancer", 1);
    let backends = if is_local(index) {
        local_backends
    } else {
        cluster_backends
    } as u64;
    for port in service_ports(index) {
        add("CreateVServerGroup", 1);
        add(
            "AddVServerGroupBackendServers",
            backends.div_ceil(SERVERS_PER_CALL).saturating_sub(1),
        );
        match port["protocol"].as_str() {
            Some("UDP") => add("CreateLoadBalancerUDPListener", 1),
            _ => add("CreateLoadBalancerTCPListener", 1),
        }
        add("StartLoadBalancerListener", 1);
    }
}

fn is_converged(service: &Service) -> bool {
    let status = service.status.as_ref();
    let has_address = status
        .and_then(|s| s.load_balancer.as_ref()?.ingress.as_ref())
        .is_some_and(|ingress| ingress.iter().any(|i| i.ip.is_some()));
    let ready = status.and_then(|s| s.conditions.as_ref()).is_some_and(|c| {
        c.iter()
            .any(|c| c.type_ == LOAD_BALANCER_READY && c.status == "True")
    });
    has_address && ready
}

fn calls_by_action(records: &[CallRecord]) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    for record in records {
        *calls.entry(record.action.clone()).or_insert(0) += 1;
    }
    calls
}

fn calls_since(emulator: &RunningEmulator, sequence: u64) -> Vec<CallRecord> {
    emulator
        .calls()
        .into_iter()
        .filter(|record| record.sequence > sequence)
        .collect()
}

fn last_sequence(emulator: &RunningEmulator) -> u64 {
    emulator.calls().last().map_or(0, |record| record.sequence)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Runs the scenario in a fresh namespace of the cluster `client` reaches; panics when a phase does
/// not finish within `scenario.timeout`.
pub async fn run(client: &Client, scenario: Scenario) -> Report {
    std::fs::create_dir_all(&scenario.log_dir).unwrap();
    let namespace = TestNamespace::create(client, "scale").await;
    let ns = namespace.name.clone();
    let emulator = start_emulator(&scenario).await;
    let nodes = ready_nodes(client).await;
    log(format!(
        "namespace {ns}, {} ready nodes, {} Services of {} pods, {}",
        nodes.len(),
        scenario.services,
        scenario.pods_per_service,
        scenario.limit.describe()
    ));

    // The pods first, so that the clock measures the operator and not the scheduler.
    create_deployments(client, &ns, &scenario).await;
    let pods_wanted = scenario.services * usize::try_from(scenario.pods_per_service).unwrap();
    let pods = poll(
        "every pod to be Ready",
        Duration::from_secs(2),
        scenario.timeout,
        || async {
            let pods = ready_pods(client, &ns).await;
            (pods.len() == pods_wanted).then_some(pods)
        },
    )
    .await;
    log(format!("{pods_wanted} pods Ready"));
    let mut nodes_of_app: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pod in &pods {
        nodes_of_app
            .entry(pod.labels().get("app").cloned().unwrap_or_default())
            .or_default()
            .insert(
                pod.spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_default(),
            );
    }

    let operator_log = |n: u32| scenario.log_dir.join(format!("operator-{ns}-{n}.log"));
    let operator =
        OperatorProcess::spawn(&emulator, &ns, &scenario, scenario.resync, &operator_log(1));
    // Its watches listed and synced before the clock starts (nothing to do yet: no Service).
    tokio::time::sleep(Duration::from_secs(3)).await;

    // (a) and (c)
    let mut minimal_calls = BTreeMap::new();
    for index in 0..scenario.services {
        let local = nodes_of_app.get(&app(index)).map_or(0, BTreeSet::len);
        minimal_writes(index, local, nodes.len(), &mut minimal_calls);
    }
    let ports = (0..scenario.services).map(|i| service_ports(i).len()).sum();
    let start_sequence = last_sequence(&emulator);
    let started = Instant::now();
    let started_ms = now_ms();
    let mut phases = vec![("apply".to_owned(), 0.0)];
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    futures::stream::iter(0..scenario.services)
        .for_each_concurrent(16, |index| {
            let services = services.clone();
            async move {
                services
                    .create(&PostParams::default(), &service(index))
                    .await
                    .expect("a Service");
            }
        })
        .await;
    log("Services applied");
    let converged = poll(
        "every Service to have its address and LoadBalancerReady",
        Duration::from_secs(1),
        scenario.timeout,
        || async {
            let list = services.list(&ListParams::default()).await.ok()?;
            let ready = list.items.iter().filter(|s| is_converged(s)).count();
            (ready == scenario.services).then(|| started.elapsed())
        },
    )
    .await;
    let creation_calls = calls_since(&emulator, start_sequence);
    let calls = calls_by_action(&creation_calls);
    let throttled = creation_calls
        .iter()
        .filter(|r| r.code == "Throttling")
        .count() as u64;
    log(format!(
        "(a) converged after {converged:.1?}; {} calls, {throttled} throttled",
        creation_calls.len()
    ));

    // (b)
    let endpoint_latency = if scenario.rolling_deployments > 0 {
        phases.push(("roll".into(), started.elapsed().as_secs_f64()));
        Some(roll(client, &ns, &emulator, &scenario).await)
    } else {
        None
    };

    // (d), then (f)
    let usage = operator.usage();
    log(format!("(d) {usage:?}"));
    let mut operator = operator;
    let restart = if scenario.restart {
        phases.push(("restart".into(), started.elapsed().as_secs_f64()));
        operator.stop().await;
        let (report, restarted) =
            restart_and_verify(&emulator, &ns, &scenario, scenario.resync, &operator_log(2)).await;
        operator = restarted;
        Some(report)
    } else {
        None
    };

    // (g)
    let nodes_added = if scenario.nodes_added > 0 {
        phases.push(("nodes".into(), started.elapsed().as_secs_f64()));
        Some(add_nodes(client, &emulator, &scenario, &nodes).await)
    } else {
        None
    };

    // (e), by a third process at the idle resync, after two resync periods: its first reconcile of
    // everything is a restart's, measured in (f). (Waiting for every object to be described again
    // can take long here: at a 1-minute resync, 500 Services ask for most of each describe quota.)
    let idle = if scenario.idle > Duration::ZERO {
        operator.stop().await;
        operator = OperatorProcess::spawn(
            &emulator,
            &ns,
            &scenario,
            scenario.idle_resync,
            &operator_log(3),
        );
        tokio::time::sleep(scenario.idle_resync * 2).await;
        phases.push(("idle".into(), started.elapsed().as_secs_f64()));
        let before = emulator.counters();
        log(format!(
            "idle for {:?} at a {:?} resync",
            scenario.idle, scenario.idle_resync
        ));
        tokio::time::sleep(scenario.idle).await;
        let after = emulator.counters();
        let throttled = |c: &slb_emulator::Counters| c.by_code.get("Throttling").copied();
        let idle = Idle {
            duration: scenario.idle,
            writes: after.writes - before.writes,
            describes: (after.calls - after.writes) - (before.calls - before.writes),
            throttled: throttled(&after).unwrap_or(0) - throttled(&before).unwrap_or(0),
        };
        log(format!("(e) {idle:?}"));
        Some(idle)
    } else {
        None
    };

    let timeline = timeline(&calls_since(&emulator, start_sequence), started_ms);

    // The Services go while the operator still runs, so their finalizers are honoured.
    log("deleting the namespace");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespace.delete().await;
    // At most a minute: the run's figures are in, and the benchmark's own control plane goes anyway.
    let gone = tokio::time::timeout(scenario.timeout.min(Duration::from_secs(60)), async {
        while namespaces.get_opt(&ns).await.ok().flatten().is_some() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
    .await;
    if gone.is_err() {
        log(format!("namespace {ns} still terminating"));
    }
    operator.stop().await;
    emulator.shutdown().await.unwrap();

    Report {
        scenario,
        nodes: nodes.len(),
        ports,
        converged,
        minimal_calls,
        calls,
        throttled,
        endpoint_latency,
        usage,
        idle,
        restart,
        nodes_added,
        timeline,
        phases,
    }
}

/// (b): rolls Deployments at once (a template change), and times each EndpointSlice change of their
/// Services to the next backend call of a group of that Service at the emulator.
async fn roll(
    client: &Client,
    ns: &str,
    emulator: &RunningEmulator,
    scenario: &Scenario,
) -> Latency {
    let rolled: Vec<String> = (0..scenario.rolling_deployments.min(scenario.services))
        .map(app)
        .collect();
    let group_service: BTreeMap<String, String> =
        Api::<SlbVServerGroup>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter_map(|group| {
                Some((
                    group.status?.v_server_group_id?,
                    group.spec.service_ref?.name,
                ))
            })
            .collect();

    // Only the EndpointSlice changes that change the backends the operator should set count: the
    // weights it computes (its own function) from the Service's slices and the nodes. The others
    // (an endpoint added not yet ready, say) need no call, and matching them with a later one
    // would time something else.
    let mut services = BTreeMap::new();
    for name in &rolled {
        let service = Api::<Service>::namespaced(client.clone(), ns)
            .get(name)
            .await
            .unwrap();
        services.insert(name.clone(), service);
    }
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let changes = std::sync::Arc::new(parking_lot::Mutex::new(Vec::<(String, u64)>::new()));
    let recorder = {
        let changes = changes.clone();
        let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), ns);
        let (synced_tx, synced_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut synced = Some(synced_tx);
            let mut slices_of: BTreeMap<String, BTreeMap<String, EndpointSlice>> = BTreeMap::new();
            let mut wanted: BTreeMap<String, Option<ServiceBackends>> = BTreeMap::new();
            let mut events = std::pin::pin!(watcher(slices, watcher::Config::default()));
            while let Some(event) = events.next().await {
                let (slice, deleted) = match event {
                    Ok(watcher::Event::InitDone) => {
                        if let Some(synced) = synced.take() {
                            let _ = synced.send(());
                        }
                        continue;
                    }
                    Ok(watcher::Event::Apply(slice) | watcher::Event::InitApply(slice)) => {
                        (slice, false)
                    }
                    Ok(watcher::Event::Delete(slice)) => (slice, true),
                    _ => continue,
                };
                let Some(name) = slice.labels().get(SERVICE_NAME_LABEL).cloned() else {
                    continue;
                };
                let Some(service) = services.get(&name) else {
                    continue;
                };
                let of_service = slices_of.entry(name.clone()).or_default();
                if deleted {
                    of_service.remove(&slice.name_any());
                } else {
                    of_service.insert(slice.name_any(), slice);
                }
                // Port 80, every Service's first: its weights are those of the other ports too.
                let choice = BackendChoice::new(80, Weighting::PodsPerNode);
                let current: Vec<EndpointSlice> = of_service.values().cloned().collect();
                let backends = service_backends(service, &choice, &current, &nodes).ok();
                let previous = wanted.insert(name.clone(), backends.clone());
                if synced.is_none() && previous.is_some_and(|p| p != backends) {
                    changes.lock().push((name, now_ms()));
                }
            }
        });
        synced_rx.await.expect("the EndpointSlice watch lists");
        task
    };

    let mark = last_sequence(emulator);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let stamp = now_ms().to_string();
    futures::future::join_all(rolled.iter().map(|name| {
        let deployments = deployments.clone();
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {"bench/rolled-at": stamp}}}}});
        async move {
            deployments
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .expect("the Deployment rolls");
        }
    }))
    .await;
    log(format!("rolling {} Deployments", rolled.len()));
    poll(
        "the rollouts to finish",
        Duration::from_secs(1),
        scenario.timeout,
        || async {
            for name in &rolled {
                let deployment = deployments.get(name).await.ok()?;
                let status = deployment.status?;
                let generation = deployment.metadata.generation?;
                let done = status.observed_generation == Some(generation)
                    && status.updated_replicas == Some(scenario.pods_per_service)
                    && status.ready_replicas == Some(scenario.pods_per_service)
                    && status.replicas == Some(scenario.pods_per_service);
                if !done {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;
    // Nodes that lost their pods drain at weight 0 before they are removed: wait until the backends
    // have been quiet for longer than the drain (30 s by default), so the idle phase starts idle.
    let quiet = Duration::from_secs(40);
    poll(
        "the backends to settle",
        Duration::from_secs(5),
        scenario.timeout,
        || async {
            let last = calls_since(emulator, mark)
                .into_iter()
                .filter(|r| BACKEND_ACTIONS.contains(&r.action.as_str()))
                .map(|r| r.arrived_ms)
                .max()?;
            (now_ms().saturating_sub(last) > quiet.as_millis() as u64).then_some(())
        },
    )
    .await;
    recorder.abort();

    let backend_calls: Vec<(String, u64)> = calls_since(emulator, mark)
        .into_iter()
        .filter(|r| r.code == "OK" && BACKEND_ACTIONS.contains(&r.action.as_str()))
        .filter_map(|r| {
            let service = group_service.get(r.parameters.get("VServerGroupId")?)?;
            Some((service.clone(), r.arrived_ms))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut unmatched = 0;
    for (service, changed_ms) in changes.lock().iter() {
        if !rolled.contains(service) {
            continue;
        }
        let next_call = backend_calls
            .iter()
            .filter(|(s, at)| s == service && *at >= *changed_ms)
            .map(|(_, at)| *at)
            .min();
        match next_call {
            Some(at) => latencies.push(Duration::from_millis(at - changed_ms)),
            None => unmatched += 1,
        }
    }
    latencies.sort();
    let latency = Latency {
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        samples: latencies.len(),
        unmatched,
        backend_calls: backend_calls.len() as u64,
    };
    log(format!("(b) {latency:?}"));
    latency
}

/// (f): a new operator process; waits until every load balancer, group and listener has been
/// described again.
async fn restart_and_verify(
    emulator: &RunningEmulator,
    ns: &str,
    scenario: &Scenario,
    resync: Duration,
    log_path: &Path,
) -> (Restart, OperatorProcess) {
    let mut objects: BTreeSet<(String, String)> = BTreeSet::new();
    let mut needed_describes: BTreeMap<String, u64> = BTreeMap::new();
    let mut need = |action: &str| *needed_describes.entry(action.to_owned()).or_insert(0) += 1;
    for (id, lb) in emulator.load_balancers() {
        objects.insert(("lb".into(), id.clone()));
        need("DescribeLoadBalancerAttribute");
        for group in lb["vserver_groups"]
            .as_object()
            .into_iter()
            .flat_map(|g| g.keys())
        {
            objects.insert(("group".into(), group.clone()));
            need("DescribeVServerGroupAttribute");
        }
        for (port, listener) in lb["listeners"].as_object().into_iter().flatten() {
            objects.insert(("listener".into(), format!("{id}:{port}")));
            let protocol = listener["protocol"]
                .as_str()
                .unwrap_or("tcp")
                .to_uppercase();
            need(&format!("DescribeLoadBalancer{protocol}ListenerAttribute"));
        }
    }
    let mark = last_sequence(emulator);
    let writes_before = emulator.counters().writes;
    let started_ms = now_ms();
    let operator = OperatorProcess::spawn(emulator, ns, scenario, resync, log_path);
    // The time is the arrival of the describe that completed the set, not when the poll saw it.
    let verified = poll(
        "every SLB object to be described again after the restart",
        Duration::from_secs(2),
        scenario.timeout,
        || async {
            let mut first_seen: BTreeMap<(String, String), u64> = BTreeMap::new();
            for record in calls_since(emulator, mark) {
                if record.code != "OK" || !record.action.starts_with("Describe") {
                    continue;
                }
                let p = &record.parameters;
                let object = match (
                    p.get("LoadBalancerId"),
                    p.get("ListenerPort"),
                    p.get("VServerGroupId"),
                ) {
                    (_, _, Some(group)) => ("group".to_owned(), group.clone()),
                    (Some(lb), Some(port), None) => ("listener".to_owned(), format!("{lb}:{port}")),
                    (Some(lb), None, None) => ("lb".to_owned(), lb.clone()),
                    _ => continue,
                };
                first_seen.entry(object).or_insert(record.arrived_ms);
            }
            let mut last = started_ms;
            for object in &objects {
                last = last.max(*first_seen.get(object)?);
            }
            Some(Duration::from_millis(last - started_ms))
        },
    )
    .await;
    // A little longer, so that writes right after the last describe are seen too.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let restart = Restart {
        verified,
        lower_bound: scenario.limit.lower_bound(&needed_describes),
        needed_describes,
        writes: emulator.counters().writes - writes_before,
        calls: calls_by_action(&calls_since(emulator, mark)),
        usage: operator.usage(),
    };
    log(format!(
        "(f) verified after {verified:.1?}, {} writes",
        restart.writes
    ));
    (restart, operator)
}

/// (g): `scenario.nodes_added` kwok nodes at once; waits until every Cluster-mode group holds them,
/// then deletes them again.
async fn add_nodes(
    client: &Client,
    emulator: &RunningEmulator,
    scenario: &Scenario,
    existing: &BTreeSet<String>,
) -> NodesAdded {
    let nodes: Api<Node> = Api::all(client.clone());
    let first = existing
        .iter()
        .filter_map(|id| id.strip_prefix("i-")?.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let numbers: Vec<usize> = (first..first + scenario.nodes_added).collect();
    let new_ids: BTreeSet<String> = numbers.iter().map(|n| format!("i-{n:04}")).collect();
    let cluster_groups = || {
        let mut groups: Vec<BTreeSet<String>> = Vec::new();
        for lb in emulator.load_balancers().values() {
            for group in lb["vserver_groups"]
                .as_object()
                .into_iter()
                .flat_map(|g| g.values())
            {
                let servers: BTreeSet<String> = group["servers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["server_id"].as_str().map(str::to_owned))
                    .collect();
                groups.push(servers);
            }
        }
        groups
    };
    // Cluster-mode groups hold every node; Local ones only those with pods (at most 10 of them).
    let cluster_group_count = cluster_groups()
        .iter()
        .filter(|servers| servers.len() == existing.len() && existing.len() > 10)
        .count();
    let needed: BTreeMap<String, u64> = [(
        "AddVServerGroupBackendServers".to_owned(),
        cluster_group_count as u64 * (scenario.nodes_added as u64).div_ceil(SERVERS_PER_CALL),
    )]
    .into();
    let mark = last_sequence(emulator);
    let started = Instant::now();
    futures::future::join_all(numbers.iter().map(|&n| {
        let nodes = nodes.clone();
        async move {
            nodes
                .create(&PostParams::default(), &kwok_node(n))
                .await
                .expect("a kwok node");
        }
    }))
    .await;
    log(format!(
        "added {} nodes; {cluster_group_count} Cluster-mode groups",
        numbers.len()
    ));
    let done = poll(
        "every Cluster-mode group to hold the new nodes",
        Duration::from_secs(1),
        scenario.timeout,
        || async {
            let holding = cluster_groups()
                .iter()
                .filter(|servers| new_ids.is_subset(servers))
                .count();
            (holding >= cluster_group_count).then(|| started.elapsed())
        },
    )
    .await;
    let report = NodesAdded {
        added: numbers.len(),
        groups: cluster_group_count,
        done,
        lower_bound: scenario.limit.lower_bound(&needed),
        needed,
        calls: calls_by_action(&calls_since(emulator, mark)),
    };
    log(format!("(g) {report:?}"));
    for n in numbers {
        let _ = nodes
            .delete(&format!("kwok-node-{n}"), &DeleteParams::default())
            .await;
    }
    // Gone from every group (after their drain) before the next phase, which must start idle.
    poll(
        "the removed nodes to leave every group",
        Duration::from_secs(2),
        scenario.timeout,
        || async {
            let left = cluster_groups()
                .iter()
                .all(|servers| servers.is_disjoint(&new_ids));
            left.then_some(())
        },
    )
    .await;
    log("the added nodes are gone from every group");
    report
}

/// A node kwok plays, as `hack/cluster.sh` makes them.
fn kwok_node(n: usize) -> Node {
    serde_json::from_value(json!({
        "metadata": {
            "name": format!("kwok-node-{n}"),
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": format!("kwok-node-{n}"),
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                "topology.kubernetes.io/region": REGION,
            }
        },
        "spec": {"providerID": format!("{REGION}.i-{n:04}")},
        "status": {"addresses": [
            {"type": "InternalIP", "address": format!("198.18.{}.{}", 144 + n / 250, n % 250 + 1)},
            {"type": "Hostname", "address": format!("kwok-node-{n}")},
        ]}
    }))
    .unwrap()
}

/// Calls per second since `started_ms`: all, throttled, and the busiest action's.
fn timeline(records: &[CallRecord], started_ms: u64) -> Vec<(u32, u32, u32)> {
    let mut seconds: Vec<(u32, u32, BTreeMap<&str, u32>)> = Vec::new();
    for record in records {
        let second = usize::try_from(record.arrived_ms.saturating_sub(started_ms) / 1000).unwrap();
        if seconds.len() <= second {
            seconds.resize_with(second + 1, Default::default);
        }
        let (all, throttled, by_action) = &mut seconds[second];
        *all += 1;
        if record.code == "Throttling" {
            *throttled += 1;
        }
        *by_action.entry(record.action.as_str()).or_insert(0) += 1;
    }
    seconds
        .into_iter()
        .map(|(all, throttled, by_action)| {
            (
                all,
                throttled,
                by_action.values().copied().max().unwrap_or(0),
            )
        })
        .collect()
}

fn secs(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn ratio(measured: Duration, bound: Duration) -> String {
    if bound.is_zero() {
        return "—".into();
    }
    format!("{:.2}×", measured.as_secs_f64() / bound.as_secs_f64())
}

impl Report {
    /// The run's lower bound for (a).
    pub fn lower_bound(&self) -> Duration {
        self.scenario.limit.lower_bound(&self.minimal_calls)
    }

    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    pub fn minimal_total(&self) -> u64 {
        self.minimal_calls.values().sum()
    }

    /// One table: each measurement, its lower bound or target, and the ratio.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let s = &self.scenario;
        writeln!(
            t,
            "{} Services ({} ports, {} pods each, Local and Cluster alternating) on {} nodes; emulator: {}, {} ms per call; operator `--concurrency={}` `--resync-period={}s` ({} s in (e))\n",
            s.services, self.ports, s.pods_per_service, self.nodes, s.limit.describe(), s.latency_ms, s.concurrency, s.resync.as_secs(), s.idle_resync.as_secs()
        )
        .unwrap();
        t.push_str("| | measured | lower bound / target | ratio |\n| --- | --- | --- | --- |\n");
        let bound = self.lower_bound();
        writeln!(
            t,
            "| (a) apply → every Service has its address and is LoadBalancerReady | {} | {} (lower bound) ; target ≤ 1.25× | {} |",
            secs(self.converged), secs(bound), ratio(self.converged, bound)
        )
        .unwrap();
        if let Some(l) = &self.endpoint_latency {
            writeln!(
                t,
                "| (b) EndpointSlice change → backend call arrives, {} Deployments rolling | p50 {} ms, p99 {} ms, max {} ms ({} changes, {} with no call after them; {} backend calls) | p99 < 500 ms | — |",
                s.rolling_deployments.min(s.services), l.p50.as_millis(), l.p99.as_millis(), l.max.as_millis(), l.samples + l.unmatched, l.unmatched, l.backend_calls
            )
            .unwrap();
        }
        writeln!(
            t,
            "| (c) calls until (a) | {} ({} throttled) | {} minimal; target ≤ 1.1× | {:.2}× |",
            self.total_calls(),
            self.throttled,
            self.minimal_total(),
            self.total_calls() as f64 / self.minimal_total().max(1) as f64
        )
        .unwrap();
        writeln!(
            t,
            "| (d) operator peak RSS, CPU until the restart | {:.1} MiB, {:.1} CPU s | < 150 MiB | — |",
            self.usage.peak_rss_mib, self.usage.cpu_seconds
        )
        .unwrap();
        if let Some(i) = &self.idle {
            writeln!(
                t,
                "| (e) idle {} min at a {} s resync | {} writes, {} describes ({} throttled) | 0 writes | — |",
                i.duration.as_secs() / 60, s.idle_resync.as_secs(), i.writes, i.describes, i.throttled
            )
            .unwrap();
        }
        if let Some(r) = &self.restart {
            writeln!(
                t,
                "| (f) restart → every LB, group and listener described again | {}, {} writes, {} calls (new process: {:.1} MiB, {:.1} CPU s) | {} (lower bound); target ≤ 1.25×, 0 writes | {} |",
                secs(r.verified), r.writes, r.calls.values().sum::<u64>(), r.usage.peak_rss_mib, r.usage.cpu_seconds, secs(r.lower_bound), ratio(r.verified, r.lower_bound)
            )
            .unwrap();
        }
        if let Some(g) = &self.nodes_added {
            writeln!(
                t,
                "| (g) {} nodes added → in every Cluster-mode group ({}) | {}, {} calls | {} (lower bound); target ≤ 1.25× | {} |",
                g.added, g.groups, secs(g.done), g.calls.values().sum::<u64>(), secs(g.lower_bound), ratio(g.done, g.lower_bound)
            )
            .unwrap();
        }
        t
    }

    /// Calls per action until (a), next to the minimal ones.
    pub fn calls_table(&self) -> String {
        let mut t = String::from("| action | calls until (a) | minimal | \n| --- | --- | --- |\n");
        let actions: BTreeSet<&String> =
            self.calls.keys().chain(self.minimal_calls.keys()).collect();
        for action in actions {
            writeln!(
                t,
                "| {action} | {} | {} |",
                self.calls.get(action).copied().unwrap_or(0),
                self.minimal_calls.get(action).copied().unwrap_or(0)
            )
            .unwrap();
        }
        t
    }
}
