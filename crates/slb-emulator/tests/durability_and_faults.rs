//! The state file (including across `kill -9`), concurrency, fault injection and the admin endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{
    Connection, admin_json, assert_belongs_to, create_lb, create_rule, create_rules,
    create_vserver_group, field_of_each, start, start_with,
};
use slb_emulator::{Config, Emulator, Faults};

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = Config {
        state_file: Some(path.clone()),
        ..Config::for_tests()
    };
    let (emulator, mut client) = start_with(config.clone()).await;
    let lb = create_lb(&mut client, &[("LoadBalancerName", "durable")]).await;
    common::create_http_listener(&mut client, &lb, "80").await;
    let servers = r#"[{"ServerId":"i-1","Port":80}]"#;
    let group = create_vserver_group(&mut client, &lb, "g", servers).await;
    let rules = format!(r#"[{{"RuleName":"r","Url":"/a","VServerGroupId":"{group}"}}]"#);
    let rule = create_rule(&mut client, &lb, &rules).await;
    emulator.shutdown().await.unwrap();

    let (_emulator, mut client) = start_with(config).await;
    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(attr["LoadBalancerName"], "durable");
    assert_eq!(attr["ListenerPorts"]["ListenerPort"][0], 80);
    // Groups and rules are found by their own IDs after the restart too.
    let group_id = ("VServerGroupId", group.as_str());
    assert_belongs_to(&mut client, "DescribeVServerGroupAttribute", group_id, &lb).await;
    let rule_id = ("RuleId", rule.as_str());
    assert_belongs_to(&mut client, "DescribeRuleAttribute", rule_id, &lb).await;
    // Once the load balancer is gone, so are they.
    client
        .ok("DeleteLoadBalancer", &[("LoadBalancerId", &lb)])
        .await;
    client
        .expect_errs(&[
            (
                "DescribeRuleAttribute",
                &[("RuleId", &rule)],
                400,
                "InvalidParameter",
            ),
            (
                "DescribeVServerGroupAttribute",
                &[("VServerGroupId", &group)],
                404,
                "InvalidParameter",
            ),
        ])
        .await;
    // IDs continue from the saved generator state rather than repeating.
    let next = create_lb(&mut client, &[]).await;
    assert_ne!(next, lb);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let (mut child, addr) = common::spawn_binary(&[], Some(&path));
    let mut client = common::client_at(addr).await;
    let mut created = Vec::new();
    for i in 0..5 {
        let id = create_lb(&mut client, &[("LoadBalancerName", &format!("k{i}"))]).await;
        // Read at once, no sleep: the write reached the file before the answer was sent, not later.
        let saved = std::fs::read(&path).unwrap();
        assert!(
            contains(&saved, id.as_bytes()),
            "{id} is not in the state file yet"
        );
        created.push(id);
    }
    child.kill().unwrap(); // SIGKILL: no chance to flush anything.
    child.wait().unwrap();

    let (mut child, addr) = common::spawn_binary(&[], Some(&path));
    client.connection = Connection::open(addr).await;
    let listed = client.ok("DescribeLoadBalancers", &[]).await;
    let ids = field_of_each(&listed["LoadBalancers"]["LoadBalancer"], "LoadBalancerId");
    for id in &created {
        assert!(ids.contains(id), "{id} was lost");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn many_concurrent_clients() {
    let (emulator, _) = start().await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let addr = emulator.addr();
        tasks.push(tokio::spawn(async move {
            let mut client = common::client_at(addr).await;
            let mut ids = Vec::new();
            for _ in 0..10 {
                let id = create_lb(&mut client, &[]).await;
                client
                    .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &id)])
                    .await;
                ids.push(id);
            }
            ids
        }));
    }
    let mut all = HashSet::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all.len(), 160);
    assert_eq!(emulator.counters().writes, 160);
}

#[tokio::test]
async fn injected_errors_do_not_change_state() {
    let (emulator, mut client) = start().await;
    for (faults, status, code) in [
        (
            Faults {
                error_500_rate: 1.0,
                ..Faults::default()
            },
            500,
            "InternalInvokeError",
        ),
        (
            Faults {
                error_503_rate: 1.0,
                ..Faults::default()
            },
            503,
            "ServiceUnavailable",
        ),
        (
            Faults {
                processing_same_request_rate: 1.0,
                ..Faults::default()
            },
            400,
            "ProcessingSameRequest",
        ),
    ] {
        emulator.set_faults(faults);
        client
            .expect_err("CreateLoadBalancer", &[], status, code)
            .await;
    }
    emulator.set_faults(Faults::default());
    let listed = client.ok("DescribeLoadBalancers", &[]).await;
    assert_eq!(listed["TotalCount"], 0);
}

