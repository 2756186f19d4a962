//! Authentication as the real endpoint does it: common parameters, timestamp window, HMAC-SHA1 signature
//! over every parameter with the request's own method, and SignatureNonce replay protection.

use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use slb_api::signature;

use crate::clock;
use crate::config::Account;
use crate::error::{self, ApiError};
use crate::params::Params;

pub const API_VERSION: &str = "2014-05-15";

/// Nonces seen, per access key, each remembered for as long as the timestamp it came with is still acceptable:
/// a replay is refused for the whole acceptance window, and the entry is reclaimed after it. Only a 64-bit hash
/// of (access key, nonce) is kept, so that a window of millions of calls stays small; a collision would refuse
/// one call as a replay.
#[derive(Debug, Default)]
pub struct NonceRegistry {
    inner: Mutex<NonceWindow>,
}

#[derive(Debug, Default)]
struct NonceWindow {
    /// Hash → expiry (ms).
    seen: HashMap<u64, u64>,
    /// (expiry, hash), oldest expiry first. Expiries follow the requests' own timestamps, so they arrive out of
    /// order.
    expiries: BTreeSet<(u64, u64)>,
}

fn nonce_key(access_key_id: &str, nonce: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (access_key_id, nonce).hash(&mut hasher);
    hasher.finish()
}

impl NonceRegistry {
    /// Records a nonce that came with a timestamp of `issued_ms`, accepted while within `tolerance_ms` of the
    /// clock; false when it is still remembered.
    fn register(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: u64,
        issued_ms: u64,
        tolerance_ms: u64,
    ) -> bool {
        let mut window = self.inner.lock();
        while let Some(&(expiry, key)) = window.expiries.first() {
            if expiry > now_ms {
                break;
            }
            window.expiries.pop_first();
            if window.seen.get(&key) == Some(&expiry) {
                window.seen.remove(&key);
            }
        }
        let key = nonce_key(access_key_id, nonce);
        if window.seen.get(&key).is_some_and(|expiry| *expiry > now_ms) {
            return false;
        }
        // The timestamp is accepted up to and including issued + tolerance.
        let expiry = issued_ms.saturating_add(tolerance_ms).saturating_add(1);
        window.seen.insert(key, expiry);
        window.expiries.insert((expiry, key));
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().seen.len()
    }

    pub fn clear(&self) {
        *self.inner.lock() = NonceWindow::default();
    }
}

/// Checks the common parameters and the signature; returns the calling account.
pub fn authenticate<'a>(
    method: &str,
    params: &Params,
    accounts: &'a [Account],
    nonces: &NonceRegistry,
    tolerance_ms: u64,
) -> Result<&'a Account, ApiError> {
    for name in [
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Version",
    ] {
        params.required(name)?;
    }
    let timestamp = params.required_any(&["Timestamp", "TimeStamp"])?;
    if params.get("Version") != Some(API_VERSION) {
        return Err(error::INVALID_PARAMETER);
    }
    let method_ok = params
        .get("SignatureMethod")
        .is_some_and(|m| m.eq_ignore_ascii_case("HMAC-SHA1"));
    if !method_ok || params.get("SignatureVersion") != Some("1.0") {
        return Err(error::ILLEGAL_SIGN_TYPE);
    }
    let now = clock::now_ms();
    let issued = clock::parse_iso8601(timestamp).ok_or(error::ILLEGAL_TIMESTAMP)?;
    if now.abs_diff(issued) > tolerance_ms {
        return Err(error::ILLEGAL_TIMESTAMP);
    }
    let access_key_id = params.get("AccessKeyId").unwrap_or_default();
    let account = accounts
        .iter()
        .find(|a| a.access_key_id == access_key_id)
        .ok_or(error::ILLEGAL_USER)?;
    let expected = signature::sign(method, params.iter(), &account.access_key_secret);
    let given = params.get("Signature").unwrap_or_default();
    if !signature::signatures_match(&expected, given) {
        return Err(error::ILLEGAL_SIGN);
    }
    let nonce = params.get("SignatureNonce").unwrap_or_default();
    if !nonces.register(access_key_id, nonce, now, issued, tolerance_ms) {
        return Err(error::ILLEGAL_SIGN);
    }
    Ok(account)
}

/// The ACS3 header signature of the newer SDKs (`Authorization: ACS3-HMAC-SHA256 Credential=…`). API version
/// 2014-05-15 defines only the HMAC-SHA1 query signature; the real endpoint accepts both, and the newer SDKs
/// use this one by default.
pub struct HeaderSigned<'a> {
    pub method: &'a str,
    pub authorization: &'a str,
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

