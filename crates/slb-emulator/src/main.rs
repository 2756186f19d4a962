//! `slb-emulator`: serves the SLB 2014-05-15 API on a local port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use slb_emulator::{
    Account, Config, DEFAULT_REGIONS, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_ACCOUNT_ID,
    EcsInstance, Emulator, Faults, TransitionDelays,
};

/// An emulator of the Alibaba Cloud Server Load Balancer API (version 2014-05-15).
///
/// Without credentials flags it serves one demo account: AccessKeyId `LTAIDemoAccessKeyId`,
/// AccessKeySecret `DemoAccessKeySecret`.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9080", env = "SLB_EMULATOR_LISTEN")]
    listen: SocketAddr,
    /// AccessKeyId of the single account (with --access-key-secret).
    #[arg(
        long,
        env = "SLB_EMULATOR_ACCESS_KEY_ID",
        requires = "access_key_secret"
    )]
    access_key_id: Option<String>,
    /// AccessKeySecret of the single account.
    #[arg(
        long,
        env = "SLB_EMULATOR_ACCESS_KEY_SECRET",
        hide_env_values = true,
        requires = "access_key_id"
    )]
    access_key_secret: Option<String>,
    /// Account ID of the single account.
    #[arg(long, default_value = DEMO_ACCOUNT_ID)]
    account_id: String,
    /// JSON file listing several accounts: [{"account_id", "access_key_id", "access_key_secret"}, …].
    /// Each account sees only its own resources.
    #[arg(long, conflicts_with = "access_key_id")]
    credentials_file: Option<PathBuf>,
    /// State file: loaded at start, saved atomically before each write call is answered.
    #[arg(long, env = "SLB_EMULATOR_STATE_FILE")]
    state_file: Option<PathBuf>,
    /// Regions served, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = DEFAULT_REGIONS.iter().map(|r| r.to_string()).collect::<Vec<_>>())]
    regions: Vec<String>,
    /// JSON file with the ECS inventory: [{"instance_id", "status"?, "private_ip"?, "region_id"?, "account_id"?}, …].
    /// Without it any ServerId is accepted.
    #[arg(long)]
    ecs_instances: Option<PathBuf>,
    /// Duration of listener transitions (starting, configuring, stopping), in milliseconds.
    #[arg(long, default_value_t = TransitionDelays::SERVED_MS)]
    transition_delay_ms: u64,
    /// Probability of answering InternalInvokeError (HTTP 500) without processing.
    #[arg(long, default_value_t = 0.0)]
    fault_500_rate: f64,
    /// Probability of answering ServiceUnavailable (HTTP 503) without processing.
    #[arg(long, default_value_t = 0.0)]
    fault_503_rate: f64,
    /// Probability of answering ProcessingSameRequest without processing.
    #[arg(long, default_value_t = 0.0)]
    fault_processing_same_request_rate: f64,
    /// Probability of processing a call and then holding its response for --fault-hang-ms.
    #[arg(long, default_value_t = 0.0)]
    fault_hang_rate: f64,
    #[arg(long, default_value_t = 60_000)]
    fault_hang_ms: u64,
    /// Only these actions may hang (comma-separated canonical names); all of them when not given.
    #[arg(long, value_delimiter = ',')]
    fault_hang_actions: Vec<String>,
    /// Latency added to every call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Calls per second (all accounts) beyond which calls get Throttling.
    #[arg(long)]
    qps_limit: Option<u32>,
    /// Calls per second of one action (per account) beyond which calls get Throttling; 20 is realistic.
    #[arg(long)]
    qps_limit_per_action: Option<u32>,
    /// Seed of the fault RNG.
    #[arg(long, default_value_t = 0x5eed)]
    fault_seed: u64,
    /// Seed of the ID generator.
    #[arg(long, default_value_t = 0x51b)]
    id_seed: u64,
    /// Call-log records kept for GET /__admin/calls.
    #[arg(long, default_value_t = 20_000)]
    call_log_capacity: usize,
    /// Bytes of call-log records kept (oldest dropped first).
    #[arg(long, default_value_t = 64 << 20)]
    call_log_max_bytes: usize,
}

fn accounts(args: &Args) -> anyhow::Result<Vec<Account>> {
    if let Some(path) = &args.credentials_file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let accounts: Vec<Account> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        anyhow::ensure!(!accounts.is_empty(), "{} lists no accounts", path.display());
        return Ok(accounts);
    }
    Ok(vec![Account::new(
        args.account_id.clone(),
        args.access_key_id
            .clone()
            .unwrap_or_else(|| DEMO_ACCESS_KEY_ID.to_string()),
        args.access_key_secret
            .clone()
            .unwrap_or_else(|| DEMO_ACCESS_KEY_SECRET.to_string()),
    )])
}

fn ecs_instances(path: Option<&PathBuf>) -> anyhow::Result<Option<Vec<EcsInstance>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let instances =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(Some(instances))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = Config {
        listen: args.listen,
        accounts: accounts(&args)?,
        regions: args.regions.clone(),
        ecs_instances: ecs_instances(args.ecs_instances.as_ref())?,
        faults: Faults {
            error_500_rate: args.fault_500_rate,
            error_503_rate: args.fault_503_rate,
            processing_same_request_rate: args.fault_processing_same_request_rate,
            hang_rate: args.fault_hang_rate,
            hang_ms: args.fault_hang_ms,
            hang_actions: args.fault_hang_actions,
            latency_ms: args.latency_ms,
            qps_limit: args.qps_limit,
            qps_limit_per_action: args.qps_limit_per_action,
            seed: args.fault_seed,
        },
        state_file: args.state_file.clone(),
        delays: TransitionDelays::uniform(Duration::from_millis(args.transition_delay_ms)),
        id_seed: args.id_seed,
        call_log_capacity: args.call_log_capacity,
        call_log_max_bytes: args.call_log_max_bytes,
        ..Config::default()
    };
    let account_ids: Vec<&str> = config
        .accounts
        .iter()
        .map(|a| a.access_key_id.as_str())
        .collect();
    tracing::info!(accounts = ?account_ids, regions = ?config.regions, "starting");
    let emulator = Emulator::start(config).await?;
    tracing::info!(url = %emulator.url(), "serving the SLB 2014-05-15 API");
    stop_signal().await?;
    tracing::info!("shutting down");
    emulator.shutdown().await
}

/// Ctrl-C, or SIGTERM (how Kubernetes and most supervisors stop a process).
async fn stop_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted?,
        _ = terminate.recv() => {}
    }
    Ok(())
}
