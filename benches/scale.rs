//! The scale benchmark (issue 12), at full size: `hack/bench-scale.sh` brings up its own control plane
//! with the nodes and runs this (`cargo bench --bench scale -- --help` lists the options). It prints
//! one table per run and writes them, with the lower-bound arithmetic and a plot of calls per second
//! against the QPS limit, into `docs/benchmarks.md` (between markers, so the notes around them stay).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

#[path = "../tests/operator_support/mod.rs"]
mod operator_support;
#[path = "../tests/scale_support/mod.rs"]
mod scale_support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use plotters::prelude::*;
use scale_support::{Limit, Report, Scenario};

#[derive(Debug, Parser)]
#[command(
    about = "The scale benchmark: Services of type LoadBalancer against the operator and the emulator"
)]
struct Args {
    /// Services in the run with the per-action limit (each over its own Deployment).
    #[arg(long, default_value_t = 500)]
    services: usize,
    /// Services in the run with the global limit (its (a) and (c) only); 0 leaves it out.
    #[arg(long, default_value_t = 500)]
    global_services: usize,
    #[arg(long, default_value_t = 10)]
    pods_per_service: i32,
    /// The emulator's QPS limit: per action in the first run, for all actions in the second.
    #[arg(long, default_value_t = 20)]
    qps: u32,
    /// Latency the emulator adds to every call.
    #[arg(long, default_value_t = 30)]
    latency_ms: u64,
    /// The operator's `--concurrency` (SlbVServerGroup and SlbListener keep their own defaults).
    #[arg(long, default_value_t = 16)]
    concurrency: u16,
    /// (b): Deployments rolled at once.
    #[arg(long, default_value_t = 20)]
    rolling_deployments: usize,
    /// (e): how long the operator stays idle.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    idle: Duration,
    /// The operator's `--resync-period` in (e).
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    idle_resync: Duration,
    /// The operator's `--resync-period` in the other phases (its default).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    resync: Duration,
    /// (g): nodes added at once.
    #[arg(long, default_value_t = 20)]
    nodes_added: usize,
    /// How long any one phase may take.
    #[arg(long, default_value = "40m", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// The Markdown file the results go into.
    #[arg(long, default_value = "docs/benchmarks.md")]
    output: PathBuf,
    /// `cargo bench` passes this.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The 1-minute load average of the machine, sampled while the benchmark runs.
#[derive(Default)]
struct Load {
    samples: Vec<f64>,
}

impl Load {
    fn sample(&mut self) {
        if let Some(one_minute) = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
        {
            self.samples.push(one_minute);
        }
    }

