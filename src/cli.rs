//! The command line: `slb-operator run` and its flags, each with an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "A Kubernetes operator for Alibaba Cloud classic Server Load Balancer"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the controllers.
    Run(RunArgs),
}

#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// SLB API endpoint; the emulator's URL in tests.
    #[arg(long, env = "SLB_ENDPOINT", default_value = slb_api::DEFAULT_ENDPOINT)]
    pub endpoint: String,

    /// Region of objects that do not name one.
    #[arg(long, env = "SLB_REGION", default_value = "cn-hangzhou")]
    pub region: String,

    /// JSON file `{"accessKeyId": "...", "accessKeySecret": "..."}`. Without it, the credentials come
    /// from ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET.
    #[arg(long, env = "SLB_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Identifies this cluster in the tags of every SLB object the operator creates.
    #[arg(long, env = "SLB_CLUSTER_ID")]
    pub cluster_id: String,

    /// How often every object is compared with SLB even without changes (drift detection), jittered by up to 10%.
    #[arg(long, env = "SLB_RESYNC_PERIOD", default_value = "10m", value_parser = humantime::parse_duration)]
    pub resync_period: Duration,

    /// How long one attempt of an SLB call may take, from connecting to the answer's last byte. An
    /// attempt that runs out leaves its outcome unknown: a create without a ClientToken is then not
    /// sent again, and the next reconcile looks for what it may have made first.
    #[arg(long, env = "SLB_CALL_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub slb_call_timeout: Duration,

    /// How long before a certificate from a Secret expires its listener warns about it (a Warning
    /// Event, and the expiry in the listener's status).
    #[arg(long, env = "SLB_CERTIFICATE_EXPIRY_WARNING", default_value = "14d", value_parser = humantime::parse_duration)]
    pub certificate_expiry_warning: Duration,

    /// Objects of one kind reconciled at the same time, for the kinds without a figure of their
    /// own: SlbVServerGroup has 64 and SlbListener 32 unless `--kind-concurrency` says otherwise.
    #[arg(long, env = "SLB_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// The concurrency of some kinds, as KIND=N, comma-separated (say
    /// `SlbVServerGroup=128,Service=8`). The kinds: SlbInstance, SlbListener, SlbVServerGroup,
    /// SlbMasterSlaveServerGroup, SlbRule, Service and PodReadinessGate.
    #[arg(long, env = "SLB_KIND_CONCURRENCY", value_delimiter = ',', value_parser = kind_concurrency)]
    pub kind_concurrency: Vec<(String, u16)>,

    /// Address of the /metrics, /livez and /readyz endpoints.
    #[arg(long, env = "SLB_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,

    /// Watch only these namespaces (comma-separated) instead of all of them; every resource the
    /// operator reads in namespaces (its own kinds, Services, EndpointSlices, Secrets) is then read
    /// only there, so that namespaced Roles are enough. Nodes are read cluster-wide either way.
    #[arg(
        long,
        alias = "watch-namespace",
        env = "SLB_WATCH_NAMESPACES",
        value_delimiter = ',',
        value_parser = namespace_name
    )]
    pub watch_namespaces: Vec<String>,

    /// Services of type LoadBalancer with this spec.loadBalancerClass get an SLB.
    #[arg(
        long,
        env = "SLB_SERVICE_LOAD_BALANCER_CLASS",
        default_value = "slb.operator.dev/slb"
    )]
    pub service_load_balancer_class: String,

    /// Whether Services of type LoadBalancer without a spec.loadBalancerClass get an SLB too, as with
    /// the cloud controller manager. Off by default: where the cloud controller manager runs (every
    /// ACK cluster) it serves those, and both would make an SLB for the same Service. Turn it on
    /// when the operator is the only load balancer controller of the cluster.
    #[arg(long, env = "SLB_MANAGE_SERVICES_WITHOUT_CLASS", default_value_t = false, action = ArgAction::Set)]
    pub manage_services_without_class: bool,

    /// Let `deletionPolicy: Delete` delete load balancers that objects adopted (SlbInstance
    /// `loadBalancerId`, or a Service's `id` annotation). Off: adopted load balancers are always
    /// left in place, whatever a namespace's objects say: deleting them is the cluster admin's call.
    #[arg(long, env = "SLB_ALLOW_DELETING_ADOPTED", default_value_t = false, action = ArgAction::Set)]
    pub allow_deleting_adopted: bool,

    /// The namespaces whose objects may adopt existing load balancers or take over their listeners
    /// (comma-separated); all namespaces when not set. Elsewhere an adoption gets `NotOwned`.
    #[arg(long, env = "SLB_ADOPTION_NAMESPACES", value_delimiter = ',')]
    pub adoption_namespaces: Option<Vec<String>>,

    /// Run the controllers only while holding a Lease, so replicas can stand by.
    #[arg(long, env = "SLB_LEADER_ELECT", default_value_t = false, action = ArgAction::Set)]
    pub leader_elect: bool,

    /// Name of the leader election Lease.
    #[arg(long, default_value = "slb-operator")]
    pub lease_name: String,

    /// How long the Lease stays valid without renewal; a standby takes over at most this long after
    /// the leader dies (at once when it shuts down cleanly).
    #[arg(long, env = "SLB_LEASE_DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,

    /// Namespace of the leader election Lease; defaults to the namespace of the pod, else `default`.
    #[arg(long, env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,

    /// Identity of this replica in the Lease and in Events.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,

    /// Log filter, in the `RUST_LOG` syntax.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// Log as JSON lines instead of text.
    #[arg(long, env = "SLB_LOG_JSON", default_value_t = false, action = ArgAction::Set)]
    pub log_json: bool,
}

