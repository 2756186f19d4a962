//! A tiny signing client for the emulator's tests and benchmarks: requests are signed with
//! `slb_api::signature` and sent over a plain keep-alive HTTP/1.1 connection to 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use slb_api::signature;
use slb_emulator::{Config, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Emulator, RunningEmulator};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const REGION: &str = "cn-hangzhou";

/// `YYYY-MM-DDThh:mm:ssZ` for a Unix time in seconds.
pub fn iso8601(secs: i64) -> String {
    slb_emulator::iso8601(u64::try_from(secs).unwrap() * 1000)
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An HTTP response: status and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The string `field` of each item of the JSON array `list`.
pub fn field_of_each(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[field].as_str().unwrap().to_string())
        .collect()
}

/// One keep-alive connection.
pub struct Connection {
    reader: BufReader<TcpStream>,
    host: String,
}

impl Connection {
    pub async fn open(addr: std::net::SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            reader: BufReader::new(stream),
            host: addr.to_string(),
        }
    }

    pub async fn send(
        &mut self,
        method: &str,
        path_and_query: &str,
        form_body: Option<&str>,
    ) -> Reply {
        let mut request = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\n",
            self.host
        );
        if let Some(body) = form_body {
            request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            request.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        if let Some(body) = form_body {
            request.push_str(body);
        }
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).await.unwrap();
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.unwrap();
        Reply {
            status,
            body: String::from_utf8(body).unwrap(),
        }
    }
}

/// Writes `request` as is on a new connection and reads until the emulator closes it: the whole response.
pub async fn send_raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// A JSON-bodied admin call (`PUT /__admin/faults`, `PATCH /__admin/load-balancers/{id}`), which must answer
/// 204.
pub async fn admin_json(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = send_raw(addr, &request).await;
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
}

/// A call and its parameters.
pub type Call<'a> = (&'a str, &'a [(&'a str, &'a str)]);

/// A call that must fail, with the HTTP status and the error code it fails with.
pub type Refusal<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);

/// Signs and sends API calls for one account.
pub struct Client {
    pub connection: Connection,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub region: Option<String>,
}

