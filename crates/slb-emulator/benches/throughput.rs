//! Benchmarks of the `slb-emulator` binary on loopback; prints numbers, asserts nothing.
//!
//! 1. Throughput and latency: 1,000 load balancers loaded, then DescribeLoadBalancerAttribute from concurrent
//!    keep-alive connections (a tokio load generator sharing the machine with the emulator).
//! 2. Memory: resident set of the emulator process after loading 10,000 load balancers with 2 listeners each.
//! 3. At scale with the state file on: 10,000 load balancers loaded, then write latency (SetLoadBalancerName
//!    from one connection, each committed before its answer), DescribeLoadBalancerAttribute throughput and
//!    latency, and the resident set.
//!
//! `cargo bench -p slb-emulator --bench throughput`; BENCH_SECONDS (default 5) and BENCH_CONNECTIONS
//! (default 8) tune the load phase.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Client, client_at, spawn_binary};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Creates `count` load balancers (with `listeners` TCP listeners each) over `parallel` connections.
async fn load(addr: SocketAddr, count: usize, listeners: usize, parallel: usize) -> Vec<String> {
    let mut tasks = Vec::new();
    for worker in 0..parallel {
        tasks.push(tokio::spawn(async move {
            let mut client = client_at(addr).await;
            let mut ids = Vec::new();
            for i in (worker..count).step_by(parallel) {
                let name = format!("bench-{i}");
                let id = common::create_lb(&mut client, &[("LoadBalancerName", &name)]).await;
                for port in 0..listeners {
                    common::create_tcp_listener(&mut client, &id, &(80 + port).to_string()).await;
                }
                ids.push(id);
            }
            ids
        }));
    }
    let mut ids = Vec::with_capacity(count);
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    ids
}

async fn describe_loop(
    mut client: Client,
    ids: std::sync::Arc<Vec<String>>,
    until: Instant,
    seed: u64,
) -> Vec<u32> {
    let mut latencies = Vec::new();
    let mut state = seed;
    while Instant::now() < until {
        // A cheap LCG picks the load balancer, so that every call hits a different one.
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let id = &ids[(state >> 33) as usize % ids.len()];
        let started = Instant::now();
        let reply = client
            .call("DescribeLoadBalancerAttribute", &[("LoadBalancerId", id)])
            .await;
        latencies.push(started.elapsed().as_micros() as u32);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    latencies
}

/// `describe_loop` on `connections` new connections at once, each with its own seed from `first_seed` on;
/// returns every call's latency (sorted) and the seconds the loops took.
async fn describe_concurrently(
    addr: SocketAddr,
    ids: &std::sync::Arc<Vec<String>>,
    connections: usize,
    until: Instant,
    first_seed: u64,
) -> (Vec<u32>, f64) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        tasks.push(tokio::spawn(describe_loop(
            client_at(addr).await,
            ids.clone(),
            until,
            first_seed + c as u64,
        )));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    (latencies, elapsed)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

fn resident_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024.0
}

