//! Listeners of every protocol, the listener state machine and access control.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    Client, create_http_listener, create_lb, create_tcp_listener, start, start_with, start_with_lb,
};
use slb_emulator::{Config, TransitionDelays};

async fn status(client: &mut Client, action: &str, lb: &str, port: &str) -> String {
    let body = client
        .ok(action, &[("LoadBalancerId", lb), ("ListenerPort", port)])
        .await;
    body["Status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn http_listener_lifecycle() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let listener = [("LoadBalancerId", lb.as_str()), ("ListenerPort", "80")];
    let describe = "DescribeLoadBalancerHTTPListenerAttribute";
    client
        .ok(
            "CreateLoadBalancerHTTPListener",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "80"),
                ("BackendServerPort", "8080"),
                ("Bandwidth", "-1"),
                ("StickySession", "on"),
                ("StickySessionType", "insert"),
                ("CookieTimeout", "3600"),
                ("HealthCheck", "on"),
                ("HealthCheckURI", "/healthz"),
                ("HealthCheckConnectPort", "-520"),
                ("HealthyThreshold", "3"),
                ("UnhealthyThreshold", "3"),
                ("HealthCheckTimeout", "5"),
                ("HealthCheckInterval", "2"),
                ("XForwardedFor", "off"),
            ],
        )
        .await;
    let attr = client.ok(describe, &listener).await;
    assert_eq!(attr["Status"], "stopped");
    assert_eq!(attr["ListenerPort"], 80);
    assert_eq!(attr["BackendServerPort"], 8080);
    assert_eq!(attr["Bandwidth"], -1);
    assert_eq!(attr["XForwardedFor"], "on", "forced on since 2015-05-15");
    assert_eq!(attr["Scheduler"], "wrr");
    assert_eq!(attr["StickySessionType"], "insert");
    assert_eq!(attr["CookieTimeout"], 3600);
    assert_eq!(attr["HealthCheckHttpCode"], "http_2xx");
    assert_eq!(attr["Gzip"], "on");

    client.ok("StartLoadBalancerListener", &listener).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "running");
    client
        .ok(
            "SetLoadBalancerHTTPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "80"),
                ("Bandwidth", "-1"),
                ("StickySession", "off"),
                ("HealthCheck", "off"),
                ("Scheduler", "wlc"),
            ],
        )
        .await;
    let attr = client.ok(describe, &listener).await;
    assert_eq!(attr["Scheduler"], "wlc");
    assert_eq!(attr["HealthCheck"], "off");
    assert!(attr.get("HealthCheckURI").is_none() && attr.get("CookieTimeout").is_none());
    assert_eq!(attr["BackendServerPort"], 8080);

    let lb_attr = client
        .ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    assert_eq!(lb_attr["ListenerPorts"]["ListenerPort"][0], 80);
    assert_eq!(
        lb_attr["ListenerPortsAndProtocol"]["ListenerPortAndProtocol"][0]["ListenerProtocol"],
        "http"
    );

    client.ok("StopLoadBalancerListener", &listener).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "stopped");
    client.ok("DeleteLoadBalancerListener", &listener).await;
    client
        .expect_err(describe, &listener, 404, "ListenerNotFound")
        .await;
}

