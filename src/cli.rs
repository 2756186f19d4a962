//! The command line: `slb-operator run` and its flags, each with an environment fallback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

/// The public endpoint of the SLB API.
pub const DEFAULT_ENDPOINT: &str = "https://slb.aliyuncs.com";
const ACCESS_KEY_ID_VAR: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
const ACCESS_KEY_SECRET_VAR: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";

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
    #[arg(long, env = "SLB_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    pub endpoint: String,

    /// Region of objects that do not name one.
    #[arg(long, env = "SLB_REGION", default_value = "cn-hangzhou")]
    pub region: String,

    /// File with `ALIBABA_CLOUD_ACCESS_KEY_ID=...` and `ALIBABA_CLOUD_ACCESS_KEY_SECRET=...` lines.
    /// Without it, the credentials come from those environment variables.
    #[arg(long, env = "SLB_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Identifies this cluster in the tags of every SLB object the operator creates.
    #[arg(long, env = "SLB_CLUSTER_ID")]
    pub cluster_id: String,

    /// How often every object is compared with SLB even without changes (drift detection), jittered by up to 10%.
    #[arg(long, env = "SLB_RESYNC_PERIOD", default_value = "10m", value_parser = humantime::parse_duration)]
    pub resync_period: Duration,

    /// Objects of one kind reconciled at the same time.
    #[arg(long, env = "SLB_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// Address of the /metrics, /livez and /readyz endpoints.
    #[arg(long, env = "SLB_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,

    /// Run the controllers only while holding a Lease, so replicas can stand by.
    #[arg(long, env = "SLB_LEADER_ELECT", default_value_t = false, action = ArgAction::Set)]
    pub leader_elect: bool,

    /// Name of the leader election Lease.
    #[arg(long, default_value = "slb-operator")]
    pub lease_name: String,

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

/// An access key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .finish()
    }
}

/// Why the credentials could not be loaded; each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read the credentials file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{missing} is missing or empty in {origin}")]
    Missing {
        missing: &'static str,
        origin: String,
    },
}

impl RunArgs {
    /// Loads the credentials from `--credentials-file`, or else from the environment.
    pub fn credentials(&self) -> Result<Credentials, CredentialsError> {
        match &self.credentials_file {
            Some(path) => load_credentials_file(path),
            None => credentials_from(
                |name| std::env::var(name).ok(),
                "the environment (set it, or pass --credentials-file)",
            ),
        }
    }
}

fn load_credentials_file(path: &Path) -> Result<Credentials, CredentialsError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    credentials_from(
        |name| file_value(&text, name),
        &format!("the credentials file {}", path.display()),
    )
}

/// The value of a `NAME=value` line; blank lines and `#` comments are skipped.
fn file_value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
}

fn credentials_from(
    lookup: impl Fn(&str) -> Option<String>,
    origin: &str,
) -> Result<Credentials, CredentialsError> {
    let get = |name: &'static str| {
        lookup(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| CredentialsError::Missing {
                missing: name,
                origin: origin.to_owned(),
            })
    };
    Ok(Credentials {
        access_key_id: get(ACCESS_KEY_ID_VAR)?,
        access_key_secret: get(ACCESS_KEY_SECRET_VAR)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_point_at_the_public_endpoint() {
        let cli = Cli::try_parse_from(["slb-operator", "run", "--cluster-id", "c1"]);
        let Ok(Cli {
            command: Command::Run(args),
        }) = cli
        else {
            unreachable!("parse failed: {cli:?}");
        };
        assert_eq!(args.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(args.resync_period, Duration::from_secs(600));
        assert_eq!(args.concurrency, 4);
        assert!(!args.leader_elect);
    }

    #[test]
    fn durations_and_switches_parse() {
        let cli = Cli::try_parse_from([
            "slb-operator",
            "run",
            "--cluster-id=c1",
            "--resync-period=30s",
            "--leader-elect=true",
            "--endpoint=http://127.0.0.1:9000",
        ]);
        let Ok(Cli {
            command: Command::Run(args),
        }) = cli
        else {
            unreachable!("parse failed: {cli:?}");
        };
        assert_eq!(args.resync_period, Duration::from_secs(30));
        assert!(args.leader_elect);
        assert_eq!(args.endpoint, "http://127.0.0.1:9000");
    }

    #[test]
    fn zero_concurrency_is_rejected() {
        assert!(
            Cli::try_parse_from(["slb-operator", "run", "--cluster-id=c1", "--concurrency=0"])
                .is_err()
        );
    }

    #[test]
    fn credentials_are_read_from_a_file() {
        let text = "# test\nALIBABA_CLOUD_ACCESS_KEY_ID=id\nALIBABA_CLOUD_ACCESS_KEY_SECRET = \"secret\"\n";
        let credentials = credentials_from(|name| file_value(text, name), "test");
        assert_eq!(
            credentials.ok(),
            Some(Credentials {
                access_key_id: "id".into(),
                access_key_secret: "secret".into()
            })
        );
    }

    #[test]
    fn a_missing_secret_is_named_in_the_error() {
        let text = "ALIBABA_CLOUD_ACCESS_KEY_ID=id\n";
        let error = credentials_from(|name| file_value(text, name), "the file f");
        let message = error.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET is missing or empty in the file f"
        );
    }

    #[test]
    fn an_unreadable_file_is_a_clear_error() {
        let error = load_credentials_file(Path::new("/nonexistent/credentials"));
        let message = error.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("cannot read the credentials file /nonexistent/credentials"),
            "{message}"
        );
    }

    #[test]
    fn the_secret_is_not_printed() {
        let credentials = Credentials {
            access_key_id: "id".into(),
            access_key_secret: "hunter2".into(),
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }
}
