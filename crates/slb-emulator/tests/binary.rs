//! The `slb-emulator` binary's flags: credentials file, ECS inventory file, faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Connection, create_lb, spawn_binary};

#[tokio::test]
async fn credentials_and_inventory_files() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("accounts.json");
    std::fs::write(
        &credentials,
        r#"[{"account_id":"111","access_key_id":"key-a","access_key_secret":"secret-a"},
            {"account_id":"222","access_key_id":"key-b","access_key_secret":"secret-b"}]"#,
    )
    .unwrap();
    let inventory = dir.path().join("ecs.json");
    std::fs::write(
        &inventory,
        r#"[{"instance_id":"i-known","private_ip":"192.0.2.10"}]"#,
    )
    .unwrap();
    let (mut child, addr) = spawn_binary(
        &[
            "--credentials-file",
            credentials.to_str().unwrap(),
            "--ecs-instances",
            inventory.to_str().unwrap(),
        ],
        None,
    );
    let client_for = |key: &str, secret: &str| {
        let (key, secret) = (key.to_string(), secret.to_string());
        async move {
            Client {
                connection: Connection::open(addr).await,
                access_key_id: key,
                access_key_secret: secret,
                region: Some(common::REGION.into()),
            }
        }
    };
    let mut a = client_for("key-a", "secret-a").await;
    let mut b = client_for("key-b", "secret-b").await;
    let mut demo = client_for(
        slb_emulator::DEMO_ACCESS_KEY_ID,
        slb_emulator::DEMO_ACCESS_KEY_SECRET,
    )
    .await;

    let lb = create_lb(&mut a, &[]).await;
    a.ok(
        "AddBackendServers",
        &[
            ("LoadBalancerId", &lb),
            ("BackendServers", r#"[{"ServerId":"i-known"}]"#),
        ],
    )
    .await;
    a.expect_err(
        "AddBackendServers",
        &[
            ("LoadBalancerId", &lb),
            ("BackendServers", r#"[{"ServerId":"i-other"}]"#),
        ],
        400,
        "InvalidServerId.NotFound",
    )
    .await;
    let by_ip = a
        .ok(
            "DescribeLoadBalancers",
            &[("ServerIntranetAddress", "192.0.2.10")],
        )
        .await;
    assert_eq!(by_ip["TotalCount"], 1);
    b.expect_err(
        "DescribeLoadBalancerAttribute",
        &[("LoadBalancerId", &lb)],
        404,
        "InvalidLoadBalancerId.NotFound",
    )
    .await;
    demo.expect_err("DescribeRegions", &[], 400, "InternalError")
        .await;

    // The call log names the account; the admin state is keyed by account ID.
    let mut admin = Connection::open(addr).await;
    let state = admin.send("GET", "/__admin/state", None).await;
    let state: serde_json::Value = serde_json::from_str(&state.body).unwrap();
    assert!(state["accounts"]["111"]["load_balancers"][&lb].is_object());
    let calls = admin
        .send("GET", "/__admin/calls?action=CreateLoadBalancer", None)
        .await;
    assert!(calls.body.contains("\"account\":\"111\""), "{}", calls.body);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn fault_flags() {
    let (mut child, addr) = spawn_binary(&["--fault-503-rate", "1"], None);
    let mut client = common::client_at(addr).await;
    client
        .expect_err("DescribeRegions", &[], 503, "ServiceUnavailable")
        .await;
    // Faults change at runtime through the admin endpoint.
    common::admin_json(addr, "PUT", "/__admin/faults", r#"{"error_503_rate":0.0}"#).await;
    client.ok("DescribeRegions", &[]).await;
    child.kill().unwrap();
    child.wait().unwrap();
}