#[tokio::test]
async fn fault_rates_are_reproducible_with_a_seed() {
    let (emulator, mut client) = start().await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        emulator.set_faults(Faults {
            error_503_rate: 0.5,
            seed: 42,
            ..Faults::default()
        });
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            outcomes.push(client.call("DescribeRegions", &[]).await.status);
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0].iter().filter(|s| **s == 503).count();
    assert!((5..=35).contains(&failures), "{failures} of 40");
}

/// How many of six quick DescribeRegions calls are throttled.
async fn throttled_of_six(client: &mut common::Client) -> usize {
    let mut throttled = 0;
    for _ in 0..6 {
        let reply = client.call("DescribeRegions", &[]).await;
        if reply.status == 400 && reply.body.contains("\"Code\":\"Throttling\"") {
            throttled += 1;
        }
    }
    throttled
}

#[tokio::test]
async fn throttling_latency_and_hangs() {
    let (emulator, mut client) = start().await;
    emulator.set_faults(Faults {
        qps_limit: Some(3),
        ..Faults::default()
    });
    let throttled = throttled_of_six(&mut client).await;
    assert!(throttled >= 2, "{throttled}");

    // Per action: one action over its limit leaves the others alone.
    emulator.set_faults(Faults {
        qps_limit_per_action: Some(2),
        ..Faults::default()
    });
    let throttled = throttled_of_six(&mut client).await;
    // Six calls span at most two one-second windows, so at least two are over a limit of two.
    assert!(throttled >= 2, "{throttled}");
    client.ok("DescribeZones", &[]).await;

    emulator.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let started = Instant::now();
    client.ok("DescribeRegions", &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(150));

    // A hung call is still applied: the client sees it late (or times out), the state has it.
    emulator.set_faults(Faults {
        hang_rate: 1.0,
        hang_ms: 300,
        ..Faults::default()
    });
    let started = Instant::now();
    let lb = create_lb(&mut client, &[]).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let hung = emulator.counters().hung_by_action;
    assert_eq!(hung.get("CreateLoadBalancer"), Some(&1), "{hung:?}");
    emulator.set_faults(Faults::default());
    client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
}