#[tokio::test]
async fn conditional_parameters() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut params = vec![
            ("ListenerPort", "80"),
            ("BackendServerPort", "80"),
            ("Bandwidth", "10"),
            ("StickySession", "off"),
            ("HealthCheck", "off"),
        ];
        for (k, v) in extra {
            params.retain(|(name, _)| name != k);
            params.push((k, v));
        }
        params
    };
    // (parameters, HTTP status, code, part of the message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            base(&[("StickySession", "on")]),
            400,
            "MissingParameter",
            "StickySessionType",
        ),
        (
            base(&[("StickySession", "on"), ("StickySessionType", "insert")]),
            400,
            "MissingParameter",
            "CookieTimeout",
        ),
        (
            base(&[("StickySession", "on"), ("StickySessionType", "server")]),
            400,
            "MissingParameter",
            "The input parameter Cookie that is mandatory for processing this request is not supplied.",
        ),
        (
            base(&[("HealthCheck", "on")]),
            400,
            "MissingParameter",
            "HealthCheckURI",
        ),
        (
            base(&[("StickySessionType", "cookie")]),
            400,
            "InvalidParameter",
            "StickySessionType",
        ),
        (
            base(&[("Scheduler", "rr")]),
            400,
            "InvalidParameter",
            "Scheduler",
        ),
        (
            base(&[("HealthCheck", "maybe")]),
            400,
            "InvalidParameter",
            "HealthCheck",
        ),
        (
            base(&[("Bandwidth", "0")]),
            400,
            "InvalidParameter",
            "bandwidth",
        ),
        (
            base(&[("Bandwidth", "1001")]),
            400,
            "InvalidParameter",
            "bandwidth",
        ),
        (
            base(&[("ListenerPort", "0")]),
            400,
            "InvalidParameter",
            "The specified port is not valid.",
        ),
        (
            base(&[("ListenerPort", "http")]),
            400,
            "InvalidParameter",
            "Port is not Integer.",
        ),
        (
            base(&[("BackendServerPort", "70000")]),
            400,
            "InvalidParameter",
            "port",
        ),
        (
            base(&[("XForwardedFor", "yes")]),
            400,
            "InvalidParameter",
            "XForwardedFor",
        ),
        (
            base(&[("HealthCheck", "on"), ("HealthCheckURI", "no-slash")]),
            400,
            "InvalidParameter",
            "URI",
        ),
        (
            base(&[("HealthCheckDomain", "bad_domain")]),
            400,
            "InvalidParameter",
            "Domain",
        ),
        (
            base(&[("HealthCheckHttpCode", "http_6xx")]),
            400,
            "InvalidParameter",
            "HealthCheckHttpCode",
        ),
        (
            base(&[("HealthyThreshold", "11")]),
            400,
            "InvalidParameter",
            "HealthyThreshold",
        ),
        (
            base(&[("UnhealthyThreshold", "0")]),
            400,
            "InvalidParameter",
            "UnhealthyThreshold",
        ),
        (
            base(&[("HealthCheckTimeout", "51")]),
            400,
            "InvalidParameter",
            "ConnectTimeou",
        ),
        (
            base(&[("HealthCheckInterval", "6")]),
            400,
            "InvalidParameter",
            "Interva",
        ),
        (
            base(&[("HealthCheckConnectPort", "0")]),
            400,
            "InvalidParameter",
            "ConnectPort",
        ),
        (
            base(&[("Cookie", "$bad")]),
            400,
            "InvalidParameter",
            "Specified parameter is not valid.",
        ),
        (
            base(&[("VServerGroupId", "rsp-none")]),
            404,
            "InvalidParameter",
            "RS Pool",
        ),
        (
            vec![
                ("ListenerPort", "80"),
                ("Bandwidth", "1"),
                ("StickySession", "off"),
                ("HealthCheck", "off"),
            ],
            400,
            "MissingParameter",
            "BackendServerPort",
        ),
        (
            vec![
                ("ListenerPort", "80"),
                ("BackendServerPort", "80"),
                ("StickySession", "off"),
                ("HealthCheck", "off"),
            ],
            400,
            "MissingParameter",
            "Bandwidth",
        ),
        (
            vec![
                ("ListenerPort", "80"),
                ("BackendServerPort", "80"),
                ("Bandwidth", "1"),
                ("HealthCheck", "off"),
            ],
            400,
            "MissingParameter",
            "StickySession",
        ),
    ];
    for (params, http, code, message_part) in cases {
        let mut all = params.clone();
        all.push(("LoadBalancerId", &lb));
        let message = client
            .expect_err("CreateLoadBalancerHTTPListener", &all, http, code)
            .await;
        assert!(message.contains(message_part), "{params:?}: {message}");
    }
    // Parameters that do not apply are ignored, not refused.
    client
        .ok(
            "CreateLoadBalancerHTTPListener",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "81"),
                ("BackendServerPort", "80"),
                ("Bandwidth", "10"),
                ("StickySession", "off"),
                ("CookieTimeout", "10"),
                ("HealthCheck", "off"),
                ("HealthCheckURI", "/x"),
            ],
        )
        .await;
}

