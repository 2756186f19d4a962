//! Every action that names a resource: an unknown one gets its documented error, and a missing ID parameter
//! gets MissingParameter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Call, admin_json, create_http_listener, create_lb, start, start_with_lb};

#[tokio::test]
async fn unknown_resources() {
    let (_emulator, mut client) = start().await;
    let lb_missing = "InvalidLoadBalancerId.NotFound";
    let json = r#"[{"ServerId":"i-1","Port":80}]"#;
    let listener = [("LoadBalancerId", "lb-none"), ("ListenerPort", "80")];
    let lb_id = [("LoadBalancerId", "lb-none")];
    let unknown_lb: &[Call] = &[
        ("DeleteLoadBalancer", &lb_id),
        (
            "SetLoadBalancerStatus",
            &[
                ("LoadBalancerId", "lb-none"),
                ("LoadBalancerStatus", "active"),
            ],
        ),
        ("DescribeLoadBalancerAttribute", &lb_id),
        ("ModifyLoadBalancerInternetSpec", &lb_id),
        ("ModifyLoadBalancerInstanceSpec", &lb_id),
        (
            "ModifyLoadBalancerPayType",
            &[
                ("LoadBalancerId", "lb-none"),
                ("PayType", "PrePay"),
                ("PricingCycle", "month"),
                ("Duration", "1"),
            ],
        ),
        ("StartLoadBalancerListener", &listener),
        ("StopLoadBalancerListener", &listener),
        ("DeleteLoadBalancerListener", &listener),
        ("DescribeLoadBalancerHTTPListenerAttribute", &listener),
        ("DescribeListenerAccessControlAttribute", &listener),
        ("DescribeHealthStatus", &lb_id),
        (
            "RemoveBackendServers",
            &[
                ("LoadBalancerId", "lb-none"),
                ("BackendServers", r#"["i-1"]"#),
            ],
        ),
        (
            "SetBackendServers",
            &[("LoadBalancerId", "lb-none"), ("BackendServers", json)],
        ),
        ("DescribeVServerGroups", &lb_id),
        ("DescribeMasterSlaveServerGroups", &lb_id),
        ("DescribeRules", &listener),
        ("RemoveTags", &lb_id),
        ("DescribeTags", &lb_id),
    ];
    let unknown_group: &[Call] = &[
        (
            "SetVServerGroupAttribute",
            &[("VServerGroupId", "rsp-none"), ("VServerGroupName", "x")],
        ),
        (
            "AddVServerGroupBackendServers",
            &[("VServerGroupId", "rsp-none"), ("BackendServers", json)],
        ),
        (
            "RemoveVServerGroupBackendServers",
            &[("VServerGroupId", "rsp-none"), ("BackendServers", json)],
        ),
        (
            "ModifyVServerGroupBackendServers",
            &[("VServerGroupId", "rsp-none")],
        ),
        ("DeleteVServerGroup", &[("VServerGroupId", "rsp-none")]),
        (
            "DeleteMasterSlaveServerGroup",
            &[("MasterSlaveServerGroupId", "rsp-none")],
        ),
    ];
    let unknown_rule: &[Call] = &[
        ("SetRule", &[("RuleId", "rule-none")]),
        ("DescribeRuleAttribute", &[("RuleId", "rule-none")]),
    ];
    let unknown_certificate: &[Call] = &[
        (
            "DeleteServerCertificate",
            &[("ServerCertificateId", "none")],
        ),
        (
            "SetCACertificateName",
            &[("CACertificateId", "none"), ("CACertificateName", "x")],
        ),
    ];
    // Each group of calls and the error (HTTP status and code) every one of them gets.
    let groups = [
        (unknown_lb, 404, lb_missing),
        (unknown_group, 404, "InvalidParameter"),
        (unknown_rule, 400, "InvalidParameter"),
        (unknown_certificate, 404, "ServerCertificateId.NotFound"),
    ];
    for (calls, status, code) in groups {
        client.expect_err_of_each(calls, status, code).await;
    }

    // Existing instance, missing listener.
    let lb = create_lb(&mut client, &[]).await;
    for action in [
        "StartLoadBalancerListener",
        "StopLoadBalancerListener",
        "DeleteLoadBalancerListener",
        "DescribeLoadBalancerUDPListenerAttribute",
        "SetListenerAccessControlStatus",
        "DescribeRules",
    ] {
        let mut params = vec![("LoadBalancerId", lb.as_str()), ("ListenerPort", "81")];
        if action == "SetListenerAccessControlStatus" {
            params.push(("AccessControlStatus", "close"));
        }
        client
            .expect_err(action, &params, 404, "ListenerNotFound")
            .await;
    }
}

#[tokio::test]
async fn missing_identifiers() {
    let (_emulator, mut client) = start().await;
    for (action, name) in [
        ("DescribeLoadBalancerAttribute", "LoadBalancerId"),
        ("SetLoadBalancerName", "LoadBalancerName"),
        ("DeleteVServerGroup", "VServerGroupId"),
        ("DescribeVServerGroupAttribute", "VServerGroupId"),
        (
            "DescribeMasterSlaveServerGroupAttribute",
            "MasterSlaveServerGroupId",
        ),
        ("DescribeRuleAttribute", "RuleId"),
        ("SetServerCertificateName", "ServerCertificateId"),
        ("DeleteCACertificate", "CACertificateId"),
        ("UploadCACertificate", "CACertificate"),
    ] {
        let message = client
            .expect_err(action, &[], 400, "MissingParameter")
            .await;
        assert!(message.contains(name), "{action}: {message}");
    }
    let lb = create_lb(&mut client, &[]).await;
    let message = client
        .expect_err(
            "StartLoadBalancerListener",
            &[("LoadBalancerId", &lb)],
            400,
            "MissingParameter",
        )
        .await;
    assert!(message.contains("ListenerPort"));
}

#[tokio::test]
async fn locked_instances_refuse_listener_state_changes() {
    let (emulator, mut client, lb) = start_with_lb().await;
    create_http_listener(&mut client, &lb, "80").await;
    // Only Alibaba Cloud locks an instance (arrears); the admin endpoint stands in for it.
    let path = format!("/__admin/load-balancers/{lb}");
    admin_json(emulator.addr(), "PATCH", &path, r#"{"status":"locked"}"#).await;
    let listener = [("LoadBalancerId", lb.as_str()), ("ListenerPort", "80")];
    let set_active = [
        ("LoadBalancerId", lb.as_str()),
        ("LoadBalancerStatus", "active"),
    ];
    let calls: &[Call] = &[
        ("StartLoadBalancerListener", &listener),
        ("StopLoadBalancerListener", &listener),
        ("SetLoadBalancerStatus", &set_active),
    ];
    client
        .expect_err_of_each(calls, 400, "ActionNotAllowed")
        .await;
    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(attr["LoadBalancerStatus"], "locked");
}