pub const ACS3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Headers an ACS3 request must sign (the newer SDKs sign every `x-acs-*` header and `host`).
const SIGNED_HEADERS: &[&str] = &[
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::missing(name))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `Credential=…,SignedHeaders=…,Signature=…` of an ACS3 Authorization header.
fn authorization_parts(authorization: &str) -> Result<(&str, &str, &str), ApiError> {
    let rest = authorization
        .strip_prefix(ACS3_ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(error::ILLEGAL_SIGN_TYPE)?;
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
            .ok_or(error::ILLEGAL_SIGN)
    };
    Ok((
        field("Credential")?,
        field("SignedHeaders")?,
        field("Signature")?,
    ))
}

fn canonical_request(request: &HeaderSigned<'_>, signed_headers: &str) -> Result<String, ApiError> {
    let mut query: Vec<(String, String)> = match request.query {
        Some(q) => serde_urlencoded::from_str(q).map_err(|_| error::ILLEGAL_SIGN)?,
        None => Vec::new(),
    };
    query.sort();
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", signature::percent_encode(v)))
        .collect();
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let mut values: Vec<&str> = request
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .collect();
        values.sort_unstable();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Ok(format!(
        "{}\n/\n{}\n{headers}\n{signed_headers}\n{}",
        request.method.to_ascii_uppercase(),
        query.join("&"),
        sha256_hex(request.body)
    ))
}

/// Checks an ACS3-HMAC-SHA256 request: its x-acs-* headers, timestamp window, body hash, signature and nonce.
pub fn authenticate_header_signed<'a>(
    request: &HeaderSigned<'_>,
    accounts: &'a [Account],
    nonces: &NonceRegistry,
    tolerance_ms: u64,
) -> Result<&'a Account, ApiError> {
    let (access_key_id, signed_headers, given) = authorization_parts(request.authorization)?;
    let date = header(request.headers, "x-acs-date")?;
    let nonce = header(request.headers, "x-acs-signature-nonce")?;
    header(request.headers, "x-acs-action")?;
    if header(request.headers, "x-acs-version")? != API_VERSION {
        return Err(error::INVALID_PARAMETER);
    }
    let signed: Vec<&str> = signed_headers.split(';').collect();
    // The action and version select what runs, so an unsigned one could be swapped in transit.
    if !SIGNED_HEADERS.iter().all(|h| signed.contains(h)) {
        return Err(error::ILLEGAL_SIGN);
    }
    let now = clock::now_ms();
    let issued = clock::parse_iso8601(date).ok_or(error::ILLEGAL_TIMESTAMP)?;
    if now.abs_diff(issued) > tolerance_ms {
        return Err(error::ILLEGAL_TIMESTAMP);
    }
    let account = accounts
        .iter()
        .find(|a| a.access_key_id == access_key_id)
        .ok_or(error::ILLEGAL_USER)?;
    if header(request.headers, "x-acs-content-sha256")? != sha256_hex(request.body) {
        return Err(error::ILLEGAL_SIGN);
    }
    let string_to_sign = format!(
        "{ACS3_ALGORITHM}\n{}",
        sha256_hex(canonical_request(request, signed_headers)?.as_bytes())
    );
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(account.access_key_secret.as_bytes())
        .map_err(|_| error::ILLEGAL_SIGN)?;
    mac.update(string_to_sign.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    if !signature::signatures_match(&expected, given) {
        return Err(error::ILLEGAL_SIGN);
    }
    if !nonces.register(access_key_id, nonce, now, issued, tolerance_ms) {
        return Err(error::ILLEGAL_SIGN);
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_remembered_while_their_timestamp_is_acceptable() {
        let registry = NonceRegistry::default();
        assert!(registry.register("k", "n", 0, 0, 10));
        assert!(!registry.register("k", "n", 5, 0, 10));
        assert!(registry.register("other", "n", 5, 0, 10));
        // Issued at 0, the timestamp is acceptable up to 10 inclusive.
        assert!(!registry.register("k", "n", 10, 0, 10));
        assert!(registry.register("k", "n", 11, 0, 10));
        // A timestamp ahead of the clock stays acceptable longer, and so does its nonce.
        assert!(registry.register("k", "ahead", 100, 110, 10));
        assert!(!registry.register("k", "ahead", 115, 110, 10));
        assert!(!registry.register("k", "ahead", 120, 110, 10));
        assert!(registry.register("k", "ahead", 121, 110, 10));
        // Expired entries are reclaimed.
        assert!(registry.register("k", "later", 10_000, 10_000, 10));
        assert_eq!(registry.len(), 1);
    }
}
