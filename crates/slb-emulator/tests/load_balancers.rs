//! Load-balancer instances, regions, zones and tags.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, create_lb, create_vserver_group, field_of_each, start, start_with_lb};
use serde_json::Value;

/// The load balancers DescribeLoadBalancers lists with `filters`.
async fn described(client: &mut Client, filters: &[(&str, &str)]) -> Vec<Value> {
    lbs(&client.ok("DescribeLoadBalancers", filters).await)
}

fn lbs(body: &Value) -> Vec<Value> {
    body["LoadBalancers"]["LoadBalancer"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn create_and_describe() {
    let (_emulator, mut client) = start().await;
    let body = client
        .ok(
            "CreateLoadBalancer",
            &[
                ("LoadBalancerName", "web-1"),
                ("AddressType", "internet"),
                ("LoadBalancerSpec", "slb.s2.small"),
            ],
        )
        .await;
    let id = body["LoadBalancerId"].as_str().unwrap();
    assert!(id.starts_with("lb-bp") && id.len() == 24, "{id}");
    assert_eq!(body["LoadBalancerName"], "web-1");
    assert_eq!(body["NetworkType"], "classic");
    assert!(body["Address"].as_str().unwrap().starts_with("198.18."));

    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", id)])
        .await;
    assert_eq!(attr["LoadBalancerStatus"], "active");
    assert_eq!(attr["LoadBalancerSpec"], "slb.s2.small");
    assert_eq!(attr["AddressType"], "internet");
    assert_eq!(attr["InternetChargeType"], "paybytraffic");
    assert_eq!(attr["RegionId"], "cn-hangzhou");
    assert!(attr["CreateTime"].as_str().unwrap().len() == 19);
    assert_eq!(attr["ListenerPorts"]["ListenerPort"], Value::Array(vec![]));
    assert_eq!(
        attr["BackendServers"]["BackendServer"],
        Value::Array(vec![])
    );

    let vpc = client
        .ok(
            "CreateLoadBalancer",
            &[("AddressType", "intranet"), ("VSwitchId", "vsw-123")],
        )
        .await;
    assert_eq!(vpc["NetworkType"], "vpc");
    assert!(vpc["VpcId"].as_str().unwrap().starts_with("vpc-"));
    assert!(vpc["Address"].as_str().unwrap().starts_with("198.19."));
}

#[tokio::test]
async fn create_validates_its_parameters() {
    let (_emulator, mut client) = start().await;
    // (parameter, value, the message where it is checked): each alone is refused as InvalidParameter.
    let invalid = [
        (
            "LoadBalancerName",
            "bad name!",
            Some("The Lb Name is Not supported."),
        ),
        (
            "LoadBalancerSpec",
            "slb.huge",
            Some("The specified parameter lb_type is not valid."),
        ),
        (
            "Bandwidth",
            "1001",
            Some("The specified bandwidth is not valid."),
        ),
        ("AddressType", "public", None),
        ("MasterZoneId", "cn-beijing-a", None),
    ];
    for (name, value, expected_message) in invalid {
        client
            .expect_err_and_message(
                "CreateLoadBalancer",
                &[(name, value)],
                (400, "InvalidParameter"),
                expected_message,
            )
            .await;
    }
    client.region = None;
    client
        .expect_err("CreateLoadBalancer", &[], 400, "MissingParameter")
        .await;
}

#[tokio::test]
async fn client_token_makes_creation_idempotent() {
    let (_emulator, mut client) = start().await;
    let first = client
        .ok(
            "CreateLoadBalancer",
            &[("ClientToken", "token-1"), ("LoadBalancerName", "a")],
        )
        .await;
    let again = client
        .ok(
            "CreateLoadBalancer",
            &[("ClientToken", "token-1"), ("LoadBalancerName", "a")],
        )
        .await;
    assert_eq!(first["LoadBalancerId"], again["LoadBalancerId"]);
    assert_ne!(first["RequestId"], again["RequestId"]);
    let listed = described(&mut client, &[]).await;
    assert_eq!(listed.len(), 1);
    client
        .expect_err(
            "CreateLoadBalancer",
            &[("ClientToken", "token-1"), ("LoadBalancerName", "b")],
            400,
            "IdempotentParameterMismatch",
        )
        .await;
    let other = client
        .ok(
            "CreateLoadBalancer",
            &[("ClientToken", "token-2"), ("LoadBalancerName", "a")],
        )
        .await;
    assert_ne!(first["LoadBalancerId"], other["LoadBalancerId"]);
    let long = "x".repeat(65);
    client
        .expect_err(
            "CreateLoadBalancer",
            &[("ClientToken", &long)],
            400,
            "InvalidParameter",
        )
        .await;
}

#[tokio::test]
async fn delete_removes_the_instance_and_everything_in_it() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    common::create_http_listener(&mut client, &lb, "80").await;
    client
        .ok(
            "AddTags",
            &[
                ("LoadBalancerId", &lb),
                ("Tags", r#"[{"TagKey":"k","TagValue":"v"}]"#),
            ],
        )
        .await;
    let servers = r#"[{"ServerId":"i-1","Port":80}]"#;
    let group_id = create_vserver_group(&mut client, &lb, "g", servers).await;
    client
        .ok("DeleteLoadBalancer", &[("LoadBalancerId", &lb)])
        .await;
    client
        .expect_errs(&[
            (
                "DescribeLoadBalancerAttribute",
                &[("LoadBalancerId", &lb)],
                404,
                "InvalidLoadBalancerId.NotFound",
            ),
            (
                "DescribeVServerGroupAttribute",
                &[("VServerGroupId", &group_id)],
                404,
                "InvalidParameter",
            ),
        ])
        .await;
    let tags = client.ok("DescribeTags", &[]).await;
    assert_eq!(tags["TotalCount"], 0);
    client
        .expect_errs(&[
            (
                "DeleteLoadBalancer",
                &[("LoadBalancerId", &lb)],
                404,
                "InvalidLoadBalancerId.NotFound",
            ),
            ("DeleteLoadBalancer", &[], 400, "MissingParameter"),
        ])
        .await;
}

#[tokio::test]
async fn status_name_and_specs() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    client
        .ok_each(&[
            (
                "SetLoadBalancerStatus",
                &[("LoadBalancerId", &lb), ("LoadBalancerStatus", "inactive")],
            ),
            (
                "SetLoadBalancerName",
                &[("LoadBalancerId", &lb), ("LoadBalancerName", "renamed")],
            ),
            (
                "ModifyLoadBalancerInstanceSpec",
                &[
                    ("LoadBalancerId", &lb),
                    ("LoadBalancerSpec", "slb.s3.large"),
                ],
            ),
            (
                "ModifyLoadBalancerInternetSpec",
                &[
                    ("LoadBalancerId", &lb),
                    ("InternetChargeType", "paybybandwidth"),
                    ("Bandwidth", "10"),
                ],
            ),
            (
                "ModifyLoadBalancerPayType",
                &[
                    ("LoadBalancerId", &lb),
                    ("PayType", "PrePay"),
                    ("PricingCycle", "month"),
                    ("Duration", "3"),
                    ("AutoPay", "true"),
                ],
            ),
        ])
        .await;
    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(attr["LoadBalancerStatus"], "inactive");
    assert_eq!(attr["LoadBalancerName"], "renamed");
    assert_eq!(attr["LoadBalancerSpec"], "slb.s3.large");
    assert_eq!(attr["InternetChargeType"], "paybybandwidth");
    assert_eq!(attr["Bandwidth"], 10);
    assert_eq!(attr["PayType"], "PrePay");

    client
        .expect_errs(&[
            (
                "SetLoadBalancerStatus",
                &[("LoadBalancerId", &lb), ("LoadBalancerStatus", "locked")],
                400,
                "InvalidParameter",
            ),
            (
                "SetLoadBalancerStatus",
                &[("LoadBalancerId", &lb)],
                400,
                "MissingParameter",
            ),
            (
                "SetLoadBalancerName",
                &[("LoadBalancerId", &lb), ("LoadBalancerName", "a b")],
                400,
                "InvalidParameter",
            ),
            (
                "ModifyLoadBalancerInstanceSpec",
                &[("LoadBalancerId", &lb), ("LoadBalancerSpec", "x")],
                400,
                "InvalidParameter",
            ),
            (
                "ModifyLoadBalancerPayType",
                &[
                    ("LoadBalancerId", &lb),
                    ("PayType", "PrePay"),
                    ("PricingCycle", "year"),
                    ("Duration", "4"),
                ],
                400,
                "InvalidParameter",
            ),
            (
                "ModifyLoadBalancerPayType",
                &[
                    ("LoadBalancerId", &lb),
                    ("PayType", "PrePay"),
                    ("PricingCycle", "month"),
                    ("Duration", "1"),
                    ("AutoPay", "yes"),
                ],
                400,
                "InvalidParameter",
            ),
        ])
        .await;
    let intranet = create_lb(&mut client, &[("AddressType", "intranet")]).await;
    client
        .expect_errs(&[
            (
                "ModifyLoadBalancerInternetSpec",
                &[
                    ("LoadBalancerId", &intranet),
                    ("InternetChargeType", "paybybandwidth"),
                ],
                400,
                "UnsupportedOperation",
            ),
            (
                "SetLoadBalancerName",
                &[("LoadBalancerId", "lb-none"), ("LoadBalancerName", "x")],
                404,
                "InvalidLoadBalancerId.NotFound",
            ),
        ])
        .await;
}

#[tokio::test]
async fn describe_load_balancers_filters_and_pages() {
    let (_emulator, mut client) = start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let name = format!("app-{i}");
        let address_type = if i % 2 == 0 { "internet" } else { "intranet" };
        ids.push(
            create_lb(
                &mut client,
                &[("LoadBalancerName", &name), ("AddressType", address_type)],
            )
            .await,
        );
    }
    client
        .ok_each(&[
            (
                "AddTags",
                &[
                    ("LoadBalancerId", &ids[1]),
                    ("Tags", r#"[{"TagKey":"env","TagValue":"prod"}]"#),
                ],
            ),
            (
                "AddBackendServers",
                &[
                    ("LoadBalancerId", &ids[2]),
                    ("BackendServers", r#"[{"ServerId":"i-web"}]"#),
                ],
            ),
        ])
        .await;

    assert_eq!(described(&mut client, &[]).await.len(), 5);
    let by_id = described(
        &mut client,
        &[("LoadBalancerId", &format!("{},{}", ids[0], ids[3]))],
    )
    .await;
    assert_eq!(by_id.len(), 2);
    let by_name = described(&mut client, &[("LoadBalancerName", "app-4")]).await;
    assert_eq!(by_name[0]["LoadBalancerId"], ids[4].as_str());
    let intranet = described(&mut client, &[("AddressType", "intranet")]).await;
    assert_eq!(intranet.len(), 2);
    let tagged = described(
        &mut client,
        &[("Tags", r#"[{"TagKey":"env","TagValue":"prod"}]"#)],
    )
    .await;
    assert_eq!(tagged.len(), 1);
    let tagged = described(
        &mut client,
        &[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")],
    )
    .await;
    assert_eq!(tagged.len(), 1);
    let with_server = described(&mut client, &[("ServerId", "i-web")]).await;
    assert_eq!(with_server[0]["LoadBalancerId"], ids[2].as_str());
    let other_region = described(&mut client, &[("RegionId", "cn-beijing")]).await;
    assert_eq!(other_region.len(), 0);

    let page = client
        .ok(
            "DescribeLoadBalancers",
            &[("PageSize", "2"), ("PageNumber", "3")],
        )
        .await;
    assert_eq!(page["TotalCount"], 5);
    assert_eq!(lbs(&page).len(), 1);
    assert_eq!(lbs(&page)[0]["LoadBalancerId"], ids[4].as_str());
    client
        .expect_err(
            "DescribeLoadBalancers",
            &[("PageSize", "101")],
            400,
            "InvalidParameter",
        )
        .await;
    let eleven = ["lb-x"; 11].join(",");
    client
        .expect_err(
            "DescribeLoadBalancers",
            &[("LoadBalancerId", &eleven)],
            400,
            "InvalidParameter",
        )
        .await;
}

#[tokio::test]
async fn regions_and_zones() {
    let (_emulator, mut client) = start().await;
    let zones = client.ok("DescribeZones", &[]).await;
    let zones = zones["Zones"]["Zone"].as_array().unwrap();
    assert_eq!(zones[0]["ZoneId"], "cn-hangzhou-a");
    assert_eq!(
        zones[0]["SlaveZones"]["SlaveZone"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    client
        .expect_err(
            "DescribeZones",
            &[("RegionId", "xx")],
            404,
            "InvalidRegionId.NotFound",
        )
        .await;
}

#[tokio::test]
async fn tags() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let other = create_lb(&mut client, &[]).await;
    // The reference spells the parameter LoadBalancerID; the SDKs LoadBalancerId.
    client
        .ok_each(&[
            (
                "AddTags",
                &[
                    ("LoadBalancerID", &lb),
                    (
                        "Tags",
                        r#"[{"TagKey":"a","TagValue":"1"},{"TagKey":"b","TagValue":"2"}]"#,
                    ),
                ],
            ),
            (
                "AddTags",
                &[
                    ("LoadBalancerId", &other),
                    ("Tags", r#"[{"TagKey":"a","TagValue":"1"}]"#),
                ],
            ),
            (
                "AddTags",
                &[
                    ("LoadBalancerId", &lb),
                    ("Tags", r#"[{"TagKey":"b","TagValue":"3"}]"#),
                ],
            ),
        ])
        .await;
    let all = client.ok("DescribeTags", &[]).await;
    let sets = all["TagSets"]["TagSet"].as_array().unwrap();
    assert_eq!(all["TotalCount"], 2);
    assert_eq!(sets[0]["TagKey"], "a");
    assert_eq!(sets[0]["InstanceCount"], 2);
    assert_eq!(sets[1]["TagValue"], "3");
    let filtered = client
        .ok(
            "DescribeTags",
            &[("Tags", r#"[{"TagKey":"a"}]"#), ("LoadBalancerId", &lb)],
        )
        .await;
    assert_eq!(filtered["TagSets"]["TagSet"][0]["InstanceCount"], 1);

    client
        .ok(
            "RemoveTags",
            &[("LoadBalancerId", &lb), ("Tags", r#"[{"TagKey":"a"}]"#)],
        )
        .await;
    let attr = described(&mut client, &[("LoadBalancerId", &lb)]).await;
    assert_eq!(attr[0]["Tags"]["Tag"].as_array().unwrap().len(), 1);
    client.ok("RemoveTags", &[("LoadBalancerId", &lb)]).await;

    let six: Vec<String> = (0..6)
        .map(|i| format!(r#"{{"TagKey":"k{i}","TagValue":"v"}}"#))
        .collect();
    let six = format!("[{}]", six.join(","));
    client
        .expect_err(
            "AddTags",
            &[("LoadBalancerId", &lb), ("Tags", &six)],
            400,
            "InvalidParameter",
        )
        .await;
    for batch in 0..2 {
        let five: Vec<String> = (0..5)
            .map(|i| format!(r#"{{"TagKey":"k{batch}{i}"}}"#))
            .collect();
        client
            .ok(
                "AddTags",
                &[
                    ("LoadBalancerId", &lb),
                    ("Tags", &format!("[{}]", five.join(","))),
                ],
            )
            .await;
    }
    client
        .expect_errs(&[
            (
                "AddTags",
                &[
                    ("LoadBalancerId", &lb),
                    ("Tags", r#"[{"TagKey":"eleventh"}]"#),
                ],
                400,
                "InvalidParameter",
            ),
            (
                "AddTags",
                &[
                    ("LoadBalancerId", &other),
                    ("Tags", r#"[{"TagKey":"aliyun-x"}]"#),
                ],
                400,
                "InvalidParameter",
            ),
            (
                "AddTags",
                &[
                    ("LoadBalancerId", &other),
                    ("Tags", r#"[{"TagValue":"v"}]"#),
                ],
                400,
                "InvalidParameter",
            ),
            (
                "AddTags",
                &[("LoadBalancerId", &other), ("Tags", "not json")],
                400,
                "InvalidParameter",
            ),
            (
                "AddTags",
                &[("LoadBalancerId", &other)],
                400,
                "MissingParameter",
            ),
            (
                "AddTags",
                &[
                    ("LoadBalancerId", "lb-none"),
                    ("Tags", r#"[{"TagKey":"a"}]"#),
                ],
                404,
                "InvalidLoadBalancerId.NotFound",
            ),
            (
                "DescribeTags",
                &[("Tags", r#"[{"TagValue":"1"}]"#)],
                400,
                "InvalidParameter",
            ),
        ])
        .await;
}

/// The newer SDKs' `Tag.N.Key`/`Tag.N.Value` on CreateLoadBalancer tag the new instance (the reference has no
/// tags at creation; alibabacloud-slb20140515 sends them), checked as AddTags checks its own.
#[tokio::test]
async fn create_applies_repeated_tags() {
    let (_emulator, mut client) = start().await;
    let id = create_lb(
        &mut client,
        &[
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("Tag.2.Key", "team"),
        ],
    )
    .await;
    let tags = client
        .ok("DescribeTags", &[("LoadBalancerId", id.as_str())])
        .await;
    let sets: Vec<(String, String)> = tags["TagSets"]["TagSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["TagKey"].as_str().unwrap().to_string(),
                t["TagValue"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        sets,
        [
            ("env".to_string(), "prod".to_string()),
            ("team".to_string(), String::new())
        ]
    );
    let found = described(
        &mut client,
        &[("Tag.1.Key", "env"), ("Tag.1.Value", "prod")],
    )
    .await;
    assert_eq!(found[0]["LoadBalancerId"], id.as_str());

    client
        .expect_err(
            "CreateLoadBalancer",
            &[("Tag.1.Key", "aliyun-reserved")],
            400,
            "InvalidParameter",
        )
        .await;
    let eleven: Vec<(String, String)> = (1..=11)
        .map(|n| (format!("Tag.{n}.Key"), format!("k{n}")))
        .collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client
        .expect_err("CreateLoadBalancer", &eleven, 400, "InvalidParameter")
        .await;
    let all = described(&mut client, &[]).await;
    assert_eq!(all.len(), 1, "a refused creation must not create");
}

/// The newer SDKs' DescribeLoadBalancers filters `PayType`, `AddressIPVersion` and `ResourceGroupId` (not in the
/// reference) filter by exact match, like the reference's own.
#[tokio::test]
async fn describe_filters_of_the_newer_sdks() {
    let (_emulator, mut client) = start().await;
    let plain = create_lb(&mut client, &[]).await;
    let grouped = create_lb(&mut client, &[("ResourceGroupId", "rg-one")]).await;
    client
        .ok(
            "ModifyLoadBalancerPayType",
            &[
                ("LoadBalancerId", grouped.as_str()),
                ("PayType", "PrePay"),
                ("PricingCycle", "month"),
                ("Duration", "1"),
            ],
        )
        .await;
    let ids =
        |body: &Value| field_of_each(&body["LoadBalancers"]["LoadBalancer"], "LoadBalancerId");
    let cases: [(&str, &str, Vec<&String>); 6] = [
        ("PayType", "PrePay", vec![&grouped]),
        ("PayType", "PayOnDemand", vec![&plain]),
        ("ResourceGroupId", "rg-one", vec![&grouped]),
        ("ResourceGroupId", "rg-other", vec![]),
        ("AddressIPVersion", "ipv4", vec![&plain, &grouped]),
        ("AddressIPVersion", "ipv6", vec![]),
    ];
    for (name, value, expected) in cases {
        let body = client.ok("DescribeLoadBalancers", &[(name, value)]).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids(&body), expected, "{name}={value}");
    }
}
