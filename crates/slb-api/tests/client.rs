//! The client against a scripted HTTP server on 127.0.0.1: wire format, signing, retries, timeouts, rate
//! limits, and response decoding.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::routing::any;
use slb_api::signature::{sign, signatures_match};
use slb_api::*;
use std::collections::{BTreeMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const SECRET: &str = "test-secret";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    params: BTreeMap<String, String>,
}

/// A scripted answer: status, body, delay.
type Answer = (u16, String, Duration);

#[derive(Default)]
struct Script {
    seen: Mutex<Vec<Seen>>,
    answers: Mutex<VecDeque<Answer>>,
}

/// The decoded pairs; none when the form is not even a URL query, which then fails the signature check.
fn parse_form(encoded: &str) -> BTreeMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{encoded}"))
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

async fn handle(
    State(script): State<Arc<Script>>,
    method: Method,
    RawQuery(query): RawQuery,
    body: String,
) -> (StatusCode, String) {
    let encoded = if method == Method::GET {
        query.unwrap_or_default()
    } else {
        body
    };
    let params = parse_form(&encoded);
    script
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen {
            method: method.to_string(),
            params: params.clone(),
        });
    // Every request must carry a valid signature over all its other parameters.
    let given = params.get("Signature").cloned().unwrap_or_default();
    let expected = sign(
        method.as_str(),
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SECRET,
    );
    if !signatures_match(&expected, &given) {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"Code":"SignatureDoesNotMatch","Message":"bad","RequestId":"r"}"#.to_owned(),
        );
    }
    let answer = script
        .answers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front();
    let (status, body, delay) =
        answer.unwrap_or((200, r#"{"RequestId":"default"}"#.to_owned(), Duration::ZERO));
    tokio::time::sleep(delay).await;
    // Scripted statuses are valid ones.
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
}

async fn server(answers: Vec<Answer>) -> std::io::Result<(String, Arc<Script>)> {
    let script = Arc::new(Script {
        seen: Mutex::default(),
        answers: Mutex::new(answers.into()),
    });
    let app = Router::new()
        .route("/", any(handle))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Should the server stop, the test's calls fail.
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}"), script))
}

fn config(endpoint: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        endpoint,
        "cn-hangzhou",
        Credentials::new("test-id", SECRET).unwrap_or_else(|e| unreachable!("{e}")),
    );
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(5),
    };
    config.rate_limits = RateLimits::unlimited();
    config
}

fn ok(body: &str) -> Answer {
    (200, body.to_owned(), Duration::ZERO)
}

fn unavailable() -> Answer {
    (
        503,
        r#"{"RequestId":"r","HostId":"slb.aliyuncs.com","Code":"ServiceUnavailable","Message":"The specified loadbalancer is configuring, please retry later"}"#.to_owned(),
        Duration::ZERO,
    )
}

fn add_backend_servers() -> AddBackendServersRequest {
    AddBackendServersRequest {
        load_balancer_id: "lb-1".to_owned(),
        backend_servers: vec![BackendServer {
            server_id: "i-1".to_owned(),
            weight: Some(100),
        }],
    }
}

/// Sends `add_backend_servers()` once, through a new client of `config`.
async fn add_backend_servers_with(
    config: ClientConfig,
) -> Result<AddBackendServersResponse, Error> {
    let client = Client::new(config)?;
    client.add_backend_servers(&add_backend_servers()).await
}

/// Asserts that at least `least` has passed since `started`.
fn assert_elapsed_at_least(started: Instant, least: Duration) {
    let elapsed = started.elapsed();
    assert!(elapsed >= least, "{elapsed:?}");
}

