//! Benchmarks: signing and encoding a 20-server AddBackendServers request, and the client's overhead over a
//! raw reqwest call to a loopback server.

use axum::Router;
use axum::routing::any;
use criterion::Criterion;
use slb_api::*;
use std::hint::black_box;

const RESPONSE: &str = r#"{"RequestId":"365F4154-92F6-4AE4-92F8-7FF34B540710","LoadBalancerId":"lb-1","BackendServers":{"BackendServer":[{"ServerId":"i-0","Weight":100}]}}"#;

fn request() -> AddBackendServersRequest {
    AddBackendServersRequest {
        load_balancer_id: "lb-bp1of5kr4md52rbv9q7jd".to_owned(),
        backend_servers: (0..20)
            .map(|i| BackendServer {
                server_id: format!("i-bp1{i:017}"),
                weight: Some(100),
            })
            .collect(),
    }
}

type BenchResult = Result<(), Box<dyn std::error::Error>>;

fn client(endpoint: &str) -> Result<Client, Error> {
    let credentials = Credentials::new("testid", "testsecret")?;
    let mut config = ClientConfig::new(endpoint, "cn-hangzhou", credentials);
    config.rate_limits = RateLimits::unlimited();
    config.retry = RetryPolicy::none();
    Client::new(config)
}

// Each benchmark makes its call once outside the timed loop with `?`, so that a failing call fails the
// run instead of being timed; inside the loop the results are only kept from being optimized away.

fn sign_and_encode(c: &mut Criterion) -> BenchResult {
    let client = client("http://127.0.0.1:1")?;
    let request = request();
    client.signed_form(&request)?;
    c.bench_function("sign_and_encode_add_backend_servers_20", |b| {
        b.iter(|| client.signed_form(black_box(&request)))
    });
    Ok(())
}

fn loopback(c: &mut Criterion) -> BenchResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let app = Router::new().route("/", any(|| async { RESPONSE }));
    runtime.spawn(async move { axum::serve(listener, app).await });
    let slb = client(&endpoint)?;
    let raw = reqwest::Client::new();
    let request = request();
    let body = slb.signed_form(&request)?;
    let raw_call = || async {
        raw.post(&endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await?
            .text()
            .await
    };
    runtime.block_on(raw_call())?;
    runtime.block_on(slb.add_backend_servers(&request))?;

    let mut group = c.benchmark_group("loopback_add_backend_servers_20");
    group.bench_function("raw_reqwest", |b| b.to_async(&runtime).iter(raw_call));
    group.bench_function("slb_api_client", |b| {
        b.to_async(&runtime)
            .iter(|| slb.add_backend_servers(&request))
    });
    group.finish();
    Ok(())
}

fn main() -> BenchResult {
    let mut criterion = Criterion::default().configure_from_args();
    sign_and_encode(&mut criterion)?;
    loopback(&mut criterion)?;
    criterion.final_summary();
    Ok(())
}
