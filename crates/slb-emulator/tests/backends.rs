//! Backend servers, health, VServer groups and master-slave groups.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    assert_belongs_to, create_http_listener, create_lb, create_rule, create_tcp_listener,
    create_vserver_group, field_of_each, start_with, start_with_lb,
};
use serde_json::Value;
use slb_emulator::{Config, EcsInstance, HealthOverride};

fn servers(body: &Value) -> Vec<(String, i64)> {
    body["BackendServers"]["BackendServer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["ServerId"].as_str().unwrap().to_string(),
                s["Weight"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn add_set_remove_backend_servers() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let added = client
        .ok(
            "AddBackendServers",
            &[
                ("LoadBalancerId", &lb),
                ("BackendServers", r#"[{"ServerId":"i-1","Weight":"100"},{"ServerId":"i-2","Weight":50},{"ServerId":"i-1","Weight":"10"}]"#),
            ],
        )
        .await;
    assert_eq!(added["LoadBalancerId"], lb.as_str());
    assert_eq!(
        servers(&added),
        vec![("i-1".into(), 100), ("i-2".into(), 50)],
        "duplicates: the first wins"
    );
    let set = client
        .ok(
            "SetBackendServers",
            &[
                ("LoadBalancerId", &lb),
                (
                    "BackendServers",
                    r#"[{"ServerId":"i-2","Weight":"0"},{"ServerId":"i-9","Weight":"5"}]"#,
                ),
            ],
        )
        .await;
    assert_eq!(servers(&set), vec![("i-1".into(), 100), ("i-2".into(), 0)]);
    let removed = client
        .ok(
            "RemoveBackendServers",
            &[
                ("LoadBalancerId", &lb),
                ("BackendServers", r#"["i-1","i-404"]"#),
            ],
        )
        .await;
    assert_eq!(servers(&removed), vec![("i-2".into(), 0)]);
    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(servers(&attr), vec![("i-2".into(), 0)]);

    let m = client
        .expect_err(
            "AddBackendServers",
            &[
                ("LoadBalancerId", &lb),
                ("BackendServers", r#"[{"ServerId":"i-1","Weight":"101"}]"#),
            ],
            400,
            "InvalidWeight.Malformed",
        )
        .await;
    assert_eq!(m, "A specified weight is not valid.");
    let m = client
        .expect_err(
            "AddBackendServers",
            &[("LoadBalancerId", &lb), ("BackendServers", "[{")],
            404,
            "InvalidParameter",
        )
        .await;
    assert_eq!(m, "The specified parameter BackendServers is not valid.");
    let many: Vec<String> = (0..21)
        .map(|i| format!(r#"{{"ServerId":"i-{i}"}}"#))
        .collect();
    let m = client
        .expect_err(
            "AddBackendServers",
            &[
                ("LoadBalancerId", &lb),
                ("BackendServers", &format!("[{}]", many.join(","))),
            ],
            400,
            "TooManyBackendServers",
        )
        .await;
    assert_eq!(
        m,
        "The total number of input real servers exceeds max supported number: 20"
    );
    client
        .expect_errs(&[
            (
                "AddBackendServers",
                &[("LoadBalancerId", &lb)],
                400,
                "MissingParameter",
            ),
            (
                "AddBackendServers",
                &[
                    ("LoadBalancerId", "lb-none"),
                    ("BackendServers", r#"[{"ServerId":"i-1"}]"#),
                ],
                404,
                "InvalidLoadBalancerId.NotFound",
            ),
        ])
        .await;
}

#[tokio::test]
async fn ecs_inventory_checks_server_ids() {
    let mut stopped = EcsInstance::running("i-stopped");
    stopped.status = "Stopped".into();
    let config = Config {
        ecs_instances: Some(vec![EcsInstance::running("i-known"), stopped]),
        ..Config::for_tests()
    };
    let (emulator, mut client) = start_with(config).await;
    let lb = create_lb(&mut client, &[]).await;
    client
        .ok(
            "AddBackendServers",
            &[
                ("LoadBalancerId", &lb),
                ("BackendServers", r#"[{"ServerId":"i-known"}]"#),
            ],
        )
        .await;
    let m = client
        .expect_err(
            "AddBackendServers",
            &[
                ("LoadBalancerId", &lb),
                ("BackendServers", r#"[{"ServerId":"i-unknown"}]"#),
            ],
            400,
            "InvalidServerId.NotFound",
        )
        .await;
    assert_eq!(m, "The specified server is not found.");
    client
        .expect_errs(&[
            (
                "AddBackendServers",
                &[
                    ("LoadBalancerId", &lb),
                    ("BackendServers", r#"[{"ServerId":"i-stopped"}]"#),
                ],
                503,
                "ServiceUnavailable",
            ),
            (
                "CreateVServerGroup",
                &[
                    ("LoadBalancerId", &lb),
                    ("VServerGroupName", "g"),
                    ("BackendServers", r#"[{"ServerId":"i-unknown","Port":80}]"#),
                ],
                400,
                "InvalidServerId.NotFound",
            ),
        ])
        .await;
    // The inventory can change at runtime.
    emulator.set_ecs_instances(None);
    client
        .ok(
            "AddBackendServers",
            &[
                ("LoadBalancerId", &lb),
                ("BackendServers", r#"[{"ServerId":"i-unknown"}]"#),
            ],
        )
        .await;
}

#[tokio::test]
async fn health_follows_the_listener_and_overrides() {
    let (emulator, mut client, lb) = start_with_lb().await;
    create_tcp_listener(&mut client, &lb, "80").await;
    create_http_listener(&mut client, &lb, "81").await;
    client
        .ok(
            "AddBackendServers",
            &[
                ("LoadBalancerId", &lb),
                (
                    "BackendServers",
                    r#"[{"ServerId":"i-1"},{"ServerId":"i-2"}]"#,
                ),
            ],
        )
        .await;
    let health = |body: &Value| -> Vec<String> {
        field_of_each(
            &body["BackendServers"]["BackendServer"],
            "ServerHealthStatus",
        )
    };
    let before = client
        .ok(
            "DescribeHealthStatus",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    assert_eq!(health(&before), vec!["unavailable", "unavailable"]);
    client
        .ok(
            "StartLoadBalancerListener",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    let after = client
        .ok(
            "DescribeHealthStatus",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    assert_eq!(health(&after), vec!["normal", "normal"]);
    assert_eq!(after["BackendServers"]["BackendServer"][0]["Port"], 80);
    emulator.set_health_overrides(vec![HealthOverride {
        load_balancer_id: lb.clone(),
        server_id: "i-2".into(),
        port: None,
        listener_port: None,
        status: "abnormal".into(),
    }]);
    let overridden = client
        .ok(
            "DescribeHealthStatus",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    assert_eq!(health(&overridden), vec!["normal", "abnormal"]);
    // Without ListenerPort: every listener (the HTTP one has health checking off and is stopped).
    let all = client
        .ok("DescribeHealthStatus", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(health(&all).len(), 4);
    client
        .expect_err(
            "DescribeHealthStatus",
            &[("LoadBalancerId", &lb), ("ListenerPort", "90")],
            404,
            "ListenerNotFound",
        )
        .await;

    // Admin endpoint: the same overrides over HTTP.
    let mut admin = common::Connection::open(emulator.addr()).await;
    let reply = admin.send("GET", "/__admin/health", None).await;
    assert!(reply.body.contains("abnormal"));
}

#[tokio::test]
async fn vserver_groups() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let created = client
        .ok(
            "CreateVServerGroup",
            &[
                ("LoadBalancerId", &lb),
                ("VServerGroupName", "Group1"),
                ("BackendServers", "[{'ServerId':'vm-233','Port':'80','Weight':'100'},{'ServerId':'vm-232','Port':'90','Weight':'100'}]"),
            ],
        )
        .await;
    let group = created["VServerGroupId"].as_str().unwrap().to_string();
    assert!(group.starts_with("rsp-"));
    assert_eq!(
        created["BackendServers"]["BackendServer"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let set = client
        .ok(
            "SetVServerGroupAttribute",
            &[
                ("VServerGroupId", &group),
                ("VServerGroupName", "Renamed"),
                (
                    "BackendServers",
                    r#"[{"ServerId":"vm-233","Port":80,"Weight":7}]"#,
                ),
            ],
        )
        .await;
    assert_eq!(set["VServerGroupName"], "Renamed");
    assert_eq!(set["BackendServers"]["BackendServer"][0]["Weight"], 7);
    let added = client
        .ok(
            "AddVServerGroupBackendServers",
            &[
                ("VServerGroupId", &group),
                ("BackendServers", r#"[{"ServerId":"vm-1","Port":8080}]"#),
            ],
        )
        .await;
    assert_eq!(
        added["BackendServers"]["BackendServer"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let removed = client
        .ok(
            "RemoveVServerGroupBackendServers",
            &[
                ("VServerGroupId", &group),
                (
                    "BackendServers",
                    r#"[{"ServerId":"vm-232","Port":90},{"ServerId":"vm-x","Port":1}]"#,
                ),
            ],
        )
        .await;
    assert_eq!(
        removed["BackendServers"]["BackendServer"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let modified = client
        .ok(
            "ModifyVServerGroupBackendServers",
            &[
                ("VServerGroupId", &group),
                ("OldBackendServers", r#"[{"ServerId":"vm-1","Port":8080}]"#),
                (
                    "NewBackendServers",
                    r#"[{"ServerId":"vm-2","Port":8081,"Weight":30}]"#,
                ),
            ],
        )
        .await;
    let ids = field_of_each(&modified["BackendServers"]["BackendServer"], "ServerId");
    assert_eq!(ids, vec!["vm-233", "vm-2"]);
    let listed = client
        .ok("DescribeVServerGroups", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(
        listed["VServerGroups"]["VServerGroup"][0]["VServerGroupName"],
        "Renamed"
    );
    let group_id = ("VServerGroupId", group.as_str());
    assert_belongs_to(&mut client, "DescribeVServerGroupAttribute", group_id, &lb).await;

    // A group used by a listener cannot be deleted.
    create_tcp_listener(&mut client, &lb, "80").await;
    client
        .ok(
            "SetLoadBalancerTCPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "80"),
                ("Bandwidth", "-1"),
                ("VServerGroup", "on"),
                ("VServerGroupId", &group),
            ],
        )
        .await;
    client
        .expect_err(
            "DeleteVServerGroup",
            &[("VServerGroupId", &group)],
            400,
            "ActionNotAllowed",
        )
        .await;
    client
        .ok_each(&[
            (
                "SetLoadBalancerTCPListenerAttribute",
                &[
                    ("LoadBalancerId", &lb),
                    ("ListenerPort", "80"),
                    ("Bandwidth", "-1"),
                    ("VServerGroup", "off"),
                ],
            ),
            ("DeleteVServerGroup", &[("VServerGroupId", &group)]),
        ])
        .await;
    let m = client
        .expect_err(
            "DescribeVServerGroupAttribute",
            &[("VServerGroupId", &group)],
            404,
            "InvalidParameter",
        )
        .await;
    assert_eq!(m, "RS Pool doesn\u{2019}t exist.");

    client
        .expect_errs(&[
            (
                "CreateVServerGroup",
                &[("LoadBalancerId", &lb), ("BackendServers", "[]")],
                400,
                "InvalidParameter",
            ),
            (
                "CreateVServerGroup",
                &[
                    ("LoadBalancerId", &lb),
                    ("VServerGroupName", "g"),
                    ("BackendServers", r#"[{"ServerId":"i"}]"#),
                ],
                400,
                "MissingParameter",
            ),
            (
                "CreateVServerGroup",
                &[
                    ("LoadBalancerId", &lb),
                    ("VServerGroupName", "g"),
                    ("BackendServers", r#"[{"ServerId":"i","Port":0}]"#),
                ],
                400,
                "InvalidParameter",
            ),
            (
                "CreateVServerGroup",
                &[("LoadBalancerId", &lb), ("VServerGroupName", "g")],
                400,
                "MissingParameter",
            ),
        ])
        .await;
}

#[tokio::test]
async fn master_slave_groups_in_both_spellings() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let pair = r#"[{"ServerId":"vm-1","Port":80,"Weight":100,"ServerType":"Master"},{"ServerId":"vm-2","Port":80,"ServerType":"Slave"}]"#;
    let v = client
        .ok(
            "CreateMasterSlaveVServerGroup",
            &[
                ("LoadBalancerId", &lb),
                ("MasterSlaveVServerGroupName", "g1"),
                ("MasterSlaveBackendServers", pair),
            ],
        )
        .await;
    let v_id = v["MasterSlaveVServerGroupId"].as_str().unwrap().to_string();
    assert_eq!(
        v["MasterSlaveBackendServers"]["MasterSlaveBackendServers"][1]["ServerType"],
        "Slave"
    );
    let plain = client
        .ok(
            "CreateMasterSlaveServerGroup",
            &[
                ("LoadBalancerId", &lb),
                ("MasterSlaveServerGroupName", "g2"),
                ("MasterSlaveBackendServers", pair),
            ],
        )
        .await;
    let plain_id = plain["MasterSlaveServerGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        plain["MasterSlaveBackendServers"]["MasterSlaveBackendServer"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let listed = client
        .ok(
            "DescribeMasterSlaveServerGroups",
            &[("LoadBalancerId", &lb)],
        )
        .await;
    assert_eq!(
        listed["MasterSlaveServerGroups"]["MasterSlaveServerGroup"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let listed_v = client
        .ok(
            "DescribeMasterSlaveVServerGroups",
            &[("LoadBalancerId", &lb)],
        )
        .await;
    assert_eq!(
        listed_v["MasterSlaveVServerGroups"]["MasterSlaveVServerGroup"][0]["MasterSlaveVServerGroupName"],
        "g1"
    );
    let described = client
        .ok(
            "DescribeMasterSlaveVServerGroupAttribute",
            &[("MasterSlaveVServerGroupId", &plain_id)],
        )
        .await;
    assert_eq!(described["MasterSlaveVServerGroupName"], "g2");
    client
        .ok(
            "DescribeMasterSlaveServerGroupAttribute",
            &[("MasterSlaveServerGroupId", &v_id)],
        )
        .await;

    create_tcp_listener(&mut client, &lb, "80").await;
    client
        .ok(
            "SetLoadBalancerTCPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "80"),
                ("Bandwidth", "-1"),
                ("MasterSlaveServerGroup", "on"),
                ("MasterSlaveServerGroupId", &v_id),
            ],
        )
        .await;
    let tcp = client
        .ok(
            "DescribeLoadBalancerTCPListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    assert_eq!(tcp["MasterSlaveServerGroupId"], v_id.as_str());
    assert_eq!(tcp["MaterSlaveServerGroupId"], v_id.as_str());
    client
        .expect_err(
            "DeleteMasterSlaveVServerGroup",
            &[("MasterSlaveVServerGroupId", &v_id)],
            400,
            "ActionNotAllowed",
        )
        .await;
    client
        .ok(
            "DeleteMasterSlaveServerGroup",
            &[("MasterSlaveServerGroupId", &plain_id)],
        )
        .await;
    client
        .expect_err(
            "DescribeMasterSlaveServerGroupAttribute",
            &[("MasterSlaveServerGroupId", &plain_id)],
            404,
            "InvalidParameter",
        )
        .await;
    // Detached, the V-spelled group can be deleted through the V-spelled action.
    client
        .ok_each(&[
            (
                "SetLoadBalancerTCPListenerAttribute",
                &[
                    ("LoadBalancerId", &lb),
                    ("ListenerPort", "80"),
                    ("Bandwidth", "-1"),
                    ("MasterSlaveServerGroup", "off"),
                ],
            ),
            (
                "DeleteMasterSlaveVServerGroup",
                &[("MasterSlaveVServerGroupId", &v_id)],
            ),
        ])
        .await;
    let listed = client
        .ok(
            "DescribeMasterSlaveVServerGroups",
            &[("LoadBalancerId", &lb)],
        )
        .await;
    assert_eq!(
        listed["MasterSlaveVServerGroups"]["MasterSlaveVServerGroup"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    client
        .expect_err(
            "SetLoadBalancerTCPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "80"),
                ("Bandwidth", "-1"),
                ("MasterSlaveServerGroup", "on"),
                ("VServerGroup", "on"),
            ],
            400,
            "MissingParameter",
        )
        .await;

    let two_masters = r#"[{"ServerId":"vm-1","Port":80},{"ServerId":"vm-2","Port":80}]"#;
    client
        .expect_err_of_each(
            &[
                (
                    "CreateMasterSlaveServerGroup",
                    &[
                        ("LoadBalancerId", &lb),
                        ("MasterSlaveServerGroupName", "x"),
                        ("MasterSlaveBackendServers", two_masters),
                    ],
                ),
                (
                    "CreateMasterSlaveServerGroup",
                    &[("LoadBalancerId", &lb), ("MasterSlaveBackendServers", pair)],
                ),
            ],
            400,
            "MissingParameter",
        )
        .await;
}

/// The newer SDKs' `IncludeListener` / `IncludeRule` on DescribeVServerGroups and
/// DescribeMasterSlaveServerGroups answer each group's `AssociatedObjects` (the reference has neither switch;
/// alibabacloud-slb20140515's models read them); without them the groups come bare.
#[tokio::test]
async fn describe_groups_include_associated_objects() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let group = create_vserver_group(
        &mut client,
        &lb,
        "web",
        r#"[{"ServerId":"i-1","Port":80},{"ServerId":"i-2","Port":80}]"#,
    )
    .await;
    create_http_listener(&mut client, &lb, "80").await;
    client
        .ok(
            "SetLoadBalancerHTTPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "80"),
                ("Bandwidth", "-1"),
                ("StickySession", "off"),
                ("HealthCheck", "off"),
                ("VServerGroupId", &group),
            ],
        )
        .await;
    let rule_list =
        format!(r#"[{{"RuleName":"api","Domain":"example.com","VServerGroupId":"{group}"}}]"#);
    let rule = create_rule(&mut client, &lb, &rule_list).await;

    let bare = client
        .ok("DescribeVServerGroups", &[("LoadBalancerId", &lb)])
        .await;
    let item = &bare["VServerGroups"]["VServerGroup"][0];
    assert_eq!(item["ServerCount"], 2);
    assert!(item.get("AssociatedObjects").is_none(), "{bare}");

    let full = client
        .ok(
            "DescribeVServerGroups",
            &[
                ("LoadBalancerId", &lb),
                ("IncludeListener", "true"),
                ("IncludeRule", "True"),
            ],
        )
        .await;
    let objects = &full["VServerGroups"]["VServerGroup"][0]["AssociatedObjects"];
    assert_eq!(
        objects["Listeners"]["Listener"],
        serde_json::json!([{"Port": 80, "Protocol": "http"}])
    );
    assert_eq!(
        objects["Rules"]["Rule"],
        serde_json::json!([{"RuleId": rule, "RuleName": "api", "Domain": "example.com", "Url": ""}])
    );
    client
        .expect_err(
            "DescribeVServerGroups",
            &[("LoadBalancerId", &lb), ("IncludeRule", "yes")],
            400,
            "InvalidParameter",
        )
        .await;

    let ms = client
        .ok(
            "CreateMasterSlaveServerGroup",
            &[
                ("LoadBalancerId", &lb),
                ("MasterSlaveServerGroupName", "pair"),
                (
                    "MasterSlaveBackendServers",
                    r#"[{"ServerId":"i-1","Port":90,"ServerType":"Master"},{"ServerId":"i-2","Port":90,"ServerType":"Slave"}]"#,
                ),
            ],
        )
        .await["MasterSlaveServerGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    create_tcp_listener(&mut client, &lb, "22").await;
    client
        .ok(
            "SetLoadBalancerTCPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "22"),
                ("Bandwidth", "-1"),
                ("MasterSlaveServerGroupId", &ms),
            ],
        )
        .await;
    let groups = client
        .ok(
            "DescribeMasterSlaveServerGroups",
            &[("LoadBalancerId", &lb), ("IncludeListener", "true")],
        )
        .await;
    assert_eq!(
        groups["MasterSlaveServerGroups"]["MasterSlaveServerGroup"][0]["AssociatedObjects"]["Listeners"]
            ["Listener"],
        serde_json::json!([{"Port": 22, "Protocol": "tcp"}])
    );
}
