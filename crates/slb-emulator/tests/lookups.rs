//! Every action that names a resource: an unknown one gets its documented error, and a missing ID parameter
//! gets MissingParameter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{create_http_listener, create_lb, start};

#[tokio::test]
async fn unknown_resources() {
    let (_emulator, mut client) = start().await;
    let lb_missing = "InvalidLoadBalancerId.NotFound";
    let json = r#"[{"ServerId":"i-1","Port":80}]"#;
    let listener = [("LoadBalancerId", "lb-none"), ("ListenerPort", "80")];
    // (action, parameters, HTTP status, code)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "DeleteLoadBalancer",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "SetLoadBalancerStatus",
            vec![
                ("LoadBalancerId", "lb-none"),
                ("LoadBalancerStatus", "active"),
            ],
            404,
            lb_missing,
        ),
        (
            "DescribeLoadBalancerAttribute",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "ModifyLoadBalancerInternetSpec",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "ModifyLoadBalancerInstanceSpec",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "ModifyLoadBalancerPayType",
            vec![
                ("LoadBalancerId", "lb-none"),
                ("PayType", "PrePay"),
                ("PricingCycle", "month"),
                ("Duration", "1"),
            ],
            404,
            lb_missing,
        ),
        (
            "StartLoadBalancerListener",
            listener.to_vec(),
            404,
            lb_missing,
        ),
        (
            "StopLoadBalancerListener",
            listener.to_vec(),
            404,
            lb_missing,
        ),
        (
            "DeleteLoadBalancerListener",
            listener.to_vec(),
            404,
            lb_missing,
        ),
        (
            "DescribeLoadBalancerHTTPListenerAttribute",
            listener.to_vec(),
            404,
            lb_missing,
        ),
        (
            "DescribeListenerAccessControlAttribute",
            listener.to_vec(),
            404,
            lb_missing,
        ),
        (
            "DescribeHealthStatus",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "RemoveBackendServers",
            vec![
                ("LoadBalancerId", "lb-none"),
                ("BackendServers", r#"["i-1"]"#),
            ],
            404,
            lb_missing,
        ),
        (
            "SetBackendServers",
            vec![("LoadBalancerId", "lb-none"), ("BackendServers", json)],
            404,
            lb_missing,
        ),
        (
            "DescribeVServerGroups",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "DescribeMasterSlaveServerGroups",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        ("DescribeRules", listener.to_vec(), 404, lb_missing),
        (
            "RemoveTags",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "DescribeTags",
            vec![("LoadBalancerId", "lb-none")],
            404,
            lb_missing,
        ),
        (
            "SetVServerGroupAttribute",
            vec![("VServerGroupId", "rsp-none"), ("VServerGroupName", "x")],
            404,
            "InvalidParameter",
        ),
        (
            "AddVServerGroupBackendServers",
            vec![("VServerGroupId", "rsp-none"), ("BackendServers", json)],
            404,
            "InvalidParameter",
        ),
        (
            "RemoveVServerGroupBackendServers",
            vec![("VServerGroupId", "rsp-none"), ("BackendServers", json)],
            404,
            "InvalidParameter",
        ),
        (
            "ModifyVServerGroupBackendServers",
            vec![("VServerGroupId", "rsp-none")],
            404,
            "InvalidParameter",
        ),
        (
            "DeleteVServerGroup",
            vec![("VServerGroupId", "rsp-none")],
            404,
            "InvalidParameter",
        ),
        (
            "DeleteMasterSlaveServerGroup",
            vec![("MasterSlaveServerGroupId", "rsp-none")],
            404,
            "InvalidParameter",
        ),
        (
            "SetRule",
            vec![("RuleId", "rule-none")],
            400,
            "InvalidParameter",
        ),
        (
            "DescribeRuleAttribute",
            vec![("RuleId", "rule-none")],
            400,
            "InvalidParameter",
        ),
        (
            "DeleteServerCertificate",
            vec![("ServerCertificateId", "none")],
            404,
            "ServerCertificateId.NotFound",
        ),
        (
            "SetCACertificateName",
            vec![("CACertificateId", "none"), ("CACertificateName", "x")],
            404,
            "ServerCertificateId.NotFound",
        ),
    ];
    for (action, params, status, code) in cases {
        client.expect_err(action, &params, status, code).await;
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
    let (emulator, mut client) = start().await;
    let lb = create_lb(&mut client, &[]).await;
    create_http_listener(&mut client, &lb, "80").await;
    // Only Alibaba Cloud locks an instance (arrears); the admin endpoint stands in for it.
    let mut raw = tokio::net::TcpStream::connect(emulator.addr())
        .await
        .unwrap();
    let body = r#"{"status":"locked"}"#;
    let request = format!(
        "PATCH /__admin/load-balancers/{lb} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut raw, request.as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut raw, &mut response)
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");
    let listener = [("LoadBalancerId", lb.as_str()), ("ListenerPort", "80")];
    client
        .expect_err(
            "StartLoadBalancerListener",
            &listener,
            400,
            "ActionNotAllowed",
        )
        .await;
    client
        .expect_err(
            "StopLoadBalancerListener",
            &listener,
            400,
            "ActionNotAllowed",
        )
        .await;
    client
        .expect_err(
            "SetLoadBalancerStatus",
            &[("LoadBalancerId", &lb), ("LoadBalancerStatus", "active")],
            400,
            "ActionNotAllowed",
        )
        .await;
    let attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(attr["LoadBalancerStatus"], "locked");
}
