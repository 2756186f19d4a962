//! No input makes the emulator panic or answer 5xx: random and malformed parameters (huge timestamps,
//! percent-encoded invalid UTF-8, oversized values, missing and repeated parameters) to every action, signed
//! correctly, wrongly and not at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use slb_api::signature;

use common::{
    Client, Connection, create_http_listener, create_lb, create_rule, create_tcp_listener,
    create_vserver_group,
};

/// Parameter names of every action, the common ones included, so that cases reach the actions' own checks.
const NAMES: &[&str] = &[
    "LoadBalancerId",
    "LoadBalancerID",
    "ListenerPort",
    "BackendServerPort",
    "Bandwidth",
    "StickySession",
    "StickySessionType",
    "CookieTimeout",
    "Cookie",
    "HealthCheck",
    "HealthCheckURI",
    "HealthCheckConnectPort",
    "HealthyThreshold",
    "UnhealthyThreshold",
    "HealthCheckTimeout",
    "HealthCheckConnectTimeout",
    "HealthCheckInterval",
    "healthCheckInterval",
    "HealthCheckHttpCode",
    "HealthCheckDomain",
    "HealthCheckType",
    "HealthCheckReq",
    "HealthCheckExp",
    "Scheduler",
    "PersistenceTimeout",
    "EstablishedTimeout",
    "SynProxy",
    "XForwardedFor",
    "Gzip",
    "ServerCertificateId",
    "CACertificateId",
    "VServerGroupId",
    "VServerGroup",
    "MasterSlaveServerGroupId",
    "MasterSlaveVServerGroupId",
    "MasterSlaveServerGroup",
    "VServerGroupName",
    "MasterSlaveServerGroupName",
    "BackendServers",
    "OldBackendServers",
    "NewBackendServers",
    "MasterSlaveBackendServers",
    "RuleList",
    "RuleIds",
    "RuleId",
    "Tags",
    "Tag.1.Key",
    "Tag.1.Value",
    "PageSize",
    "PageNumber",
    "LoadBalancerName",
    "AddressType",
    "InternetChargeType",
    "LoadBalancerSpec",
    "LoadBalancerStatus",
    "MasterZoneId",
    "SlaveZoneId",
    "VSwitchId",
    "VpcId",
    "ClientToken",
    "PayType",
    "PricingCycle",
    "Duration",
    "AutoPay",
    "AccessControlStatus",
    "SourceItems",
    "ServerCertificate",
    "PrivateKey",
    "ServerCertificateName",
    "CACertificate",
    "CACertificateName",
    "AliCloudCertificateId",
    "IncludeListener",
    "IncludeRule",
    "ServerId",
    "ServerIntranetAddress",
    "RegionId",
    "Action",
    "Timestamp",
    "TimeStamp",
    "Version",
    "Format",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "AccessKeyId",
];

/// Parameters a signed request carries; cases drop some of them.
const COMMON: &[&str] = &[
    "Action",
    "Format",
    "Version",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "RegionId",
];

const BASE: &[(&str, &str)] = &[
    ("LoadBalancerId", "$LB"),
    ("ListenerPort", "80"),
    ("VServerGroupId", "$GROUP"),
    ("MasterSlaveServerGroupId", "$MS"),
    ("RuleId", "$RULE"),
];