#[tokio::test]
async fn conflicts_and_limits() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    create_http_listener(&mut client, &lb, "80").await;
    client
        .expect_errs(&[
            (
                "CreateLoadBalancerTCPListener",
                &[
                    ("LoadBalancerId", &lb),
                    ("ListenerPort", "80"),
                    ("BackendServerPort", "80"),
                    ("Bandwidth", "-1"),
                ],
                400,
                "ListenerAlreadyExists",
            ),
            (
                "CreateLoadBalancerTCPListener",
                &[
                    ("LoadBalancerId", "lb-none"),
                    ("ListenerPort", "80"),
                    ("BackendServerPort", "80"),
                    ("Bandwidth", "-1"),
                ],
                404,
                "InvalidLoadBalancerId.NotFound",
            ),
        ])
        .await;
    for port in 1..50 {
        create_tcp_listener(&mut client, &lb, &(1000 + port).to_string()).await;
    }
    let message = client
        .expect_err(
            "CreateLoadBalancerTCPListener",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "2000"),
                ("BackendServerPort", "80"),
                ("Bandwidth", "-1"),
            ],
            400,
            "VipTooManyListeners",
        )
        .await;
    assert_eq!(
        message,
        "The total number of input listeners exceeds max supported number: 50"
    );
    // Describing a listener through another protocol's action.
    client
        .expect_err(
            "DescribeLoadBalancerTCPListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
            400,
            "UnsupportedOperationonfixedprotocalport",
        )
        .await;
}

#[tokio::test]
async fn fixed_bandwidth_instances_share_their_bandwidth() {
    let (_emulator, mut client) = start().await;
    let lb = create_lb(
        &mut client,
        &[
            ("InternetChargeType", "paybybandwidth"),
            ("Bandwidth", "10"),
        ],
    )
    .await;
    let tcp = |port: &'static str, bandwidth: &'static str| {
        vec![
            ("ListenerPort", port),
            ("BackendServerPort", "80"),
            ("Bandwidth", bandwidth),
        ]
    };
    let mut unlimited = tcp("80", "-1");
    unlimited.push(("LoadBalancerId", &lb));
    let m = client
        .expect_err(
            "CreateLoadBalancerTCPListener",
            &unlimited,
            400,
            "InvalidParameter",
        )
        .await;
    assert_eq!(m, "The specified parameter bandwidth is not valid.");
    let mut six = tcp("80", "6");
    six.push(("LoadBalancerId", &lb));
    client.ok("CreateLoadBalancerTCPListener", &six).await;
    let mut five = tcp("81", "5");
    five.push(("LoadBalancerId", &lb));
    let m = client
        .expect_err(
            "CreateLoadBalancerTCPListener",
            &five,
            400,
            "InvalidParameter",
        )
        .await;
    assert_eq!(
        m,
        "The specified parameter bandwidth is not valid, out of the instance total bandwidth."
    );
}