#[tokio::test]
async fn post_sends_a_signed_form_with_the_common_parameters() {
    let (endpoint, script) = server(vec![ok(
        r#"{"RequestId":"r1","LoadBalancerId":"lb-1","BackendServers":{"BackendServer":[{"ServerId":"i-1","Weight":"100"}]}}"#,
    )])
    .await.unwrap();
    let response = add_backend_servers_with(config(&endpoint)).await.unwrap();
    assert_eq!(response.request_id, "r1");
    assert_eq!(response.backend_servers[0].weight, Some(100));

    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    let p = &seen[0].params;
    assert_eq!(p["Action"], "AddBackendServers");
    assert_eq!(p["Format"], "JSON");
    assert_eq!(p["Version"], "2014-05-15");
    assert_eq!(p["AccessKeyId"], "test-id");
    assert_eq!(p["SignatureMethod"], "HMAC-SHA1");
    assert_eq!(p["SignatureVersion"], "1.0");
    assert_eq!(p["RegionId"], "cn-hangzhou");
    assert_eq!(p["LoadBalancerId"], "lb-1");
    assert_eq!(p["BackendServers"], r#"[{"ServerId":"i-1","Weight":100}]"#);
    let timestamp = &p["Timestamp"];
    assert_eq!(timestamp.len(), "2014-05-19T10:33:56Z".len());
    assert!(
        timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T',
        "{timestamp}"
    );
    assert!(!p["SignatureNonce"].is_empty());
}

#[tokio::test]
async fn get_puts_the_parameters_in_the_query_and_xml_is_decoded() {
    let (endpoint, script) = server(vec![ok(r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeLoadBalancerAttributeResponse><RequestId>r2</RequestId><LoadBalancerId>lb-1</LoadBalancerId>
<LoadBalancerStatus>active</LoadBalancerStatus><Bandwidth>5</Bandwidth>
<ListenerPorts><ListenerPort>80</ListenerPort></ListenerPorts>
<BackendServers><BackendServer><ServerId>vm-233</ServerId><Weight>100</Weight></BackendServer></BackendServers>
</DescribeLoadBalancerAttributeResponse>"#)])
    .await.unwrap();
    let mut config = config(&endpoint);
    config.method = HttpMethod::Get;
    config.format = ResponseFormat::Xml;
    let client = Client::new(config).unwrap();
    let request = DescribeLoadBalancerAttributeRequest {
        load_balancer_id: "lb-1".to_owned(),
        ..Default::default()
    };
    let response = client
        .describe_load_balancer_attribute(&request)
        .await
        .unwrap();
    assert_eq!(response.request_id, "r2");
    assert_eq!(
        response.load_balancer_status,
        Some(LoadBalancerStatus::Active)
    );
    assert_eq!(response.bandwidth, Some(5));
    assert_eq!(response.listener_ports, vec![80]);
    assert_eq!(response.backend_servers.len(), 1);
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].params["Format"], "XML");
}

#[tokio::test]
async fn retries_keep_the_client_token_and_renew_the_nonce() {
    let (endpoint, script) = server(vec![
        unavailable(),
        unavailable(),
        ok(r#"{"RequestId":"r3","LoadBalancerId":"lb-new","Address":"10.0.0.1"}"#),
    ])
    .await
    .unwrap();
    let client = Client::new(config(&endpoint)).unwrap();
    let response = client
        .create_load_balancer(&CreateLoadBalancerRequest::default())
        .await
        .unwrap();
    assert_eq!(response.load_balancer_id, "lb-new");

    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let tokens: Vec<&String> = seen.iter().map(|s| &s.params["ClientToken"]).collect();
    assert!(
        tokens.iter().all(|t| *t == tokens[0] && !t.is_empty()),
        "{tokens:?}"
    );
    let nonces: std::collections::BTreeSet<&String> =
        seen.iter().map(|s| &s.params["SignatureNonce"]).collect();
    assert_eq!(nonces.len(), 3, "a fresh nonce per attempt");
    let signatures: std::collections::BTreeSet<&String> =
        seen.iter().map(|s| &s.params["Signature"]).collect();
    assert_eq!(signatures.len(), 3);
}

#[tokio::test]
async fn a_callers_client_token_is_kept() {
    let (endpoint, script) = server(vec![ok(r#"{"RequestId":"r","LoadBalancerId":"lb"}"#)])
        .await
        .unwrap();
    let client = Client::new(config(&endpoint)).unwrap();
    let request = CreateLoadBalancerRequest {
        client_token: Some("my-token-1".to_owned()),
        ..Default::default()
    };
    client.create_load_balancer(&request).await.unwrap();
    assert_eq!(
        script.seen.lock().unwrap()[0].params["ClientToken"],
        "my-token-1"
    );
}

#[tokio::test]
async fn retries_are_bounded_by_attempts() {
    let (endpoint, script) = server(vec![
        unavailable(),
        unavailable(),
        unavailable(),
        unavailable(),
    ])
    .await
    .unwrap();
    let error = add_backend_servers_with(config(&endpoint))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ServiceUnavailable"));
    assert!(error.is_retryable());
    assert_eq!(script.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn retries_are_bounded_by_elapsed_time() {
    let (endpoint, script) = server((0..10).map(|_| unavailable()).collect())
        .await
        .unwrap();
    let mut config = config(&endpoint);
    config.retry = RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(100),
        max_elapsed: Duration::from_millis(250),
    };
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    client
        .add_backend_servers(&add_backend_servers())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    let attempts = script.seen.lock().unwrap().len();
    assert!((2..=5).contains(&attempts), "{attempts} attempts");
}

#[tokio::test]
async fn final_errors_are_not_retried() {
    let (endpoint, script) = server(vec![(
        404,
        r#"{"RequestId":"r","HostId":"h","Code":"InvalidLoadBalancerId.NotFound","Message":"LoadBalancerId does not exist."}"#
            .to_owned(),
        Duration::ZERO,
    )])
    .await.unwrap();
    let error = add_backend_servers_with(config(&endpoint))
        .await
        .unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(error.category(), ErrorCategory::NotFound);
    let api = error.api_error().unwrap();
    assert_eq!(
        (
            api.http_status,
            api.host_id.as_str(),
            api.request_id.as_str()
        ),
        (404, "h", "r")
    );
    assert_eq!(script.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let slow = (
        200,
        r#"{"RequestId":"late"}"#.to_owned(),
        Duration::from_millis(500),
    );
    let (endpoint, script) = server(vec![slow.clone(), slow.clone(), slow])
        .await
        .unwrap();
    let mut config = config(&endpoint);
    config.timeout = Duration::from_millis(100);
    let error = add_backend_servers_with(config).await.unwrap_err();
    assert_eq!(error.category(), ErrorCategory::Timeout, "{error}");
    assert_eq!(script.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_create_without_client_token_is_not_repeated_after_a_lost_answer() {
    let slow = (
        200,
        r#"{"RequestId":"late","VServerGroupId":"rsp-1"}"#.to_owned(),
        Duration::from_millis(500),
    );
    let (endpoint, script) = server(vec![slow, unavailable(), unavailable(), unavailable()])
        .await
        .unwrap();
    let mut config = config(&endpoint);
    config.timeout = Duration::from_millis(100);
    let client = Client::new(config).unwrap();
    let request = CreateVServerGroupRequest {
        load_balancer_id: "lb-1".to_owned(),
        v_server_group_name: "g".to_owned(),
        backend_servers: vec![],
    };
    let error = client.create_vserver_group(&request).await.unwrap_err();
    assert_eq!(error.category(), ErrorCategory::Timeout, "{error}");
    assert_eq!(
        script.seen.lock().unwrap().len(),
        1,
        "the outcome is unknown, so no second create"
    );

    // An answer that says the call failed is safe to repeat.
    let error = client.create_vserver_group(&request).await.unwrap_err();
    assert_eq!(error.code(), Some("ServiceUnavailable"));
    assert_eq!(script.seen.lock().unwrap().len(), 1 + 3);
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_5xx_that_did_not_come_from_slb() {
    let gateway = (
        502,
        "<html><body>Bad Gateway</body></html>".to_owned(),
        Duration::ZERO,
    );
    let (endpoint, script) = server(vec![gateway.clone(), gateway, unavailable()])
        .await
        .unwrap();
    let client = Client::new(config(&endpoint)).unwrap();
    let request = CreateVServerGroupRequest {
        load_balancer_id: "lb-1".to_owned(),
        v_server_group_name: "g".to_owned(),
        backend_servers: vec![],
    };
    let error = client.create_vserver_group(&request).await.unwrap_err();
    assert_eq!(error.code(), Some("Http502"), "{error}");
    assert_eq!(script.seen.lock().unwrap().len(), 1, "no second create");

    // A describe is safe to repeat after the same answer: 502, then 503, then the answer.
    let described = client
        .describe_vserver_groups(&DescribeVServerGroupsRequest {
            load_balancer_id: "lb-1".to_owned(),
        })
        .await;
    assert!(described.is_ok(), "{described:?}");
    assert_eq!(script.seen.lock().unwrap().len(), 1 + 3);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_creates() {
    // Bind, then drop, to get a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(config(&format!("http://127.0.0.1:{port}"))).unwrap();
    let request = CreateVServerGroupRequest {
        load_balancer_id: "lb-1".to_owned(),
        v_server_group_name: "g".to_owned(),
        backend_servers: vec![],
    };
    let started = Instant::now();
    let error = client.create_vserver_group(&request).await.unwrap_err();
    assert_eq!(error.category(), ErrorCategory::Transport, "{error}");
    // Three attempts with backoff between them.
    assert_elapsed_at_least(started, Duration::from_millis(10));
}

#[tokio::test]
async fn invalid_requests_are_never_sent() {
    let (endpoint, script) = server(vec![]).await.unwrap();
    let client = Client::new(config(&endpoint)).unwrap();
    let request = CreateLoadBalancerHTTPListenerRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
        backend_server_port: 8080,
        settings: HttpListenerSettings {
            bandwidth: -1,
            sticky_session: StickySession {
                enabled: OnOff::On,
                session_type: Some(StickySessionType::Insert),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let error = client
        .create_load_balancer_http_listener(&request)
        .await
        .unwrap_err();
    assert_eq!(error.category(), ErrorCategory::Validation);
    assert!(error.to_string().contains("CookieTimeout"), "{error}");
    assert!(script.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_rate_limit_spaces_out_calls_of_an_action() {
    let (endpoint, script) = server(vec![]).await.unwrap();
    let mut config = config(&endpoint);
    config.rate_limits.per_action.insert(
        "StartLoadBalancerListener".to_owned(),
        NonZeroU32::new(10).unwrap(),
    );
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    for _ in 0..15 {
        start_listener(&client).await.unwrap();
    }
    // A burst of 10, then one every 100 ms.
    assert_elapsed_at_least(started, Duration::from_millis(400));
    // Other actions are not limited: 25 calls would take at least 1.5 s at 10 per second.
    let started = Instant::now();
    for _ in 0..25 {
        client
            .add_backend_servers(&add_backend_servers())
            .await
            .unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(script.seen.lock().unwrap().len(), 40);
}

/// Starts listener 80 of `lb-1` through `client`.
async fn start_listener(client: &Client) -> Result<StartLoadBalancerListenerResponse, Error> {
    let request = StartLoadBalancerListenerRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
    };
    client.start_load_balancer_listener(&request).await
}

#[tokio::test]
async fn the_clients_of_one_account_share_its_limiter() {
    let (endpoint, script) = server(vec![]).await.unwrap();
    let mut limits = RateLimits::unlimited();
    limits.per_action_qps = NonZeroU32::new(10);
    let limiters = RateLimiters::new(limits);
    let client = |region: &str, key: &str| {
        let mut config = config(&endpoint);
        config.region_id = region.to_owned();
        config.credentials = Credentials::new(key, SECRET).unwrap();
        config.rate_limiters = Some(limiters.clone());
        Client::new(config).unwrap()
    };
    let hangzhou = client("cn-hangzhou", "test-id");
    let beijing = client("cn-beijing", "test-id");
    let other_account = client("cn-hangzhou", "other-id");
    assert!(hangzhou.rate_limiter().same_as(beijing.rate_limiter()));
    assert!(
        !hangzhou
            .rate_limiter()
            .same_as(other_account.rate_limiter())
    );

    let started = Instant::now();
    for _ in 0..8 {
        start_listener(&hangzhou).await.unwrap();
        start_listener(&beijing).await.unwrap();
    }
    // 16 calls of one account: a burst of 10, then one every 100 ms. Each client alone stays in its burst.
    assert_elapsed_at_least(started, Duration::from_millis(550));
    assert_eq!(hangzhou.rate_limiter().counts(), (16, 0));
    assert_eq!(script.seen.lock().unwrap().len(), 16);
}

#[tokio::test]
async fn a_retry_after_throttling_waits_for_the_slowed_limiter() {
    let throttled = (
        400,
        r#"{"RequestId":"r","Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#.to_owned(),
        Duration::ZERO,
    );
    let (endpoint, script) = server(vec![throttled]).await.unwrap();
    let mut config = config(&endpoint);
    config.rate_limits.per_action_qps = NonZeroU32::new(20);
    config.rate_limits.adaptive = Some(AdaptiveRate {
        min_qps: 10.0,
        ..AdaptiveRate::default()
    });
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    start_listener(&client).await.unwrap();
    // The backoff is 10-40 ms, but the throttled bucket was emptied and slowed to 10 per second.
    assert_elapsed_at_least(started, Duration::from_millis(90));
    let limiter = client.rate_limiter();
    assert_eq!(limiter.counts(), (2, 1));
    assert_eq!(limiter.action_rate("StartLoadBalancerListener"), Some(10.0));
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn the_client_is_usable_as_a_trait_object() {
    let (endpoint, _script) = server(vec![ok(
        r#"{"RequestId":"r","Regions":{"Region":[{"RegionId":"cn-hangzhou","LocalName":"杭州"}]}}"#,
    )])
    .await
    .unwrap();
    let api: Arc<dyn SlbApi> = Arc::new(Client::new(config(&endpoint)).unwrap());
    let regions = api
        .describe_regions(&DescribeRegionsRequest::default())
        .await
        .unwrap();
    assert_eq!(regions.regions[0].local_name, "杭州");
}

#[test]
fn bad_endpoints_are_rejected() {
    let credentials = Credentials::new("id", "secret").unwrap();
    for endpoint in [
        "ftp://host",
        "not a url",
        "http://127.0.0.1:1/path",
        "http://127.0.0.1:1/?a=b",
    ] {
        let error = Client::new(ClientConfig::new(
            endpoint,
            "cn-hangzhou",
            credentials.clone(),
        ))
        .unwrap_err();
        assert_eq!(error.category(), ErrorCategory::Config, "{endpoint}");
    }
}

#[test]
fn an_https_endpoint_gets_a_tls_client() {
    // Only builds the client (ring provider, rustls); nothing is sent.
    let credentials = Credentials::new("id", "secret").unwrap();
    let client = Client::new(ClientConfig::new(
        DEFAULT_ENDPOINT,
        "cn-hangzhou",
        credentials,
    ))
    .unwrap();
    assert_eq!(client.config().endpoint, "https://slb.aliyuncs.com");
    let debug = format!("{client:?}");
    assert!(
        debug.contains("<redacted>") && !debug.contains("\"secret\""),
        "{debug}"
    );
}
