use clap::Parser;
use slb_operator::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            let filter = EnvFilter::try_new(&args.log_filter)?;
            let logs = tracing_subscriber::fmt().with_env_filter(filter);
            if args.log_json {
                logs.json().init();
            } else {
                logs.init();
            }
            slb_operator::operator::run(args).await
        }
    }
}