#[tokio::test]
async fn https_tcp_and_udp_listeners() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    let cert = client
        .ok(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", common::TEST_CERTIFICATE),
                ("PrivateKey", common::TEST_PRIVATE_KEY),
            ],
        )
        .await;
    let cert_id = cert["ServerCertificateId"].as_str().unwrap().to_string();
    let https = |port: &'static str, cert: String| {
        vec![
            ("ListenerPort", port.to_string()),
            ("BackendServerPort", "80".to_string()),
            ("Bandwidth", "-1".to_string()),
            ("StickySession", "off".to_string()),
            ("HealthCheck", "off".to_string()),
            ("ServerCertificateId", cert),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>, lb: &str| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> =
            v.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        out.push(("LoadBalancerId".into(), lb.to_string()));
        out
    };
    let params = as_refs(&https("443", cert_id.clone()), &lb);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client.ok("CreateLoadBalancerHTTPSListener", &refs).await;
    let attr = client
        .ok(
            "DescribeLoadBalancerHTTPSListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "443")],
        )
        .await;
    assert_eq!(attr["ServerCertificateId"], cert_id.as_str());
    let params = as_refs(&https("444", "missing-cert".into()), &lb);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client
        .expect_err(
            "CreateLoadBalancerHTTPSListener",
            &refs,
            404,
            "ServerCertificateId.NotFound",
        )
        .await;
    let params: Vec<(String, String)> = as_refs(&https("444", String::new()), &lb);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client
        .expect_errs(&[
            (
                "CreateLoadBalancerHTTPSListener",
                &refs,
                400,
                "MissingParameter",
            ),
            (
                "DeleteServerCertificate",
                &[("ServerCertificateId", &cert_id)],
                400,
                "CertificateAndPrivateKeyIsRefered",
            ),
        ])
        .await;

    client
        .ok(
            "CreateLoadBalancerTCPListener",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "22"),
                ("BackendServerPort", "22"),
                ("Bandwidth", "-1"),
                ("PersistenceTimeout", "60"),
                ("HealthCheckType", "http"),
                ("HealthCheckURI", "/ping"),
                ("healthCheckInterval", "3"),
                ("HealthCheckConnectTimeout", "4"),
            ],
        )
        .await;
    let tcp = client
        .ok(
            "DescribeLoadBalancerTCPListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "22")],
        )
        .await;
    assert_eq!(tcp["HealthCheck"], "on");
    assert_eq!(tcp["PersistenceTimeout"], 60);
    assert_eq!(tcp["HealthCheckInterval"], 3);
    assert_eq!(tcp["HealthCheckTimeout"], 4);
    assert_eq!(tcp["EstablishedTimeout"], 900);
    assert_eq!(tcp["UnhealthyThreshold"], 3);
    client
        .ok(
            "SetLoadBalancerTCPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "22"),
                ("Bandwidth", "50"),
                ("SynProxy", "enable"),
            ],
        )
        .await;
    let tcp = client
        .ok(
            "DescribeLoadBalancerTCPListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "22")],
        )
        .await;
    assert_eq!(
        (tcp["Bandwidth"].as_i64(), tcp["SynProxy"].as_str()),
        (Some(50), Some("enable"))
    );
    assert_eq!(
        tcp["PersistenceTimeout"], 60,
        "omitted Set parameters keep their values"
    );
    client
        .expect_err_of_each(
            &[
                (
                    "CreateLoadBalancerTCPListener",
                    &[
                        ("LoadBalancerId", &lb),
                        ("ListenerPort", "23"),
                        ("BackendServerPort", "22"),
                        ("Bandwidth", "-1"),
                        ("PersistenceTimeout", "3601"),
                    ],
                ),
                (
                    "CreateLoadBalancerTCPListener",
                    &[
                        ("LoadBalancerId", &lb),
                        ("ListenerPort", "23"),
                        ("BackendServerPort", "22"),
                        ("Bandwidth", "-1"),
                        ("EstablishedTimeout", "5"),
                    ],
                ),
            ],
            400,
            "InvalidParameter",
        )
        .await;

    // UDP: Bandwidth optional on create, HealthCheckReq/Exp alphanumeric.
    client
        .ok(
            "CreateLoadBalanceUDPListener",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "53"),
                ("BackendServerPort", "53"),
                ("HealthCheckReq", "ping"),
            ],
        )
        .await;
    let udp = client
        .ok(
            "DescribeLoadBalancerUDPListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "53")],
        )
        .await;
    assert_eq!(udp["Bandwidth"], -1);
    assert_eq!(udp["HealthCheckConnectTimeout"], 5);
    client
        .expect_errs(&[
            (
                "CreateLoadBalancerUDPListener",
                &[
                    ("LoadBalancerId", &lb),
                    ("ListenerPort", "54"),
                    ("BackendServerPort", "53"),
                    ("HealthCheckExp", "no spaces"),
                ],
                400,
                "InvalidParameter",
            ),
            (
                "SetLoadBalancerUDPListenerAttribute",
                &[("LoadBalancerId", &lb), ("ListenerPort", "53")],
                400,
                "MissingParameter",
            ),
        ])
        .await;
    client
        .ok(
            "SetLoadBalancerUDPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "53"),
                ("Bandwidth", "5"),
                ("Scheduler", "wlc"),
            ],
        )
        .await;
    client
        .expect_err(
            "SetLoadBalancerUDPListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "53"),
                ("Bandwidth", "5"),
                ("VServerGroup", "on"),
            ],
            400,
            "MissingParameter",
        )
        .await;
    client
        .ok(
            "SetLoadBalancerHTTPSListenerAttribute",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "443"),
                ("Bandwidth", "-1"),
                ("StickySession", "off"),
                ("HealthCheck", "off"),
                ("ServerCertificateId", &cert_id),
            ],
        )
        .await;
    client
        .expect_err(
            "DescribeLoadBalancerUDPListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "99")],
            404,
            "ListenerNotFound",
        )
        .await;
}

