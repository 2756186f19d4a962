//! Achieved QPS and Throttling answers of the client's rate limiter against a local server that enforces
//! SLB-like flow control: a quota per action and account (answered `Throttling.User`) and a cap on the
//! account's calls together (answered `Throttling`).
//!
//! The same workload (writes, and describes made in `background` as a periodic resync would) runs with
//! three limiter settings: the fixed 20 QPS buckets of old, the default adaptive buckets, and adaptive
//! buckets with the account cap configured. Run with
//! `cargo run -p slb-api --example limiter_qps [-- <writes> <describes>]`.

use axum::Router;
use axum::extract::State;
use axum::routing::any;
use slb_api::*;
use std::collections::{BTreeMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Accepted calls per second of one action (the server's quota per action and account).
const ACTION_QUOTA: usize = 10;
/// Accepted calls per second of the account, all actions together.
const ACCOUNT_QUOTA: usize = 30;
/// Calls in flight at once.
const CONCURRENCY: usize = 32;

#[derive(Default)]
struct Quotas {
    /// When the calls of the last second were accepted: per action, and all together under "".
    accepted: BTreeMap<String, VecDeque<Instant>>,
    requests: u64,
    throttled: u64,
}

impl Quotas {
    /// `None` when the call is accepted, or the error code.
    fn admit(&mut self, action: &str) -> Option<&'static str> {
        self.requests += 1;
        let now = Instant::now();
        let mut in_window = |key: &str| {
            let window = self.accepted.entry(key.to_owned()).or_default();
            while window
                .front()
                .is_some_and(|&at| now.duration_since(at) >= Duration::from_secs(1))
            {
                window.pop_front();
            }
            window.len()
        };
        let code = if in_window(action) >= ACTION_QUOTA {
            Some("Throttling.User")
        } else if in_window("") >= ACCOUNT_QUOTA {
            Some("Throttling")
        } else {
            None
        };
        match code {
            Some(_) => self.throttled += 1,
            None => {
                for key in [action, ""] {
                    self.accepted
                        .entry(key.to_owned())
                        .or_default()
                        .push_back(now);
                }
            }
        }
        code
    }
}

async fn handle(State(quotas): State<Arc<Mutex<Quotas>>>, body: String) -> (u16, String) {
    let action = reqwest::Url::parse(&format!("http://x/?{body}"))
        .ok()
        .and_then(|url| {
            url.query_pairs()
                .find(|(name, _)| name == "Action")
                .map(|(_, value)| value.into_owned())
        })
        .unwrap_or_default();
    let code = quotas
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .admit(&action);
    match code {
        Some(code) => (
            400,
            format!(
                r#"{{"RequestId":"r","Code":"{code}","Message":"Request was denied due to flow control."}}"#
            ),
        ),
        None => (200, r#"{"RequestId":"r"}"#.to_owned()),
    }
}

/// Whether a call of the request's action succeeded.
async fn succeeds<A: Action>(client: &Client, request: A) -> bool {
    client.call(&request).await.is_ok()
}

/// A write of one of two actions, whether it succeeded.
async fn write(client: &Client, port: u16) -> bool {
    let (load_balancer_id, listener_port) = ("lb-1".to_owned(), port);
    if port.is_multiple_of(2) {
        let request = StartLoadBalancerListenerRequest {
            load_balancer_id,
            listener_port,
        };
        succeeds(client, request).await
    } else {
        let request = StopLoadBalancerListenerRequest {
            load_balancer_id,
            listener_port,
        };
        succeeds(client, request).await
    }
}

/// A describe of one of three actions, whether it succeeded.
async fn describe(client: &Client, port: u16) -> bool {
    let (load_balancer_id, listener_port) = ("lb-1".to_owned(), port);
    match port % 3 {
        0 => {
            let request = DescribeLoadBalancerHTTPListenerAttributeRequest {
                load_balancer_id,
                listener_port,
            };
            succeeds(client, request).await
        }
        1 => {
            let request = DescribeLoadBalancerTCPListenerAttributeRequest {
                load_balancer_id,
                listener_port,
            };
            succeeds(client, request).await
        }
        _ => {
            let request = DescribeListenerAccessControlAttributeRequest {
                load_balancer_id,
                listener_port,
            };
            succeeds(client, request).await
        }
    }
}

/// What one run achieved.
struct Outcome {
    elapsed: Duration,
    succeeded: usize,
    failed: usize,
    requests: u64,
    throttled: u64,
    write_latency: Duration,
    describe_latency: Duration,
}

async fn run(
    limits: RateLimits,
    writes: usize,
    describes: usize,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let quotas = Arc::new(Mutex::new(Quotas::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route(
            "/",
            any(|state, body| async move {
                let (status, body) = handle(state, body).await;
                (
                    axum::http::StatusCode::from_u16(status)
                        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
                    body,
                )
            }),
        )
        .with_state(quotas.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = ClientConfig::new(
        endpoint,
        "cn-hangzhou",
        Credentials::new("bench-id", "bench-secret")?,
    );
    config.rate_limiters = Some(RateLimiters::new(limits));
    let client = Client::new(config)?;

    // Writes interleaved with describes, as reconciles and a resync would make them.
    let mut jobs: Vec<bool> = (0..writes + describes)
        .map(|i| i * writes / (writes + describes) != (i + 1) * writes / (writes + describes))
        .collect();
    jobs.reverse();
    let jobs = Arc::new(Mutex::new(jobs));
    let results = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, jobs, results) = (client.clone(), jobs.clone(), results.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).pop();
                let Some(is_write) = job else { break };
                let call_started = Instant::now();
                let port = u16::try_from(worker % 6).unwrap_or_default() + 80;
                let ok = if is_write {
                    write(&client, port).await
                } else {
                    background(describe(&client, port)).await
                };
                results
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((is_write, ok, call_started.elapsed()));
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    let elapsed = started.elapsed();
    server.abort();

    let results = results.lock().unwrap_or_else(PoisonError::into_inner);
    let mean = |write: bool| {
        let latencies: Vec<Duration> = results
            .iter()
            .filter(|(is_write, _, _)| *is_write == write)
            .map(|(_, _, latency)| *latency)
            .collect();
        let count = u32::try_from(latencies.len()).unwrap_or(u32::MAX).max(1);
        latencies.iter().sum::<Duration>() / count
    };
    let quotas = quotas.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(Outcome {
        elapsed,
        succeeded: results.iter().filter(|(_, ok, _)| *ok).count(),
        failed: results.iter().filter(|(_, ok, _)| !*ok).count(),
        requests: quotas.requests,
        throttled: quotas.throttled,
        write_latency: mean(true),
        describe_latency: mean(false),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<usize>());
    let writes = args.next().transpose()?.unwrap_or(60);
    let describes = args.next().transpose()?.unwrap_or(180);

    let fixed = RateLimits {
        adaptive: None,
        ..RateLimits::default()
    };
    let adaptive = RateLimits::default();
    let capped = RateLimits {
        account_qps: NonZeroU32::new(u32::try_from(ACCOUNT_QUOTA)?),
        ..RateLimits::default()
    };
    println!(
        "server quotas: {ACTION_QUOTA}/s per action, {ACCOUNT_QUOTA}/s per account; \
         {writes} writes + {describes} background describes, {CONCURRENCY} in flight"
    );
    println!(
        "{:<28} {:>8} {:>9} {:>10} {:>8} {:>7} {:>9} {:>11} {:>13}",
        "limiter",
        "seconds",
        "requests",
        "throttled",
        "ok/s",
        "failed",
        "req/call",
        "write wait",
        "describe wait"
    );
    for (name, limits) in [
        ("fixed 20/s per action", fixed),
        ("adaptive (default)", adaptive),
        ("adaptive + account cap 30/s", capped),
    ] {
        let outcome = run(limits, writes, describes).await?;
        let calls = (outcome.succeeded + outcome.failed).max(1) as f64;
        println!(
            "{:<28} {:>8.2} {:>9} {:>9.0}% {:>8.1} {:>7} {:>9.2} {:>10.2}s {:>12.2}s",
            name,
            outcome.elapsed.as_secs_f64(),
            outcome.requests,
            100.0 * outcome.throttled as f64 / outcome.requests.max(1) as f64,
            outcome.succeeded as f64 / outcome.elapsed.as_secs_f64(),
            outcome.failed,
            outcome.requests as f64 / calls,
            outcome.write_latency.as_secs_f64(),
            outcome.describe_latency.as_secs_f64(),
        );
    }
    Ok(())
}
