//! Calling conventions: authentication, methods, parameter placement, formats, error bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, encode_pairs, iso8601, now_secs, start, start_with};
use slb_emulator::{Account, Config};

#[tokio::test]
async fn signed_get_succeeds_with_request_id() {
    let (_emulator, mut client) = start().await;
    let body = client.ok("DescribeRegions", &[]).await;
    let regions = body["Regions"]["Region"].as_array().unwrap();
    assert!(regions.iter().any(|r| r["RegionId"] == "cn-hangzhou"));
}

#[tokio::test]
async fn post_with_form_body_is_signed_with_post() {
    let (_emulator, mut client) = start().await;
    let params = client.signed("POST", client.common("DescribeRegions"));
    let reply = client
        .connection
        .send("POST", "/", Some(&encode_pairs(&params)))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // Query and body together, as the SDKs send them.
    let params = client.signed("POST", client.common("DescribeRegions"));
    let (query, body) = params.split_at(4);
    let reply = client
        .connection
        .send(
            "POST",
            &format!("/?{}", encode_pairs(query)),
            Some(&encode_pairs(body)),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // A GET signature does not verify a POST.
    let params = client.signed("GET", client.common("DescribeRegions"));
    let reply = client
        .connection
        .send("POST", "/", Some(&encode_pairs(&params)))
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("Illegal sign"));
}

#[tokio::test]
async fn xml_is_the_default_format() {
    let (_emulator, mut client) = start().await;
    let mut params = client.common("DescribeRegions");
    params.retain(|(k, _)| k != "Format");
    let reply = client.send_signed("GET", params).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .body
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeRegionsResponse>")
    );
    assert!(reply.body.contains("<Regions><Region>"));
    assert!(reply.body.contains("<RequestId>"));

    let mut params = client.common("DescribeLoadBalancerAttribute");
    params.retain(|(k, _)| k != "Format");
    params.push(("LoadBalancerId".into(), "lb-missing".into()));
    let reply = client.send_signed("GET", params).await;
    assert_eq!(reply.status, 404);
    assert!(
        reply
            .body
            .contains("<Error><Code>InvalidLoadBalancerId.NotFound</Code>"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("<HostId>slb.aliyuncs.com</HostId>"));

    let reply = client.call("DescribeRegions", &[("Format", "xml")]).await;
    assert!(reply.body.starts_with("<?xml"));
    let reply = client.call("DescribeRegions", &[("Format", "yaml")]).await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("Illegal format"));
}

/// A DescribeRegions call the authentication refuses: 400 InternalError (as the reference answers) with
/// `message`.
async fn assert_refused(client: &mut Client, extra: &[(&str, &str)], message: &str) {
    client
        .expect_err_and_message(
            "DescribeRegions",
            extra,
            (400, "InternalError"),
            Some(message),
        )
        .await;
}

#[tokio::test]
async fn bad_signature_and_unknown_key_are_refused() {
    let (emulator, mut client) = start().await;
    client.access_key_secret = "wrong".into();
    assert_refused(&mut client, &[], "Illegal sign").await;

    let mut stranger = Client::with_keys(&emulator, "LTAIUnknown", "x").await;
    assert_refused(&mut stranger, &[], "Illegal user").await;
}

#[tokio::test]
async fn timestamps_outside_fifteen_minutes_are_refused() {
    let (_emulator, mut client) = start().await;
    for offset in [-16 * 60, 16 * 60] {
        let timestamp = iso8601(now_secs() + offset);
        assert_refused(
            &mut client,
            &[("Timestamp", &timestamp)],
            "Illegal timestamp",
        )
        .await;
    }
    client
        .ok(
            "DescribeRegions",
            &[("Timestamp", &iso8601(now_secs() - 14 * 60))],
        )
        .await;
    assert_refused(
        &mut client,
        &[("Timestamp", "yesterday")],
        "Illegal timestamp",
    )
    .await;
}

#[tokio::test]
async fn replayed_nonce_is_refused() {
    let (_emulator, mut client) = start().await;
    client
        .ok("DescribeRegions", &[("SignatureNonce", "fixed-nonce")])
        .await;
    assert_refused(
        &mut client,
        &[("SignatureNonce", "fixed-nonce")],
        "Illegal sign",
    )
    .await;
}