#[tokio::test]
async fn transitional_states_refuse_changes_until_they_settle() {
    let config = Config {
        delays: TransitionDelays::uniform(Duration::from_millis(300)),
        ..Config::for_tests()
    };
    let (_emulator, mut client) = start_with(config).await;
    let lb = create_lb(&mut client, &[]).await;
    create_tcp_listener(&mut client, &lb, "80").await;
    let listener = [("LoadBalancerId", lb.as_str()), ("ListenerPort", "80")];
    let describe = "DescribeLoadBalancerTCPListenerAttribute";
    let set = [
        ("LoadBalancerId", lb.as_str()),
        ("ListenerPort", "80"),
        ("Bandwidth", "5"),
    ];

    client.ok("StartLoadBalancerListener", &listener).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "starting");
    let message = client
        .expect_err(
            "SetLoadBalancerTCPListenerAttribute",
            &set,
            503,
            "ServiceUnavailable",
        )
        .await;
    assert_eq!(
        message,
        "The specified loadbalancer is configuring, please retry later"
    );
    client
        .expect_err_of_each(
            &[
                ("DeleteLoadBalancerListener", &listener),
                ("StopLoadBalancerListener", &listener),
            ],
            503,
            "ServiceUnavailable",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "running");

    client.ok("SetLoadBalancerTCPListenerAttribute", &set).await;
    assert_eq!(
        status(&mut client, describe, &lb, "80").await,
        "configuring"
    );
    client
        .expect_err(
            "SetLoadBalancerTCPListenerAttribute",
            &set,
            503,
            "ServiceUnavailable",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "running");
    client.ok("StartLoadBalancerListener", &listener).await;

    client.ok("StopLoadBalancerListener", &listener).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "stopping");
    client
        .expect_err(
            "StartLoadBalancerListener",
            &listener,
            503,
            "ServiceUnavailable",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "stopped");
    client.ok("StopLoadBalancerListener", &listener).await;
    // A stopped listener can be changed and stays stopped.
    client.ok("SetLoadBalancerTCPListenerAttribute", &set).await;
    assert_eq!(status(&mut client, describe, &lb, "80").await, "stopped");
    client.ok("DeleteLoadBalancerListener", &listener).await;
    client
        .expect_err(
            "StartLoadBalancerListener",
            &listener,
            404,
            "ListenerNotFound",
        )
        .await;
}

