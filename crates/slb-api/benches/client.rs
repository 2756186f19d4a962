//! Benchmarks: signing and encoding a 20-server AddBackendServers request, and the client's overhead over a
//! raw reqwest call to a loopback server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::routing::any;
use criterion::{Criterion, criterion_group, criterion_main};
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

fn client(endpoint: &str) -> Client {
    let credentials = Credentials::new("testid", "testsecret").unwrap();
    let mut config = ClientConfig::new(endpoint, "cn-hangzhou", credentials);
    config.rate_limits = RateLimits::unlimited();
    config.retry = RetryPolicy::none();
    Client::new(config).unwrap()
}

fn sign_and_encode(c: &mut Criterion) {
    let client = client("http://127.0.0.1:1");
    let request = request();
    c.bench_function("sign_and_encode_add_backend_servers_20", |b| {
        b.iter(|| client.signed_form(black_box(&request)).unwrap())
    });
}

fn loopback(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let endpoint = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", any(|| async { RESPONSE }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    });
    let slb = client(&endpoint);
    let raw = reqwest::Client::new();
    let request = request();
    let body = slb.signed_form(&request).unwrap();

    let mut group = c.benchmark_group("loopback_add_backend_servers_20");
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = raw
                .post(&endpoint)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            black_box(response.text().await.unwrap())
        })
    });
    group.bench_function("slb_api_client", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(slb.add_backend_servers(&request).await.unwrap()) })
    });
    group.finish();
}

criterion_group!(benches, sign_and_encode, loopback);
criterion_main!(benches);