    fn summary(&self) -> String {
        if self.samples.is_empty() {
            return "not available".into();
        }
        let max = self.samples.iter().copied().fold(0.0, f64::max);
        let min = self.samples.iter().copied().fold(f64::MAX, f64::min);
        let mean = self.samples.iter().sum::<f64>() / self.samples.len() as f64;
        format!(
            "1-minute load average min {min:.1}, mean {mean:.1}, max {max:.1} ({} samples, every 15 s)",
            self.samples.len()
        )
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// A TrueType font for the plot's text, from `SLB_BENCH_FONT` or the usual system places; the plot
/// is drawn without text when there is none (`SLB_BENCH_FONT=none` forces that).
fn register_font() -> bool {
    let candidates: Vec<PathBuf> = match std::env::var_os("SLB_BENCH_FONT") {
        Some(path) if path == "none" => return false,
        Some(path) => vec![PathBuf::from(path)],
        None => [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect(),
    };
    for path in candidates {
        if let Ok(bytes) = std::fs::read(&path) {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return true;
            }
        }
    }
    false
}

/// Calls per second over the run (all, the busiest action's, throttled), the QPS limit, and where
/// each phase began.
fn plot(path: &Path, report: &Report, text: bool) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1400, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let qps = f64::from(match report.scenario.limit {
        Limit::PerAction(qps) | Limit::Global(qps) => qps,
    });
    let seconds = report.timeline.len().max(1) as f64;
    let top = report
        .timeline
        .iter()
        .map(|&(all, _, _)| f64::from(all))
        .fold(qps, f64::max)
        * 1.1;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if text {
        builder
            .caption(
                format!(
                    "Calls per second at the emulator: {} Services, {}",
                    report.scenario.services,
                    report.scenario.limit.describe()
                ),
                ("sans-serif", 24),
            )
            .x_label_area_size(45)
            .y_label_area_size(60);
    }
    let mut chart = builder.build_cartesian_2d(0f64..seconds, 0f64..top)?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("seconds since the Services were applied")
            .y_desc("calls per second");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw()?;
    for (_, at) in &report.phases {
        chart.draw_series(LineSeries::new(
            [(*at, 0.0), (*at, top)],
            RGBColor(170, 170, 170),
        ))?;
    }
    let series = |pick: fn(&(u32, u32, u32)) -> u32| {
        report
            .timeline
            .iter()
            .enumerate()
            .map(move |(second, counts)| (second as f64, f64::from(pick(counts))))
    };
    let all = chart.draw_series(LineSeries::new(series(|c| c.0), BLUE.stroke_width(2)))?;
    if text {
        all.label("all calls")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    }
    let busiest = chart.draw_series(LineSeries::new(series(|c| c.2), GREEN.stroke_width(1)))?;
    if text {
        busiest
            .label("the busiest action")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GREEN));
    }
    let throttled = chart.draw_series(LineSeries::new(series(|c| c.1), RED.stroke_width(1)))?;
    if text {
        throttled
            .label("answered Throttling")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED));
    }
    let limit = chart.draw_series(LineSeries::new(
        [(0.0, qps), (seconds, qps)],
        BLACK.stroke_width(2),
    ))?;
    if text {
        limit
            .label(format!("the limit: {}", report.scenario.limit.describe()))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn arithmetic(report: &Report) -> String {
    let mut text = String::new();
    let q = match report.scenario.limit {
        Limit::PerAction(qps) | Limit::Global(qps) => qps,
    };
    let (busiest, most) = report
        .minimal_calls
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(a, n)| (a.as_str(), *n))
        .unwrap_or(("none", 0));
    match report.scenario.limit {
        Limit::PerAction(_) => writeln!(
            text,
            "Lower bound of (a): every action has its own {q} QPS, so the busiest one decides: {busiest}, {most} calls / {q} QPS = {:.1} s.",
            most as f64 / f64::from(q)
        ),
        Limit::Global(_) => writeln!(
            text,
            "Lower bound of (a): all {} minimal calls share {q} QPS: {} / {q} = {:.1} s.",
            report.minimal_total(),
            report.minimal_total(),
            report.minimal_total() as f64 / f64::from(q)
        ),
    }
    .unwrap();
    if let Some(restart) = &report.restart {
        let describes: Vec<String> = restart
            .needed_describes
            .iter()
            .map(|(a, n)| format!("{a} {n}"))
            .collect();
        writeln!(
            text,
            "\nLower bound of (f): one describe per object ({}), under the same limit: {:.1} s.",
            describes.join(", "),
            restart.lower_bound.as_secs_f64()
        )
        .unwrap();
    }
    if let Some(nodes) = &report.nodes_added {
        writeln!(
            text,
            "\nLower bound of (g): one AddVServerGroupBackendServers of {} servers per Cluster-mode group, {} calls / {q} QPS = {:.1} s.",
            nodes.added,
            nodes.needed.values().sum::<u64>(),
            nodes.lower_bound.as_secs_f64()
        )
        .unwrap();
    }
    text
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let client = operator_support::cluster_client().await;
    let text = register_font();
    let output_dir = args
        .output
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&output_dir).expect("the output directory");
    // The commit measured is the one checked out when the run began, not when it ended.
    let revision = command_output("git", &["rev-parse", "--short", "HEAD"]);
    let started = Instant::now();
    let load = std::sync::Arc::new(parking_lot::Mutex::new(Load::default()));
    let sampler = {
        let load = load.clone();
        tokio::spawn(async move {
            loop {
                load.lock().sample();
                tokio::time::sleep(Duration::from_secs(15)).await;
            }
        })
    };
    let scenario = |services: usize, limit: Limit, full: bool| Scenario {
        services,
        pods_per_service: args.pods_per_service,
        limit,
        latency_ms: args.latency_ms,
        concurrency: args.concurrency,
        rolling_deployments: if full { args.rolling_deployments } else { 0 },
        resync: args.resync,
        idle: if full { args.idle } else { Duration::ZERO },
        idle_resync: args.idle_resync,
        restart: full,
        nodes_added: if full { args.nodes_added } else { 0 },
        timeout: args.timeout,
        log_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("scale"),
    };
    let mut runs = vec![(
        "per-action",
        scenario(args.services, Limit::PerAction(args.qps), true),
    )];
    if args.global_services > 0 {
        runs.push((
            "global",
            scenario(args.global_services, Limit::Global(args.qps), false),
        ));
    }

    let mut section = String::new();
    for (label, scenario) in runs {
        let report = scale_support::run(&client, scenario).await;
        let table = report.table();
        println!("\n{table}\n{}", report.calls_table());
        let image = format!("benchmarks-{label}.png");
        if let Err(error) = plot(&output_dir.join(&image), &report, text) {
            eprintln!("the plot {image} failed: {error}");
        }
        write!(
            section,
            "\n### Run with {}\n\n{table}\n{}\n{}\n![calls per second, {label}]({image})\n\nBlue: all calls per second; green: the busiest action's; red: those answered `Throttling`; black: the limit; grey: where the roll, the idle period, the restart and the added nodes begin.\n",
            report.scenario.limit.describe(),
            report.calls_table(),
            arithmetic(&report),
        )
        .unwrap();
    }
    sampler.abort();
    load.lock().sample();

    let header = format!(
        "Run on {} (commit {}), {} cores, {} MiB of memory, shared with other work: {}. Took {:.0} minutes. Command: `hack/bench-scale.sh {}`.\n",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        revision,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        command_output(
            "sh",
            &["-c", "awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo"]
        ),
        load.lock().summary(),
        started.elapsed().as_secs_f64() / 60.0,
        std::env::args()
            .skip(1)
            .filter(|a| a != "--bench")
            .collect::<Vec<_>>()
            .join(" "),
    );
    write_section(&args.output, &format!("{header}{section}"));
    println!("written to {}", args.output.display());
}

const BEGIN: &str = "<!-- scale-bench:begin (written by hack/bench-scale.sh; edit outside) -->";
const END: &str = "<!-- scale-bench:end -->";

/// Replaces what lies between the markers of `path` (appends them when missing).
fn write_section(path: &Path, section: &str) {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let block = format!("{BEGIN}\n{section}\n{END}");
    let updated = match (existing.find(BEGIN), existing.find(END)) {
        (Some(begin), Some(end)) if begin < end => format!(
            "{}{block}{}",
            &existing[..begin],
            &existing[end + END.len()..]
        ),
        _ => format!("{existing}\n{block}\n"),
    };
    std::fs::write(path, updated).expect("the benchmark document is written");
}