#[tokio::test]
async fn access_control() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    create_http_listener(&mut client, &lb, "80").await;
    let listener = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![("ListenerPort", "80")];
        p.extend_from_slice(extra);
        p
    };
    let with_lb = |mut p: Vec<(&'static str, &'static str)>, lb: &'static str| {
        p.push(("LoadBalancerId", lb));
        p
    };
    let lb_static: &'static str = Box::leak(lb.clone().into_boxed_str());
    client
        .ok_each(&[
            (
                "SetListenerAccessControlStatus",
                &with_lb(
                    listener(&[("AccessControlStatus", "open_white_list")]),
                    lb_static,
                ),
            ),
            (
                "AddListenerWhiteListItem",
                &with_lb(
                    listener(&[("SourceItems", "1.1.1.1,10.0.0.0/8")]),
                    lb_static,
                ),
            ),
            (
                "RemoveListenerWhiteListItem",
                &with_lb(listener(&[("SourceItems", "1.1.1.1,9.9.9.9")]), lb_static),
            ),
        ])
        .await;
    let attr = client
        .ok(
            "DescribeListenerAccessControlAttribute",
            &with_lb(listener(&[]), lb_static),
        )
        .await;
    assert_eq!(attr["AccessControlStatus"], "open_white_list");
    assert_eq!(attr["SourceItems"], "10.0.0.0/8");
    let m = client
        .expect_err(
            "AddListenerWhiteListItem",
            &with_lb(listener(&[("SourceItems", "0.0.0.0")]), lb_static),
            400,
            "InvalidParameter",
        )
        .await;
    assert_eq!(m, "The specified parameter SourceItems is not valid.");
    let m = client
        .expect_err(
            "SetListenerAccessControlStatus",
            &with_lb(listener(&[("AccessControlStatus", "open")]), lb_static),
            400,
            "InvalidParameter",
        )
        .await;
    assert_eq!(
        m,
        "The specified parameter AccessControlStatus is not valid."
    );
    client
        .expect_err(
            "AddListenerWhiteListItem",
            &with_lb(listener(&[]), lb_static),
            400,
            "MissingParameter",
        )
        .await;
    let many: Vec<String> = (0..301)
        .map(|i| format!("10.{}.{}.1", i / 256, i % 256))
        .collect();
    let many: &'static str = Box::leak(many.join(",").into_boxed_str());
    client
        .expect_errs(&[
            (
                "AddListenerWhiteListItem",
                &with_lb(listener(&[("SourceItems", many)]), lb_static),
                400,
                "SourceListOverLimit",
            ),
            (
                "DescribeListenerAccessControlAttribute",
                &[("LoadBalancerId", lb_static), ("ListenerPort", "81")],
                404,
                "ListenerNotFound",
            ),
        ])
        .await;
}

#[tokio::test]
async fn set_defaults_the_health_check_port_to_the_backend_port() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    create_http_listener(&mut client, &lb, "80").await;
    let health_check = [
        ("LoadBalancerId", lb.as_str()),
        ("ListenerPort", "80"),
        ("Bandwidth", "-1"),
        ("StickySession", "off"),
        ("HealthCheck", "on"),
        ("HealthCheckURI", "/"),
        ("HealthyThreshold", "2"),
        ("UnhealthyThreshold", "2"),
        ("HealthCheckTimeout", "3"),
        ("HealthCheckInterval", "2"),
    ];
    client
        .ok("SetLoadBalancerHTTPListenerAttribute", &health_check)
        .await;
    let attr = client
        .ok(
            "DescribeLoadBalancerHTTPListenerAttribute",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    assert_eq!(attr["HealthCheckConnectPort"], 8080);
    assert_eq!(attr["HealthCheckHttpCode"], "http_2xx");
    // -520 is documented for Create only.
    let mut with_520 = health_check.to_vec();
    with_520.push(("HealthCheckConnectPort", "-520"));
    client
        .expect_err(
            "SetLoadBalancerHTTPListenerAttribute",
            &with_520,
            400,
            "InvalidParameter",
        )
        .await;
}
