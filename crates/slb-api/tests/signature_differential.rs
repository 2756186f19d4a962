//! The signer agrees with the official SDK's (`aliyunsdkcore`) on random parameter sets, for GET and POST.
//!
//! Needs python with the SDK: `hack/python-venv.sh` creates (once) and prints it. A missing python or SDK
//! fails the test; it is never skipped.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use slb_api::signature::{canonicalized_query, sign, string_to_sign};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const CASES: usize = 150;

/// Characters values are drawn from: ASCII letters and digits, every character the encoder must escape or
/// keep, and non-ASCII text (2-, 3- and 4-byte UTF-8).
const VALUE_CHARS: &[char] = &[
    'a', 'Z', '0', '9', '-', '_', '.', '~', ' ', '*', '+', '=', '&', '%', '/', '?', '#', '"', '\'',
    ':', ',', ';', '[', ']', '{', '}', '<', '>', '!', '@', '$', '^', '(', ')', '|', '\\', '\n',
    '\t', 'é', 'ß', 'ü', '杭', '州', '北', '京', '中', '文', 'Ж', 'ا', '€', '😀', '🚀', '\u{200b}',
    '\u{00a0}',
];

/// Parameter names: the API's names are ASCII letters, digits and `_` (`XForwardedFor_SLBIP`).
const NAME_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";

fn random_value(rng: &mut StdRng) -> String {
    let len = rng.random_range(0..24);
    (0..len)
        .map(|_| VALUE_CHARS[rng.random_range(0..VALUE_CHARS.len())])
        .collect()
}

fn random_name(rng: &mut StdRng) -> String {
    let len = rng.random_range(1..16);
    let mut name: String = (0..len)
        .map(|_| char::from(NAME_CHARS[rng.random_range(0..NAME_CHARS.len())]))
        .collect();
    // Names start with a letter, as the API's do.
    name.insert(0, char::from(b'A' + rng.random_range(0..26u8)));
    name
}

fn random_case(rng: &mut StdRng, index: usize) -> (String, BTreeMap<String, String>, String) {
    let method = if index.is_multiple_of(2) {
        "GET"
    } else {
        "POST"
    }
    .to_owned();
    let mut params = BTreeMap::from([
        ("Action".to_owned(), "DescribeLoadBalancers".to_owned()),
        ("Format".to_owned(), "JSON".to_owned()),
        ("Version".to_owned(), "2014-05-15".to_owned()),
        ("AccessKeyId".to_owned(), random_value(rng)),
        ("SignatureMethod".to_owned(), "HMAC-SHA1".to_owned()),
        ("SignatureVersion".to_owned(), "1.0".to_owned()),
        ("Timestamp".to_owned(), "2026-11-26T07:00:00Z".to_owned()),
        (
            "SignatureNonce".to_owned(),
            format!("{:032x}", rng.random::<u128>()),
        ),
        ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
    ]);
    for _ in 0..rng.random_range(0..12) {
        params.insert(random_name(rng), random_value(rng));
    }
    if index.is_multiple_of(5) {
        params.insert(
            "BackendServers".to_owned(),
            json!([{"ServerId": random_value(rng), "Weight": 100}]).to_string(),
        );
    }
    let secret = random_value(rng);
    (method, params, secret)
}

fn sdk_python() -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hack/python-venv.sh");
    let output = Command::new(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let python = String::from_utf8(output.stdout).map_err(|e| e.to_string())?;
    Ok(python.trim().to_owned())
}

#[test]
fn signatures_match_the_official_sdk() {
    let mut rng = StdRng::seed_from_u64(0x5eed_51b0);
    let cases: Vec<_> = (0..CASES).map(|i| random_case(&mut rng, i)).collect();
    let input: Vec<Value> = cases
        .iter()
        .map(|(method, params, secret)| json!({"method": method, "params": params, "secret": secret}))
        .collect();

    let python = sdk_python().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk_signer.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the SDK signer failed (is aliyunsdkcore installed?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sdk: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sdk.len(), CASES);

    let mut non_ascii = 0;
    for ((method, params, secret), expected) in cases.iter().zip(&sdk) {
        let pairs = || params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        non_ascii += usize::from(params.values().any(|v| !v.is_ascii()));
        let ours = string_to_sign(method, &canonicalized_query(pairs()));
        assert_eq!(
            ours, expected["string_to_sign"],
            "StringToSign differs for {method} {params:?}"
        );
        assert_eq!(
            sign(method, pairs(), secret),
            expected["signature"],
            "signature differs for {method} {params:?} secret {secret:?}"
        );
    }
    assert!(
        non_ascii >= CASES / 2,
        "only {non_ascii} cases had non-ASCII values"
    );
}