#[tokio::test]
async fn missing_common_parameters_are_refused() {
    let (_emulator, mut client) = start().await;
    // An unsigned request: sent as is, without the Signature the others carry.
    let query = encode_pairs(&client.common("DescribeRegions"));
    let reply = client
        .connection
        .send("GET", &format!("/?{query}"), None)
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("MissingParameter"), "{}", reply.body);
    for name in [
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
        "Version",
    ] {
        let mut params = client.common("DescribeRegions");
        params.retain(|(k, _)| k != name);
        let reply = client.send_signed("GET", params).await;
        assert_eq!(reply.status, 400, "{name}");
        let body = reply.json();
        assert_eq!(body["Code"], "MissingParameter", "{name}: {}", reply.body);
        assert_eq!(
            body["Message"],
            format!(
                "The input parameter {name} that is mandatory for processing this request is not supplied."
            )
        );
    }
    client
        .expect_errs(&[
            (
                "DescribeRegions",
                &[("SignatureMethod", "HMAC-SHA256")],
                400,
                "InternalError",
            ),
            (
                "DescribeRegions",
                &[("Version", "2013-02-21")],
                400,
                "InvalidParameter",
            ),
        ])
        .await;
}

#[tokio::test]
async fn action_and_region_are_checked() {
    let (_emulator, mut client) = start().await;
    let message = client
        .expect_err("LaunchRockets", &[], 400, "UnsupportedOperation")
        .await;
    assert_eq!(message, "The specified action is not supported.");
    client
        .expect_err(
            "DescribeLoadBalancers",
            &[("RegionId", "mars-1")],
            404,
            "InvalidRegionId.NotFound",
        )
        .await;
    client.region = None;
    let message = client
        .expect_err("DescribeLoadBalancers", &[], 400, "MissingParameter")
        .await;
    assert!(message.contains("RegionId"));
    // DescribeRegions lists no RegionId parameter.
    client.ok("DescribeRegions", &[]).await;
}

#[tokio::test]
async fn extra_sdk_parameters_are_accepted() {
    let (_emulator, mut client) = start().await;
    client
        .ok(
            "DescribeLoadBalancers",
            &[
                ("SignatureType", ""),
                ("OwnerId", "1"),
                ("ResourceOwnerId", "1"),
                ("OwnerAccount", "a"),
                ("ResourceOwnerAccount", "a"),
            ],
        )
        .await;
}

