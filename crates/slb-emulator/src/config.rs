//! How an emulator is set up: accounts, regions, ECS inventory, faults, durability and timing.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The access key pair of the default demo account (also printed by `slb-emulator --help`).
pub const DEMO_ACCESS_KEY_ID: &str = "LTAIDemoAccessKeyId";
pub const DEMO_ACCESS_KEY_SECRET: &str = "DemoAccessKeySecret";
pub const DEMO_ACCOUNT_ID: &str = "1000000000000001";

/// Regions served when none are configured.
pub const DEFAULT_REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-shanghai",
    "cn-beijing",
    "cn-shenzhen",
    "ap-southeast-1",
    "us-east-1",
    "eu-central-1",
];

/// One Alibaba Cloud account: its access key pair and the resources only it can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The account's numeric ID (shown in certificate IDs and the call log).
    pub account_id: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

impl Account {
    pub fn new(
        account_id: impl Into<String>,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Self {
        Self {
            account_id: account_id.into(),
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
        }
    }

    pub fn demo() -> Self {
        Self::new(DEMO_ACCOUNT_ID, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    }
}

/// An ECS instance that may be attached as a backend server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsInstance {
    pub instance_id: String,
    /// `Running` or `Stopped` (ECS spelling); only running instances can be added.
    #[serde(default = "running")]
    pub status: String,
    #[serde(default)]
    pub private_ip: Option<String>,
    /// When set, only this region's load balancers can attach the instance.
    #[serde(default)]
    pub region_id: Option<String>,
    /// When set, only this account (by `account_id`) can attach the instance.
    #[serde(default)]
    pub account_id: Option<String>,
}

fn running() -> String {
    "Running".to_string()
}

impl EcsInstance {
    pub fn running(instance_id: impl Into<String>) -> Self {
        Self {
            instance_id: instance_id.into(),
            status: running(),
            private_ip: None,
            region_id: None,
            account_id: None,
        }
    }
}

/// Injected failures, for reliability tests. Rates are probabilities in 0..=1 per call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Answer `InternalInvokeError` (HTTP 500) without processing the call.
    pub error_500_rate: f64,
    /// Answer `ServiceUnavailable` (HTTP 503) without processing the call.
    pub error_503_rate: f64,
    /// Answer `ProcessingSameRequest` (HTTP 400) without processing the call.
    pub processing_same_request_rate: f64,
    /// Process the call, then hold the response for `hang_ms` (a client timeout leaves the outcome unknown).
    pub hang_rate: f64,
    pub hang_ms: u64,
    /// When not empty, only calls of these actions (canonical names) may hang, so that a test can
    /// make exactly the calls it studies ambiguous.
    pub hang_actions: Vec<String>,
    /// Added to every call before it is processed.
    pub latency_ms: u64,
    /// Calls beyond this many per second (all accounts together) get `Throttling`.
    pub qps_limit: Option<u32>,
    /// Calls of one action family beyond this many per second, per account, get `Throttling` (the real
    /// service limits each API per account; 20 is a realistic figure).
    pub qps_limit_per_action: Option<u32>,
    /// Seed of the fault RNG, so that a failing run can be replayed.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            error_500_rate: 0.0,
            error_503_rate: 0.0,
            processing_same_request_rate: 0.0,
            hang_rate: 0.0,
            hang_ms: 60_000,
            hang_actions: Vec::new(),
            latency_ms: 0,
            qps_limit: None,
            qps_limit_per_action: None,
            seed: 0x5eed,
        }
    }
}

/// How long listener transitions take before the listener settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionDelays {
    /// starting → running.
    pub start: Duration,
    /// configuring → running.
    pub configure: Duration,
    /// stopping → stopped.
    pub stop: Duration,
}

impl TransitionDelays {
    /// What the binary runs with unless told otherwise (`--transition-delay-ms`): a second per
    /// transition, so that clients meet the intermediate states as they would in SLB.
    pub const SERVED_MS: u64 = 1000;

    pub const fn uniform(delay: Duration) -> Self {
        Self {
            start: delay,
            configure: delay,
            stop: delay,
        }
    }
}

impl Default for TransitionDelays {
    /// Instant transitions: in-process tests see settled states unless they ask for delays.
    fn default() -> Self {
        Self::uniform(Duration::ZERO)
    }
}

/// Everything an emulator needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind; tests use `127.0.0.1:0`.
    pub listen: SocketAddr,
    pub accounts: Vec<Account>,
    pub regions: Vec<String>,
    /// `None`: any ServerId is accepted. `Some`: only these instances exist.
    pub ecs_instances: Option<Vec<EcsInstance>>,
    pub faults: Faults,
    /// Where state is saved (atomically, before each write call is answered) and loaded from at start.
    pub state_file: Option<PathBuf>,
    pub delays: TransitionDelays,
    /// Accepted clock difference of a request's Timestamp, and how long a SignatureNonce stays used.
    pub timestamp_tolerance: Duration,
    /// Seed of the ID generator, so that generated IDs are reproducible.
    pub id_seed: u64,
    /// How many call-log records are kept (oldest dropped first).
    pub call_log_capacity: usize,
    /// How many bytes of call-log records are kept (oldest dropped first), whatever the records hold.
    pub call_log_max_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9080)),
            accounts: vec![Account::demo()],
            regions: DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect(),
            ecs_instances: None,
            faults: Faults::default(),
            state_file: None,
            delays: TransitionDelays::default(),
            timestamp_tolerance: Duration::from_secs(15 * 60),
            id_seed: 0x51b,
            call_log_capacity: 20_000,
            call_log_max_bytes: 64 << 20,
        }
    }
}

impl Config {
    /// A config for in-process tests: the demo account, an ephemeral port on loopback.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Self::default()
        }
    }
}