/// A namespace name: a DNS-1123 label.
/// The controllers `--kind-concurrency` may name.
const CONTROLLER_KINDS: [&str; 7] = [
    "SlbInstance",
    "SlbListener",
    "SlbVServerGroup",
    "SlbMasterSlaveServerGroup",
    "SlbRule",
    "Service",
    "PodReadinessGate",
];

fn kind_concurrency(value: &str) -> Result<(String, u16), String> {
    let (kind, count) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not KIND=N"))?;
    if !CONTROLLER_KINDS.contains(&kind) {
        return Err(format!(
            "{kind:?} is not a controller; use one of {}",
            CONTROLLER_KINDS.join(", ")
        ));
    }
    match count.parse::<u16>() {
        Ok(count) if count > 0 => Ok((kind.to_owned(), count)),
        _ => Err(format!(
            "the concurrency of {kind} must be a number from 1 to 65535, not {count:?}"
        )),
    }
}

fn namespace_name(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "{name:?} is not a namespace name (lowercase letters, digits and '-', at most 63)"
        ))
    }
}

impl RunArgs {
    /// Loads the credentials from `--credentials-file`, or else from `ALIBABA_CLOUD_ACCESS_KEY_ID` and
    /// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`. The error says what is missing.
    pub fn credentials(&self) -> Result<slb_api::Credentials, slb_api::Error> {
        match &self.credentials_file {
            Some(path) => slb_api::Credentials::from_file(path),
            None => slb_api::Credentials::from_env(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// `slb-operator run --cluster-id=c1` with `extra`, parsed; a refusal as clap words it.
    fn run_args(extra: &[&str]) -> Result<RunArgs, String> {
        let base = ["slb-operator", "run", "--cluster-id=c1"];
        match Cli::try_parse_from(base.iter().chain(extra)) {
            Ok(Cli {
                command: Command::Run(args),
            }) => Ok(args),
            Err(error) => Err(error.to_string()),
        }
    }

    fn parsed(extra: &[&str]) -> RunArgs {
        run_args(extra).unwrap_or_else(|error| unreachable!("parse failed: {error}"))
    }

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_point_at_the_public_endpoint() {
        let args = parsed(&[]);
        assert_eq!(args.endpoint, "https://slb.aliyuncs.com");
        assert_eq!(args.resync_period, Duration::from_secs(600));
        assert_eq!(args.slb_call_timeout, Duration::from_secs(10));
        assert_eq!(
            args.certificate_expiry_warning,
            Duration::from_secs(14 * 24 * 3600)
        );
        assert_eq!(args.concurrency, 16);
        assert!(!args.leader_elect);
        assert_eq!(args.service_load_balancer_class, "slb.operator.dev/slb");
        assert!(!args.manage_services_without_class);
    }

    #[test]
    fn durations_and_switches_parse() {
        let args = parsed(&[
            "--resync-period=30s",
            "--slb-call-timeout=1500ms",
            "--leader-elect=true",
            "--endpoint=http://127.0.0.1:9000",
            "--service-load-balancer-class=example.com/slb",
            "--manage-services-without-class=true",
        ]);
        assert_eq!(args.resync_period, Duration::from_secs(30));
        assert_eq!(args.slb_call_timeout, Duration::from_millis(1500));
        assert!(args.leader_elect);
        assert_eq!(args.endpoint, "http://127.0.0.1:9000");
        assert_eq!(args.service_load_balancer_class, "example.com/slb");
        assert!(args.manage_services_without_class);
    }

    #[test]
    fn the_watched_namespaces_are_a_list() {
        let parse = |extra: &[&str]| run_args(extra).map(|args| args.watch_namespaces);
        assert_eq!(parse(&[]), Ok(vec![]));
        assert_eq!(
            parse(&["--watch-namespaces=team-a,team-b"]),
            Ok(vec!["team-a".to_owned(), "team-b".to_owned()])
        );
        assert_eq!(
            parse(&["--watch-namespace", "team-a"]),
            Ok(vec!["team-a".to_owned()])
        );
        let error = parse(&["--watch-namespaces=team-a,,Team_B"]).unwrap_err();
        assert!(error.contains("is not a namespace name"), "{error}");
    }

    #[test]
    fn concurrency_can_be_set_per_kind_and_unknown_kinds_are_refused() {
        let args = parsed(&["--kind-concurrency=SlbVServerGroup=16,Service=8"]);
        assert_eq!(
            args.kind_concurrency,
            [
                ("SlbVServerGroup".to_owned(), 16),
                ("Service".to_owned(), 8)
            ]
        );
        for bad in ["Slbvservergroup=2", "Service=0", "Service", "Service=x"] {
            let refused = run_args(&[&format!("--kind-concurrency={bad}")]);
            assert!(refused.is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn zero_concurrency_is_rejected() {
        assert!(run_args(&["--concurrency=0"]).is_err());
    }

    #[test]
    fn an_unreadable_credentials_file_is_a_clear_error() {
        let args = parsed(&["--credentials-file=/nonexistent/credentials.json"]);
        let message = args
            .credentials()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("cannot read credentials file /nonexistent/credentials.json"),
            "{message}"
        );
    }
}