/// Resources that exist, so that cases get past "not found" into the actions' own validation. Values name
/// them through placeholders (`$LB`, `$GROUP`, `$MS`, `$RULE`), so that a case that deletes one is followed by
/// a fresh set.
#[derive(Clone)]
struct Fixture {
    ids: Vec<(&'static str, String)>,
}

impl Fixture {
    fn substitute(&self, value: &[u8]) -> Vec<u8> {
        self.ids
            .iter()
            .find(|(placeholder, _)| placeholder.as_bytes() == value)
            .map_or_else(|| value.to_vec(), |(_, id)| id.clone().into_bytes())
    }
}

async fn fixture(client: &mut Client) -> Fixture {
    let lb = create_lb(client, &[]).await;
    create_http_listener(client, &lb, "80").await;
    create_tcp_listener(client, &lb, "81").await;
    let servers = r#"[{"ServerId":"i-1","Port":80,"Weight":100}]"#;
    let group = create_vserver_group(client, &lb, "g", servers).await;
    let pair = r#"[{"ServerId":"i-1","Port":80,"ServerType":"Master"},{"ServerId":"i-2","Port":80,"ServerType":"Slave"}]"#;
    let ms_group = client
        .ok(
            "CreateMasterSlaveServerGroup",
            &[
                ("LoadBalancerId", &lb),
                ("MasterSlaveServerGroupName", "m"),
                ("MasterSlaveBackendServers", pair),
            ],
        )
        .await["MasterSlaveServerGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    let rules = format!(r#"[{{"RuleName":"r","Domain":"a.example","VServerGroupId":"{group}"}}]"#);
    let rule = create_rule(client, &lb, &rules).await;
    Fixture {
        ids: vec![
            ("$LB", lb),
            ("$GROUP", group),
            ("$MS", ms_group),
            ("$RULE", rule),
        ],
    }
}

fn hostile_values() -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = Vec::new();
    let texts = [
        "$LB",
        "$GROUP",
        "$MS",
        "$RULE",
        "80",
        "81",
        "0",
        "-1",
        "-520",
        "65536",
        "99999999999999999999999",
        "1e9",
        "on",
        "off",
        "insert",
        "server",
        "wrr",
        "http_2xx",
        "true",
        "True",
        "PrePay",
        "month",
        "open_white_list",
        "10.0.0.1/8",
        "0.0.0.0/0",
        "cn-hangzhou",
        "cn-hangzhou-a",
        "JSON",
        "xml",
        "2014-05-15",
        "HMAC-SHA1",
        "1.0",
        "99999999999999999-01-01T00:00:00Z",
        "-9223372036854775808-12-31T23:59:59Z",
        "+275760-09-13T00:00:00Z",
        "9999-12-31T23:59:60.999999999Z",
        "2017-02-31T25:61:61Z",
        "T",
        "Z",
        "",
        r#"[{"ServerId":"i-1","Port":80,"Weight":100}]"#,
        r#"[{"ServerId":"i-1","Port":99999999999999}]"#,
        r#"[{"ServerId":{},"Port":[],"Weight":"x"}]"#,
        r#"[{"RuleName":"r2","Url":"/x"}]"#,
        r#"[{"TagKey":"k","TagValue":"v"}]"#,
        "[",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "{\"a\":1}",
        "['a',b,]",
        "名字",
        "\u{0}\u{1}\u{7f}",
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
        "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----",
    ];
    values.extend(texts.iter().map(|t| t.as_bytes().to_vec()));
    values.push(vec![0xff, 0xfe, b'a', 0xc3]);
    values.push([b"lb-".as_slice(), &[0xed, 0xa0, 0x80]].concat());
    values.push(vec![b'x'; 100_000]);
    values.push(
        (0..2000)
            .map(|i| format!("{i},"))
            .collect::<String>()
            .into_bytes(),
    );
    values.push(
        format!(
            "[{}]",
            vec![r#"{"ServerId":"i-1","Port":80}"#; 500].join(",")
        )
        .into_bytes(),
    );
    values
}

#[derive(Debug, Clone, Copy)]
enum Signing {
    Correct,
    Wrong,
    Absent,
}

#[derive(Debug, Clone)]
struct Case {
    action: String,
    dropped: Vec<&'static str>,
    params: Vec<(String, Vec<u8>, bool)>,
    signing: Signing,
    post: bool,
}

fn case_strategy(values: Vec<Vec<u8>>) -> impl Strategy<Value = Case> {
    let mut actions: Vec<String> = slb_emulator::ACTIONS
        .iter()
        .map(|a| a.to_string())
        .collect();
    actions.extend(["NoSuchAction".to_string(), "describeregions".to_string()]);
    let name = prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(str::to_string),
        1 => "[A-Za-z.%]{1,12}",
    ];
    let value = prop_oneof![
        4 => prop::sample::select(values),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ];
    (
        prop::sample::select(actions),
        prop::sample::subsequence(COMMON, 0..=2),
        prop::collection::vec((name, value, prop::bool::weighted(0.8)), 0..10),
        prop_oneof![6 => Just(Signing::Correct), 1 => Just(Signing::Wrong), 1 => Just(Signing::Absent)],
        any::<bool>(),
    )
        .prop_map(|(action, dropped, params, signing, post)| Case {
            action,
            dropped,
            params,
            signing,
            post,
        })
}

/// `%XX` for every byte outside the unreserved set, so that invalid UTF-8 reaches the server as sent.
fn encode_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(*b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn send(client: &mut Client, fixture: &Fixture, case: &Case) -> common::Reply {
    let mut pairs: Vec<(String, Vec<u8>)> = client
        .common(&case.action)
        .into_iter()
        .filter(|(k, _)| !case.dropped.contains(&k.as_str()))
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    // Identifiers of existing resources, so that most cases get past "not found"; generated parameters may
    // replace or repeat them.
    for (name, value) in BASE {
        pairs.push((name.to_string(), fixture.substitute(value.as_bytes())));
    }
    for (name, value, replace) in &case.params {
        if *replace {
            pairs.retain(|(k, _)| k != name);
        }
        pairs.push((name.clone(), fixture.substitute(value)));
    }
    // The server decodes invalid UTF-8 lossily; signing the lossy text lets such values reach the actions.
    let lossy: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    let method = if case.post { "POST" } else { "GET" };
    match case.signing {
        Signing::Correct => {
            let sig = signature::sign(
                method,
                lossy.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                &client.access_key_secret,
            );
            pairs.push(("Signature".into(), sig.into_bytes()));
        }
        Signing::Wrong => pairs.push(("Signature".into(), b"AAAA".to_vec())),
        Signing::Absent => {}
    }
    let encoded: String = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_bytes(k.as_bytes()), encode_bytes(v)))
        .collect::<Vec<_>>()
        .join("&");
    if case.post {
        client.connection.send("POST", "/", Some(&encoded)).await
    } else {
        client
            .connection
            .send("GET", &format!("/?{encoded}"), None)
            .await
    }
}