#[tokio::test]
async fn accounts_see_only_their_own_resources() {
    let config = Config {
        accounts: vec![
            Account::new("1", "key-one", "secret-one"),
            Account::new("2", "key-two", "secret-two"),
        ],
        ..Config::for_tests()
    };
    let (emulator, _) = start_with(config).await;
    let mut one = Client::with_keys(&emulator, "key-one", "secret-one").await;
    let mut two = Client::with_keys(&emulator, "key-two", "secret-two").await;
    let lb = common::create_lb(&mut one, &[]).await;
    one.ok("DescribeLoadBalancerAttribute", &[("LoadBalancerId", &lb)])
        .await;
    two.expect_err(
        "DescribeLoadBalancerAttribute",
        &[("LoadBalancerId", &lb)],
        404,
        "InvalidLoadBalancerId.NotFound",
    )
    .await;
    let listed = two.ok("DescribeLoadBalancers", &[]).await;
    assert_eq!(
        listed["LoadBalancers"]["LoadBalancer"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn call_log_records_calls_without_secrets() {
    let (emulator, mut client) = start().await;
    client
        .call(
            "UploadServerCertificate",
            &[
                ("ServerCertificate", common::TEST_CERTIFICATE),
                ("PrivateKey", common::TEST_PRIVATE_KEY),
            ],
        )
        .await;
    client
        .call(
            "DescribeLoadBalancerAttribute",
            &[("LoadBalancerId", "lb-x")],
        )
        .await;
    let calls = emulator.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].action, "UploadServerCertificate");
    assert_eq!(calls[0].parameters["PrivateKey"], "<redacted>");
    assert!(!calls[0].parameters.contains_key("Signature"));
    assert!(calls[0].write);
    assert_eq!(calls[1].code, "InvalidLoadBalancerId.NotFound");
    assert_eq!(calls[1].http_status, 404);
    let counters = emulator.counters();
    assert_eq!(
        (counters.calls, counters.writes, counters.errors),
        (2, 1, 1)
    );
    assert_eq!(counters.writes_by_action["UploadServerCertificate"], 1);
    assert_eq!(counters.by_code["InvalidLoadBalancerId.NotFound"], 1);

    // The same through the admin endpoint.
    let mut admin = common::Connection::open(emulator.addr()).await;
    let reply = admin.send("GET", "/__admin/calls?since=1", None).await;
    let listed: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(listed["calls"].as_array().unwrap().len(), 1);
    let reply = admin.send("GET", "/__admin/counters", None).await;
    assert!(reply.body.contains("\"writes\":1"));
}

/// Sends a request signed with the ACS3-HMAC-SHA256 header signature (the newer SDKs' default).
async fn send_acs3(
    addr: std::net::SocketAddr,
    query: &str,
    secret: &str,
    date: &str,
    unsigned: &[&str],
) -> (u16, serde_json::Value) {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::{Digest, Sha256};
    let host = addr.to_string();
    let nonce = uuid::Uuid::new_v4().to_string();
    let empty_hash = hex::encode(Sha256::digest(b""));
    let headers = [
        ("host", host.as_str()),
        ("x-acs-action", "DescribeRegions"),
        ("x-acs-content-sha256", empty_hash.as_str()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce.as_str()),
        ("x-acs-version", "2014-05-15"),
    ];
    let signed_pairs: Vec<(&str, &str)> = headers
        .iter()
        .copied()
        .filter(|(k, _)| !unsigned.contains(k))
        .collect();
    let signed: Vec<&str> = signed_pairs.iter().map(|(k, _)| *k).collect();
    let signed = signed.join(";");
    let canonical_headers: String = signed_pairs
        .iter()
        .map(|(k, v)| format!("{k}:{v}\n"))
        .collect();
    let canonical = format!("POST\n/\n{query}\n{canonical_headers}\n{signed}\n{empty_hash}");
    let to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let mut request = format!("POST /?{query} HTTP/1.1\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!(
        "authorization: ACS3-HMAC-SHA256 Credential=LTAIDemoAccessKeyId,SignedHeaders={signed},Signature={signature}\r\n"
    ));
    request.push_str("content-length: 0\r\nconnection: close\r\n\r\n");
    let response = common::send_raw(addr, &request).await;
    let status = response[9..12].parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    (status, serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn acs3_header_signature_is_verified() {
    let (emulator, _client) = start().await;
    let now = iso8601(now_secs());
    let (status, body) = send_acs3(
        emulator.addr(),
        "RegionId=cn-hangzhou",
        "DemoAccessKeySecret",
        &now,
        &[],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["Regions"]["Region"].is_array(),
        "JSON by default: {body}"
    );
    let (status, body) =
        send_acs3(emulator.addr(), "RegionId=cn-hangzhou", "wrong", &now, &[]).await;
    assert_eq!(
        (status, body["Message"].as_str()),
        (400, Some("Illegal sign"))
    );
    let old = iso8601(now_secs() - 3600);
    let (status, body) = send_acs3(
        emulator.addr(),
        "RegionId=cn-hangzhou",
        "DemoAccessKeySecret",
        &old,
        &[],
    )
    .await;
    assert_eq!(
        (status, body["Message"].as_str()),
        (400, Some("Illegal timestamp"))
    );
    // The action and the version choose what runs: a signature that leaves either out is refused.
    for unsigned in ["x-acs-action", "x-acs-version"] {
        let (status, body) = send_acs3(
            emulator.addr(),
            "RegionId=cn-hangzhou",
            "DemoAccessKeySecret",
            &now,
            &[unsigned],
        )
        .await;
        assert_eq!(
            (status, body["Code"].as_str(), body["Message"].as_str()),
            (400, Some("InternalError"), Some("Illegal sign")),
            "{unsigned}"
        );
    }
}