pub fn encode_pairs(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                signature::percent_encode(k),
                signature::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    pub async fn new(emulator: &RunningEmulator) -> Self {
        Self::with_keys(emulator, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).await
    }

    pub async fn with_keys(emulator: &RunningEmulator, key_id: &str, secret: &str) -> Self {
        Self {
            connection: Connection::open(emulator.addr()).await,
            access_key_id: key_id.to_string(),
            access_key_secret: secret.to_string(),
            region: Some(REGION.to_string()),
        }
    }

    /// The common parameters of a fresh request (new nonce, current time), JSON format.
    pub fn common(&self, action: &str) -> Vec<(String, String)> {
        let mut params = vec![
            ("Action".to_string(), action.to_string()),
            ("Format".to_string(), "JSON".to_string()),
            ("Version".to_string(), "2014-05-15".to_string()),
            ("AccessKeyId".to_string(), self.access_key_id.clone()),
            ("SignatureMethod".to_string(), "HMAC-SHA1".to_string()),
            ("SignatureVersion".to_string(), "1.0".to_string()),
            (
                "SignatureNonce".to_string(),
                uuid::Uuid::new_v4().to_string(),
            ),
            ("Timestamp".to_string(), iso8601(now_secs())),
        ];
        if let Some(region) = &self.region {
            params.push(("RegionId".to_string(), region.clone()));
        }
        params
    }

    /// `params` and their `Signature` for `method`.
    pub fn signed(&self, method: &str, mut params: Vec<(String, String)>) -> Vec<(String, String)> {
        let sig = signature::sign(
            method,
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &self.access_key_secret,
        );
        params.push(("Signature".to_string(), sig));
        params
    }

    /// Signs `params` for `method` and sends them in the query string.
    pub async fn send_signed(&mut self, method: &str, params: Vec<(String, String)>) -> Reply {
        let query = encode_pairs(&self.signed(method, params));
        self.connection
            .send(method, &format!("/?{query}"), None)
            .await
    }

    /// A GET call with JSON output.
    pub async fn call(&mut self, action: &str, extra: &[(&str, &str)]) -> Reply {
        let mut params = self.common(action);
        for (k, v) in extra {
            params.retain(|(name, _)| name != k);
            params.push((k.to_string(), v.to_string()));
        }
        self.send_signed("GET", params).await
    }

    /// A call that must succeed; returns its JSON body.
    pub async fn ok(&mut self, action: &str, extra: &[(&str, &str)]) -> Value {
        let reply = self.call(action, extra).await;
        assert_eq!(reply.status, 200, "{action} failed: {}", reply.body);
        let body = reply.json();
        assert!(
            body["RequestId"].is_string(),
            "{action}: no RequestId in {}",
            reply.body
        );
        body
    }

    /// A call that must fail; returns (HTTP status, Code, Message).
    pub async fn err(&mut self, action: &str, extra: &[(&str, &str)]) -> (u16, String, String) {
        let reply = self.call(action, extra).await;
        assert_ne!(
            reply.status, 200,
            "{action} unexpectedly succeeded: {}",
            reply.body
        );
        let body = reply.json();
        assert!(
            body["RequestId"].is_string() && body["HostId"].is_string(),
            "bad error body {}",
            reply.body
        );
        (
            reply.status,
            body["Code"].as_str().unwrap().to_string(),
            body["Message"].as_str().unwrap().to_string(),
        )
    }

    /// `expect_err`, and where `expected_message` is given, the message must be it.
    pub async fn expect_err_and_message(
        &mut self,
        action: &str,
        extra: &[(&str, &str)],
        (status, code): (u16, &str),
        expected_message: Option<&str>,
    ) {
        let message = self.expect_err(action, extra, status, code).await;
        if let Some(expected) = expected_message {
            assert_eq!(message, expected, "{action} {extra:?}");
        }
    }

    /// Makes the calls in turn; each must succeed.
    pub async fn ok_each(&mut self, calls: &[Call<'_>]) {
        for &(action, extra) in calls {
            self.ok(action, extra).await;
        }
    }

    /// Makes the calls in turn; each must fail with its status and code.
    pub async fn expect_errs(&mut self, refusals: &[Refusal<'_>]) {
        for &(action, extra, status, code) in refusals {
            self.expect_err(action, extra, status, code).await;
        }
    }

    /// Makes the calls in turn; each must fail with the same status and code.
    pub async fn expect_err_of_each(&mut self, calls: &[Call<'_>], status: u16, code: &str) {
        for &(action, extra) in calls {
            self.expect_err(action, extra, status, code).await;
        }
    }

    /// Asserts the error code (and HTTP status) of a failing call; returns the message.
    pub async fn expect_err(
        &mut self,
        action: &str,
        extra: &[(&str, &str)],
        status: u16,
        code: &str,
    ) -> String {
        let (got_status, got_code, message) = self.err(action, extra).await;
        assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{action}: {message}"
        );
        message
    }
}

/// An emulator on an ephemeral loopback port and a client of the demo account.
pub async fn start() -> (RunningEmulator, Client) {
    start_with(Config::for_tests()).await
}

/// `start` and a new load balancer of the default settings (its ID), the setting of most tests.
pub async fn start_with_lb() -> (RunningEmulator, Client, String) {
    let (emulator, mut client) = start().await;
    let lb = create_lb(&mut client, &[]).await;
    (emulator, client, lb)
}

pub async fn start_with(config: Config) -> (RunningEmulator, Client) {
    let emulator = Emulator::start(config).await.unwrap();
    let client = Client::new(&emulator).await;
    (emulator, client)
}

/// A new load balancer; returns its ID.
pub async fn create_lb(client: &mut Client, extra: &[(&str, &str)]) -> String {
    let body = client.ok("CreateLoadBalancer", extra).await;
    body["LoadBalancerId"].as_str().unwrap().to_string()
}

/// A new VServer group of `servers` (the BackendServers JSON) on `lb`; returns its ID.
pub async fn create_vserver_group(
    client: &mut Client,
    lb: &str,
    name: &str,
    servers: &str,
) -> String {
    let body = client
        .ok(
            "CreateVServerGroup",
            &[
                ("LoadBalancerId", lb),
                ("VServerGroupName", name),
                ("BackendServers", servers),
            ],
        )
        .await;
    body["VServerGroupId"].as_str().unwrap().to_string()
}

/// CreateRules on the listener at port 80 of `lb`; returns the response.
pub async fn create_rules(client: &mut Client, lb: &str, rule_list: &str) -> Value {
    client
        .ok(
            "CreateRules",
            &[
                ("LoadBalancerId", lb),
                ("ListenerPort", "80"),
                ("RuleList", rule_list),
            ],
        )
        .await
}

/// The ID of the first rule CreateRules makes of `rule_list` (port 80 of `lb`).
pub async fn create_rule(client: &mut Client, lb: &str, rule_list: &str) -> String {
    let body = create_rules(client, lb, rule_list).await;
    body["Rules"]["Rule"][0]["RuleId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The Describe…Attribute `action` of the resource `id_name`=`id` names `lb` as its load balancer.
pub async fn assert_belongs_to(
    client: &mut Client,
    action: &str,
    (id_name, id): (&str, &str),
    lb: &str,
) {
    let described = client.ok(action, &[(id_name, id)]).await;
    assert_eq!(described["LoadBalancerId"], lb, "{action} {id}");
}

/// A plain HTTP listener (health check off, sticky sessions off).
pub async fn create_http_listener(client: &mut Client, lb: &str, port: &str) {
    client
        .ok(
            "CreateLoadBalancerHTTPListener",
            &[
                ("LoadBalancerId", lb),
                ("ListenerPort", port),
                ("BackendServerPort", "8080"),
                ("Bandwidth", "-1"),
                ("StickySession", "off"),
                ("HealthCheck", "off"),
            ],
        )
        .await;
}

pub async fn create_tcp_listener(client: &mut Client, lb: &str, port: &str) {
    client
        .ok(
            "CreateLoadBalancerTCPListener",
            &[
                ("LoadBalancerId", lb),
                ("ListenerPort", port),
                ("BackendServerPort", port),
                ("Bandwidth", "-1"),
            ],
        )
        .await;
}

/// A self-signed EC P-256 certificate and its key in PEM, from slb-api's test data (the emulator checks that they
/// match).
pub const TEST_CERTIFICATE: &str = include_str!("../../../slb-api/testdata/ec-p256.crt");
pub const TEST_PRIVATE_KEY: &str = include_str!("../../../slb-api/testdata/ec-p256-pkcs8.key");
/// A P-256 key that is not TEST_CERTIFICATE's.
pub const OTHER_PRIVATE_KEY: &str = include_str!("../../../slb-api/testdata/ec-p256-other.key");

/// Starts the `slb-emulator` binary on an ephemeral loopback port; returns the process and its address.
pub fn spawn_binary(
    extra_args: &[&str],
    state_file: Option<&std::path::Path>,
) -> (Child, std::net::SocketAddr) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slb-emulator"));
    command
        .args(["--listen", "127.0.0.1:0", "--transition-delay-ms", "0"])
        .args(extra_args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(path) = state_file {
        command.arg("--state-file").arg(path);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the emulator exited before serving")
            .unwrap();
        if let Some(at) = line.find("http://") {
            let rest = &line[at + "http://".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
                .unwrap_or(rest.len());
            break rest[..end].parse().unwrap();
        }
    };
    // Keep draining stdout (one log line per call) so that logging never blocks the emulator.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// A client of the demo account on a new connection to `addr`.
pub async fn client_at(addr: std::net::SocketAddr) -> Client {
    Client {
        connection: Connection::open(addr).await,
        access_key_id: DEMO_ACCESS_KEY_ID.into(),
        access_key_secret: DEMO_ACCESS_KEY_SECRET.into(),
        region: Some(REGION.into()),
    }
}