#[test]
fn no_input_panics_or_answers_5xx() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (emulator, mut client) = runtime.block_on(common::start());
    let current = std::cell::RefCell::new(runtime.block_on(fixture(&mut client)));
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(768);
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let strategy = case_strategy(hostile_values());
    let result = runner.run(&strategy, |case| {
        runtime.block_on(async {
            // A fresh connection per case: a panic in a handler would drop it and show up as a failed read.
            let mut client = common::client_at(emulator.addr()).await;
            let fixture_now = current.borrow().clone();
            let reply = send(&mut client, &fixture_now, &case).await;
            if case.action.starts_with("Delete") && reply.status == 200 {
                let fresh = fixture(&mut client).await;
                *current.borrow_mut() = fresh;
            }
            if reply.status >= 500 {
                return Err(TestCaseError::fail(format!(
                    "{} {}",
                    reply.status, reply.body
                )));
            }
            // An over-long request line is refused by the HTTP layer itself (414/431), before any handler.
            let http_limit = [413, 414, 431].contains(&reply.status);
            if !http_limit && !reply.body.contains("RequestId") {
                return Err(TestCaseError::fail(format!(
                    "no RequestId: {} {}",
                    reply.status, reply.body
                )));
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // Still serving, and the successful and refused calls were all counted.
    let counters = emulator.counters();
    eprintln!("results by code: {:?}", counters.by_code);
    // Over-long GET lines never reach the handler; the rest were all counted.
    assert!(counters.calls >= u64::from(cases) / 2, "{counters:?}");
    assert!(
        counters.errors > 0 && counters.by_code.contains_key("OK"),
        "{counters:?}"
    );
    runtime.block_on(async {
        client.connection = Connection::open(emulator.addr()).await;
        client.ok("DescribeRegions", &[]).await;
    });
}

/// Every action with a parameter of each hostile kind, correctly signed, in a deterministic sweep (the random
/// cases above may miss a combination).
#[test]
fn every_action_takes_every_hostile_value() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (emulator, mut client) = common::start().await;
        let values = hostile_values();
        for action in slb_emulator::ACTIONS {
            // A fresh set per action, as the Delete actions may remove the last one.
            let fixture = fixture(&mut client).await;
            for name in [
                "LoadBalancerId",
                "ListenerPort",
                "Timestamp",
                "BackendServers",
                "RuleList",
                "Tags",
            ] {
                for value in &values {
                    let case = Case {
                        action: action.to_string(),
                        dropped: Vec::new(),
                        params: vec![(name.to_string(), value.clone(), true)],
                        signing: Signing::Correct,
                        post: value.len() > 4096,
                    };
                    let reply = send(&mut client, &fixture, &case).await;
                    assert!(
                        reply.status < 500,
                        "{action} {name}={:?}: {} {}",
                        String::from_utf8_lossy(&value[..value.len().min(80)]),
                        reply.status,
                        reply.body
                    );
                }
            }
        }
        drop(emulator);
    });
}