/// Starts the binary with its per-call log lines going to /dev/null (as to a log file), so that no reader
/// process competes for the two cores. The port is picked here, as the log cannot be read for it.
fn spawn_quiet_binary(extra_args: &[&std::ffi::OsStr]) -> (std::process::Child, SocketAddr) {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_slb-emulator"))
        .args(["--listen", &addr.to_string(), "--transition-delay-ms", "0"])
        .args(extra_args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return (child, addr);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("the emulator did not start on {addr}");
}

async fn throughput() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let connections = env_number("BENCH_CONNECTIONS", 8) as usize;
    let (mut child, addr) = spawn_quiet_binary(&[]);
    let started = Instant::now();
    let ids = std::sync::Arc::new(load(addr, 1000, 0, 8).await);
    println!(
        "loaded {} load balancers in {:.2?}",
        ids.len(),
        started.elapsed()
    );

    // Warm up connections and caches.
    let warm_until = Instant::now() + Duration::from_millis(500);
    describe_concurrently(addr, &ids, connections, warm_until, 0).await;

    let until = Instant::now() + Duration::from_secs(seconds);
    let (latencies, elapsed) = describe_concurrently(addr, &ids, connections, until, 1000).await;
    println!(
        "DescribeLoadBalancerAttribute: {} calls in {:.2} s over {} connections = {:.0} calls/s; latency {}",
        latencies.len(),
        elapsed,
        connections,
        latencies.len() as f64 / elapsed,
        summary(&latencies)
    );
    // The emulator's own view: handling time of the most recent calls, from its call log.
    let mut admin = common::Connection::open(addr).await;
    let calls = admin
        .send(
            "GET",
            "/__admin/calls?action=DescribeLoadBalancerAttribute",
            None,
        )
        .await;
    let calls: serde_json::Value = serde_json::from_str(&calls.body).unwrap();
    let mut handling: Vec<u32> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["latency_ms"].as_f64().unwrap() * 1000.0) as u32)
        .collect();
    handling.sort_unstable();
    println!(
        "server-side handling of the last {} calls: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        handling.len(),
        percentile(&handling, 0.50),
        percentile(&handling, 0.99),
        percentile(&handling, 1.0),
    );
    println!(
        "emulator RSS with 1,000 load balancers: {:.1} MiB",
        resident_mib(child.id(), "VmRSS:")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

async fn memory() {
    let (mut child, addr) = spawn_binary(&[], None);
    let baseline = resident_mib(child.id(), "VmRSS:");
    let started = Instant::now();
    let ids = load(addr, 10_000, 2, 8).await;
    let loading = started.elapsed();
    // Confirm the load through the API itself.
    let mut client = client_at(addr).await;
    let listed = client
        .ok(
            "DescribeLoadBalancers",
            &[("PageSize", "1"), ("PageNumber", "1")],
        )
        .await;
    assert_eq!(listed["TotalCount"], 10_000);
    println!(
        "loaded {} load balancers x 2 TCP listeners ({} API calls) in {:.2?}",
        ids.len(),
        ids.len() * 3,
        loading
    );
    println!(
        "emulator RSS: {:.1} MiB at start, {:.1} MiB after loading (peak {:.1} MiB)",
        baseline,
        resident_mib(child.id(), "VmRSS:"),
        resident_mib(child.id(), "VmHWM:")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Latency percentiles of a sorted list of microseconds, as one line.
fn summary(sorted: &[u32]) -> String {
    format!(
        "p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(sorted, 0.50),
        percentile(sorted, 0.90),
        percentile(sorted, 0.99),
        percentile(sorted, 1.0),
    )
}

async fn at_scale() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let connections = env_number("BENCH_CONNECTIONS", 8) as usize;
    let count = env_number("BENCH_SCALE", 10_000) as usize;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let (mut child, addr) = spawn_quiet_binary(&["--state-file".as_ref(), path.as_os_str()]);
    let started = Instant::now();
    let ids = std::sync::Arc::new(load(addr, count, 0, 8).await);
    let loading = started.elapsed();
    println!(
        "state file on: loaded {} load balancers in {:.2?} ({:.0} creates/s over 8 connections)",
        ids.len(),
        loading,
        ids.len() as f64 / loading.as_secs_f64()
    );

    let mut client = client_at(addr).await;
    let mut writes = Vec::new();
    for i in 0..500usize {
        let id = &ids[i.wrapping_mul(7919) % ids.len()];
        let name = format!("renamed-{i}");
        let started = Instant::now();
        let reply = client
            .call(
                "SetLoadBalancerName",
                &[("LoadBalancerId", id), ("LoadBalancerName", &name)],
            )
            .await;
        writes.push(started.elapsed().as_micros() as u32);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    writes.sort_unstable();
    println!(
        "state file on, {} load balancers: SetLoadBalancerName x {} from one connection: {}",
        ids.len(),
        writes.len(),
        summary(&writes)
    );

    let until = Instant::now() + Duration::from_secs(seconds);
    let (latencies, elapsed) = describe_concurrently(addr, &ids, connections, until, 2000).await;
    println!(
        "state file on, {} load balancers: DescribeLoadBalancerAttribute {:.0} calls/s over {} connections; {}",
        ids.len(),
        latencies.len() as f64 / elapsed,
        connections,
        summary(&latencies)
    );
    println!(
        "state file on: emulator RSS {:.1} MiB (peak {:.1} MiB), state file {:.1} MiB",
        resident_mib(child.id(), "VmRSS:"),
        resident_mib(child.id(), "VmHWM:"),
        std::fs::metadata(&path).unwrap().len() as f64 / 1048576.0
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: only run when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        throughput().await;
        memory().await;
        at_scale().await;
    });
}