#[tokio::test]
async fn admin_endpoints() {
    let (emulator, mut client) = start().await;
    let lb = create_lb(&mut client, &[("LoadBalancerName", "before")]).await;
    let mut admin = Connection::open(emulator.addr()).await;

    let state = admin.send("GET", "/__admin/state", None).await;
    assert_eq!(state.status, 200);
    assert!(state.body.contains(&lb));

    // A console-style change behind the API's back, for drift tests.
    let body = r#"{"name":"changed-in-console","status":"inactive"}"#;
    admin_json(
        emulator.addr(),
        "PATCH",
        &format!("/__admin/load-balancers/{lb}"),
        body,
    )
    .await;
    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(attr["LoadBalancerName"], "changed-in-console");
    assert_eq!(attr["LoadBalancerStatus"], "inactive");

    let faults = admin.send("GET", "/__admin/faults", None).await;
    assert!(faults.body.contains("error_503_rate"));
    let reset = admin.send("POST", "/__admin/reset", None).await;
    assert_eq!(reset.status, 204);
    client
        .expect_err(
            "DescribeLoadBalancerAttribute",
            &[("LoadBalancerId", &lb)],
            404,
            "InvalidLoadBalancerId.NotFound",
        )
        .await;
    let after_reset = create_lb(&mut client, &[]).await;
    assert_ne!(after_reset, lb, "IDs are not reissued after a reset");
    let lb = after_reset;
    let deleted = admin
        .send("DELETE", &format!("/__admin/load-balancers/{lb}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    let missing = admin
        .send("DELETE", &format!("/__admin/load-balancers/{lb}"), None)
        .await;
    assert_eq!(missing.status, 404);
    let accounts = admin.send("GET", "/__admin/accounts", None).await;
    assert!(
        accounts.body.contains("LTAIDemoAccessKeyId")
            && !accounts.body.contains("DemoAccessKeySecret")
    );
    let ecs = admin.send("GET", "/__admin/ecs-instances", None).await;
    assert_eq!(ecs.body, "null");
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    let emulator = Emulator::start(Config::for_tests()).await.unwrap();
    let addr = emulator.addr();
    emulator.shutdown().await.unwrap();
    let again = Emulator::start(Config {
        listen: addr,
        ..Config::for_tests()
    })
    .await
    .unwrap();
    assert_eq!(again.addr(), addr);
    assert!(again.url().starts_with("http://127.0.0.1:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_all_saved() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        state_file: Some(dir.path().join("state.json")),
        ..Config::for_tests()
    };
    let emulator = Emulator::start(config.clone()).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let addr = emulator.addr();
        tasks.push(tokio::spawn(async move {
            let mut client = common::client_at(addr).await;
            let mut ids = Vec::new();
            for _ in 0..5 {
                ids.push(create_lb(&mut client, &[]).await);
            }
            ids
        }));
    }
    let mut created = HashSet::new();
    for task in tasks {
        created.extend(task.await.unwrap());
    }
    emulator.shutdown().await.unwrap();
    let (_emulator, mut client) = start_with(config).await;
    let listed = client.ok("DescribeLoadBalancers", &[]).await;
    let listed: HashSet<String> =
        field_of_each(&listed["LoadBalancers"]["LoadBalancer"], "LoadBalancerId")
            .into_iter()
            .collect();
    assert_eq!(listed, created);
}

/// Every kind of write, then a restart: the state read back is the state written, record for record.
#[tokio::test]
async fn every_kind_of_write_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        state_file: Some(dir.path().join("state.db")),
        ..Config::for_tests()
    };
    let (emulator, mut client) = start_with(config.clone()).await;
    let lb = create_lb(&mut client, &[("ClientToken", "token-1")]).await;
    let doomed = create_lb(&mut client, &[]).await;
    client
        .ok_each(&[
            (
                "SetLoadBalancerName",
                &[("LoadBalancerId", &lb), ("LoadBalancerName", "renamed")],
            ),
            (
                "AddTags",
                &[
                    ("LoadBalancerId", &lb),
                    ("Tags", r#"[{"TagKey":"k","TagValue":"v"}]"#),
                ],
            ),
        ])
        .await;
    common::create_http_listener(&mut client, &lb, "80").await;
    common::create_tcp_listener(&mut client, &lb, "81").await;
    client
        .ok_each(&[
            (
                "StartLoadBalancerListener",
                &[("LoadBalancerId", &lb), ("ListenerPort", "81")],
            ),
            (
                "AddListenerWhiteListItem",
                &[
                    ("LoadBalancerId", &lb),
                    ("ListenerPort", "80"),
                    ("SourceItems", "10.0.0.1"),
                ],
            ),
            (
                "AddBackendServers",
                &[
                    ("LoadBalancerId", &lb),
                    ("BackendServers", r#"[{"ServerId":"i-1"}]"#),
                ],
            ),
        ])
        .await;
    let group =
        create_vserver_group(&mut client, &lb, "g", r#"[{"ServerId":"i-2","Port":80}]"#).await;
    client
        .ok(
            "SetVServerGroupAttribute",
            &[("VServerGroupId", &group), ("VServerGroupName", "g2")],
        )
        .await;
    let rules = format!(r#"[{{"RuleName":"r","Url":"/a","VServerGroupId":"{group}"}}]"#);
    create_rules(&mut client, &lb, &rules).await;
    let cert = client
        .ok(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", common::TEST_CERTIFICATE),
                ("PrivateKey", common::TEST_PRIVATE_KEY),
            ],
        )
        .await["ServerCertificateId"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .ok(
            "SetServerCertificateName",
            &[
                ("ServerCertificateId", &cert),
                ("ServerCertificateName", "c2"),
            ],
        )
        .await;
    let ca = client
        .ok(
            "UploadCACertificate",
            &[
                ("CACertificate", common::TEST_CERTIFICATE),
                ("CACertificateName", "ca"),
            ],
        )
        .await["CACertificateId"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .ok_each(&[
            ("DeleteCACertificate", &[("CACertificateId", &ca)]),
            ("DeleteLoadBalancer", &[("LoadBalancerId", &doomed)]),
        ])
        .await;
    let before = emulator.state();
    emulator.shutdown().await.unwrap();

    let (emulator, mut client) = start_with(config).await;
    assert_eq!(emulator.state(), before);
    // The ClientToken record came back too: the same call answers the same instance.
    assert_eq!(
        create_lb(&mut client, &[("ClientToken", "token-1")]).await,
        lb
    );
}

/// A JSON state file of earlier versions (the document `/__admin/state` shows) is imported into the database.
#[tokio::test]
async fn a_json_state_file_is_imported() {
    let (emulator, mut client) = start().await;
    let lb = create_lb(&mut client, &[("LoadBalancerName", "old")]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(&path, serde_json::to_vec(&emulator.state()).unwrap()).unwrap();
    let config = Config {
        state_file: Some(path.clone()),
        ..Config::for_tests()
    };
    let (_emulator, mut client) = start_with(config).await;
    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(attr["LoadBalancerName"], "old");
    assert_ne!(std::fs::read(&path).unwrap().first(), Some(&b'{'));
}
