//! Request signing as the reference defines it (SignatureMethod HMAC-SHA1, SignatureVersion 1.0).
//!
//! The emulator verifies with these same functions; their fidelity is pinned by the reference's worked
//! example and by a differential test against the official SDK's signer (`aliyunsdkcore`).

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;
use std::borrow::Cow;

/// Everything but the unreserved characters `A-Z a-z 0-9 - _ . ~` is encoded, byte by byte, in upper-case hex.
/// A space becomes `%20` (never `+`) and `*` becomes `%2A`, which is what the reference asks for.
const SIGNING_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a value with the reference's rules.
pub fn percent_encode(value: &str) -> String {
    // Collecting through `Cow` appends slices directly, which is faster than `Display`.
    Cow::from(utf8_percent_encode(value, SIGNING_SET)).into_owned()
}

/// The canonicalized query: every parameter but `Signature`, encoded, sorted by encoded name, joined with `&`.
pub fn canonicalized_query<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut encoded: Vec<(String, String)> = params
        .into_iter()
        .filter(|(name, _)| *name != "Signature")
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    encoded.sort();
    let mut out = String::with_capacity(encoded.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
    for (i, (name, value)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// `METHOD&%2F&percentEncode(canonicalizedQuery)`.
pub fn string_to_sign(method: &str, canonicalized_query: &str) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(canonicalized_query)
    )
}

/// Base64(HMAC-SHA1(secret + "&", stringToSign)).
pub fn sign_string(access_key_secret: &str, string_to_sign: &str) -> String {
    let key = format!("{access_key_secret}&");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The signature of a request with these parameters (without `Signature`) and HTTP method.
pub fn sign<'a, I>(method: &str, params: I, access_key_secret: &str) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    sign_string(
        access_key_secret,
        &string_to_sign(method, &canonicalized_query(params)),
    )
}

/// Compares two signatures in constant time, so that a verifier leaks nothing through timing.
pub fn signatures_match(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference's worked example (01-conventions, "Signature" section).
    #[test]
    fn reference_worked_example() {
        let params = [
            ("Format", "JSON"),
            ("Version", "2014-05-15"),
            ("AccessKeyId", "testid"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("Timestamp", "2017-08-22T10:06:13Z"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", "527030809"),
            ("RegionId", "cn-hangzhou"),
            ("Action", "DescribeLoadBalancerAttribute"),
            ("LoadBalancerId", "lb-bp1of5kr4md52rbv9q7jd"),
        ];
        assert_eq!(
            sign("GET", params, "testsecret"),
            "gXVOzkP+OBER4pHGKpCkBxg8gIk="
        );
    }

    #[test]
    fn encoding_rules() {
        assert_eq!(percent_encode("a b"), "a%20b");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("~-_."), "~-_.");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode("杭州"), "%E6%9D%AD%E5%B7%9E");
        assert_eq!(percent_encode("+="), "%2B%3D");
    }

    #[test]
    fn signature_parameter_is_not_signed() {
        let with = sign("GET", [("A", "1"), ("Signature", "x")], "s");
        let without = sign("GET", [("A", "1")], "s");
        assert_eq!(with, without);
    }

    #[test]
    fn method_is_part_of_the_signature() {
        assert_ne!(
            sign("GET", [("A", "1")], "s"),
            sign("POST", [("A", "1")], "s")
        );
    }

    #[test]
    fn constant_time_compare() {
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "ab"));
    }

    proptest! {
        #[test]
        fn encoded_output_uses_only_unreserved_and_escapes(s in any::<String>()) {
            let e = percent_encode(&s);
            prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
            prop_assert!(!e.contains('+') && !e.contains(' ') && !e.contains('*'));
        }

        #[test]
        fn encoding_round_trips(s in any::<String>()) {
            let encoded = percent_encode(&s);
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8();
            prop_assert_eq!(decoded.ok().map(|c| c.into_owned()), Some(s));
        }

        #[test]
        fn unreserved_strings_are_unchanged(s in "[A-Za-z0-9_.~-]*") {
            prop_assert_eq!(percent_encode(&s), s);
        }

        #[test]
        fn canonical_query_ignores_input_order(mut pairs in proptest::collection::vec(("[A-Za-z]{1,8}", ".{0,8}"), 0..10)) {
            pairs.sort();
            pairs.dedup_by(|a, b| a.0 == b.0);
            let forward = canonicalized_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let backward = canonicalized_query(pairs.iter().rev().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert_eq!(forward, backward);
        }
    }
}
