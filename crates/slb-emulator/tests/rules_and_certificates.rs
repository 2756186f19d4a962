//! Forwarding rules, server certificates and CA certificates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    TEST_CERTIFICATE, TEST_PRIVATE_KEY, create_http_listener, create_lb, create_rules,
    create_tcp_listener, create_vserver_group, start, start_with_lb,
};

#[tokio::test]
async fn forwarding_rules() {
    let (_emulator, mut client, lb) = start_with_lb().await;
    create_http_listener(&mut client, &lb, "80").await;
    let group =
        create_vserver_group(&mut client, &lb, "g", r#"[{"ServerId":"i-1","Port":80}]"#).await;
    let rule_list = format!(
        r#"[{{"RuleName":"images","Domain":"example.com","Url":"/image","VServerGroupId":"{group}"}},{{"RuleName":"cache","Url":"/cache"}}]"#
    );
    let created = create_rules(&mut client, &lb, &rule_list).await;
    let rules = created["Rules"]["Rule"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    let first = rules[0]["RuleId"].as_str().unwrap().to_string();
    let second = rules[1]["RuleId"].as_str().unwrap().to_string();
    assert!(first.starts_with("rule-"));

    let described = client
        .ok("DescribeRuleAttribute", &[("RuleId", &first)])
        .await;
    assert_eq!(described["RuleName"], "images");
    assert_eq!(described["LoadBalancerId"], lb.as_str());
    assert_eq!(described["ListenerPort"], 80);
    assert_eq!(described["VServerGroupId"], group.as_str());
    let listed = client
        .ok(
            "DescribeRules",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    assert_eq!(listed["Rules"]["Rule"].as_array().unwrap().len(), 2);
    assert_eq!(listed["RuleList"]["Rule"].as_array().unwrap().len(), 2);

    client
        .ok(
            "SetRule",
            &[("RuleId", &second), ("VServerGroupId", &group)],
        )
        .await;
    assert_eq!(
        client
            .ok("DescribeRuleAttribute", &[("RuleId", &second)])
            .await["VServerGroupId"],
        group.as_str()
    );
    client
        .expect_errs(&[
            (
                "DeleteVServerGroup",
                &[("VServerGroupId", &group)],
                400,
                "ActionNotAllowed",
            ),
            (
                "SetRule",
                &[("RuleId", &second), ("VServerGroupId", "rsp-none")],
                404,
                "InvalidParameter",
            ),
        ])
        .await;

    let duplicate_name = r#"[{"RuleName":"images","Url":"/other"}]"#;
    let duplicate_path = r#"[{"RuleName":"other","Url":"/cache"}]"#;
    let neither = r#"[{"RuleName":"x"}]"#;
    let bad_url = r#"[{"RuleName":"x","Url":"nope"}]"#;
    let bad_domain = r#"[{"RuleName":"x","Domain":"a b"}]"#;
    let eleven: Vec<String> = (0..11)
        .map(|i| format!(r#"{{"RuleName":"r{i}","Url":"/p{i}"}}"#))
        .collect();
    let eleven = format!("[{}]", eleven.join(","));
    // (rule list, listener port, HTTP status, code, the message where it is checked)
    let refusals = [
        (
            duplicate_name,
            "80",
            400,
            "InvalidParameter",
            Some("The resource already exists"),
        ),
        (duplicate_path, "80", 400, "InvalidParameter", None),
        (neither, "80", 400, "MissingParameter", None),
        (
            bad_url,
            "80",
            400,
            "InvalidParameter",
            Some("The specified parameter URI is not valid."),
        ),
        (bad_domain, "80", 400, "InvalidParameter", None),
        (&eleven, "80", 400, "InvalidParameter", None),
        (duplicate_path, "8", 404, "ListenerNotFound", None),
    ];
    for (rule_list, port, status, code, expected_message) in refusals {
        let params = [
            ("LoadBalancerId", lb.as_str()),
            ("ListenerPort", port),
            ("RuleList", rule_list),
        ];
        client
            .expect_err_and_message("CreateRules", &params, (status, code), expected_message)
            .await;
    }
    create_tcp_listener(&mut client, &lb, "81").await;
    client
        .expect_err(
            "CreateRules",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "81"),
                ("RuleList", r#"[{"RuleName":"t","Url":"/t"}]"#),
            ],
            400,
            "UnsupportedOperationonfixedprotocalport",
        )
        .await;

    // The reference's own example of RuleIds is a bracketed list of bare IDs.
    client
        .expect_err(
            "DeleteRules",
            &[("RuleIds", "[rule-none]")],
            400,
            "InvalidParameter",
        )
        .await;
    client
        .ok(
            "DeleteRules",
            &[("RuleIds", &format!("[{first},{second}]"))],
        )
        .await;
    client
        .expect_errs(&[
            (
                "DescribeRuleAttribute",
                &[("RuleId", &first)],
                400,
                "InvalidParameter",
            ),
            ("DeleteRules", &[], 400, "MissingParameter"),
        ])
        .await;

    // Rules go with their listener.
    client
        .ok_each(&[
            (
                "CreateRules",
                &[
                    ("LoadBalancerId", &lb),
                    ("ListenerPort", "80"),
                    ("RuleList", r#"[{"RuleName":"again","Url":"/a"}]"#),
                ],
            ),
            (
                "DeleteLoadBalancerListener",
                &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
            ),
        ])
        .await;
    create_http_listener(&mut client, &lb, "80").await;
    let listed = client
        .ok(
            "DescribeRules",
            &[("LoadBalancerId", &lb), ("ListenerPort", "80")],
        )
        .await;
    assert_eq!(listed["Rules"]["Rule"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn server_certificates() {
    let (_emulator, mut client) = start().await;
    let uploaded = client
        .ok(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", TEST_CERTIFICATE),
                ("PrivateKey", TEST_PRIVATE_KEY),
                ("ServerCertificateName", "mycert01"),
            ],
        )
        .await;
    let id = uploaded["ServerCertificateId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(uploaded["ServerCertificateName"], "mycert01");
    let fingerprint = uploaded["Fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.split(':').count(), 20);

    client
        .ok(
            "SetServerCertificateName",
            &[
                ("ServerCertificateId", &id),
                ("ServerCertificateName", "renamed"),
            ],
        )
        .await;
    let listed = client.ok("DescribeServerCertificates", &[]).await;
    let certs = listed["ServerCertificates"]["ServerCertificate"]
        .as_array()
        .unwrap();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0]["ServerCertificateName"], "renamed");
    assert!(certs[0].get("PrivateKey").is_none());
    let one = client
        .ok("DescribeServerCertificate", &[("ServerCertificateId", &id)])
        .await;
    assert_eq!(
        one["ServerCertificates"]["ServerCertificate"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let elsewhere = client
        .ok("DescribeServerCertificates", &[("RegionId", "cn-beijing")])
        .await;
    assert_eq!(
        elsewhere["ServerCertificates"]["ServerCertificate"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let m = client
        .expect_err(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", "test"),
                ("PrivateKey", TEST_PRIVATE_KEY),
            ],
            404,
            "InvalidParameter",
        )
        .await;
    assert_eq!(
        m,
        "The specified parameter ServerCertificate format is error."
    );
    let m = client
        .expect_err(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", TEST_CERTIFICATE),
                ("PrivateKey", "wmsad!q23"),
            ],
            404,
            "InvalidParameter",
        )
        .await;
    assert_eq!(m, "The specified parameter key format is error.");
    let m = client
        .expect_err(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", TEST_CERTIFICATE),
                ("PrivateKey", common::OTHER_PRIVATE_KEY),
            ],
            400,
            "CertificateNotMatchPrivateKey",
        )
        .await;
    assert_eq!(m, "Certificate and key does not match.");
    // PEM framing around bytes that are no certificate is refused like no PEM at all.
    let framed = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
    client.expect_errs(&[
("UploadServerCertificate",
            &[
                ("ServerCertificate", framed),
                ("PrivateKey", TEST_PRIVATE_KEY),
            ],
            404,
            "InvalidParameter"),
("UploadCACertificate",
            &[("CACertificate", framed), ("CACertificateName", "ca")],
            404,
            "InvalidParameter"),
("UploadServerCertificate",
            &[("ServerCertificate", TEST_CERTIFICATE), ("PrivateKey", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----")],
            400,
            "PrivateKeyEncryption"),
]).await;
    let m = client
        .expect_err(
            "UploadServerCertificate",
            &[("ServerCertificate", TEST_CERTIFICATE)],
            404,
            "InvalidParameter",
        )
        .await;
    assert_eq!(
        m,
        "The specified parameter ServerCertificate or Key is empty."
    );
    client
        .expect_err(
            "SetServerCertificateName",
            &[
                ("ServerCertificateId", &id),
                ("ServerCertificateName", "bad name"),
            ],
            400,
            "InvalidParameter",
        )
        .await;
    client
        .ok("DeleteServerCertificate", &[("ServerCertificateId", &id)])
        .await;
    client
        .expect_err_of_each(
            &[
                ("DeleteServerCertificate", &[("ServerCertificateId", &id)]),
                (
                    "SetServerCertificateName",
                    &[("ServerCertificateId", &id), ("ServerCertificateName", "x")],
                ),
            ],
            404,
            "ServerCertificateId.NotFound",
        )
        .await;
}

#[tokio::test]
async fn ca_certificates() {
    let (_emulator, mut client) = start().await;
    let uploaded = client
        .ok(
            "UploadCACertificate",
            &[
                ("CACertificate", TEST_CERTIFICATE),
                ("CACertificateName", "myca"),
            ],
        )
        .await;
    let id = uploaded["CACertificateId"].as_str().unwrap().to_string();
    client
        .ok(
            "SetCACertificateName",
            &[("CACertificateId", &id), ("CACertificateName", "myca2")],
        )
        .await;
    let listed = client.ok("DescribeCACertificates", &[]).await;
    assert_eq!(
        listed["CACertificates"]["CACertificate"][0]["CACertificateName"],
        "myca2"
    );
    client
        .ok("DescribeCACertificate", &[("CACertificateId", &id)])
        .await;
    client
        .expect_errs(&[
            (
                "UploadCACertificate",
                &[("CACertificate", TEST_CERTIFICATE)],
                400,
                "MissingParameter",
            ),
            (
                "UploadCACertificate",
                &[("CACertificate", "x"), ("CACertificateName", "n")],
                404,
                "InvalidParameter",
            ),
        ])
        .await;

    // A CA certificate used by an HTTPS listener cannot be deleted.
    let server = client
        .ok(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", TEST_CERTIFICATE),
                ("PrivateKey", TEST_PRIVATE_KEY),
            ],
        )
        .await["ServerCertificateId"]
        .as_str()
        .unwrap()
        .to_string();
    let lb = create_lb(&mut client, &[]).await;
    client
        .ok(
            "CreateLoadBalancerHTTPSListener",
            &[
                ("LoadBalancerId", &lb),
                ("ListenerPort", "443"),
                ("BackendServerPort", "80"),
                ("Bandwidth", "-1"),
                ("StickySession", "off"),
                ("HealthCheck", "off"),
                ("ServerCertificateId", &server),
                ("CACertificateId", &id),
            ],
        )
        .await;
    client
        .expect_err(
            "DeleteCACertificate",
            &[("CACertificateId", &id)],
            400,
            "CertificateAndPrivateKeyIsRefered",
        )
        .await;
    client
        .ok_each(&[
            ("DeleteLoadBalancer", &[("LoadBalancerId", &lb)]),
            ("DeleteCACertificate", &[("CACertificateId", &id)]),
        ])
        .await;
    client
        .expect_err(
            "DeleteCACertificate",
            &[("CACertificateId", &id)],
            404,
            "ServerCertificateId.NotFound",
        )
        .await;
}
