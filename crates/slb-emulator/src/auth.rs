//! Authentication as the real endpoint does it: common parameters, timestamp window, HMAC-SHA1 signature
//! over every parameter with the request's own method, and SignatureNonce replay protection.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use parking_lot::Mutex;
use slb_api::signature;

use crate::clock;
use crate::config::Account;
use crate::error::{self, ApiError};
use crate::params::Params;

pub const API_VERSION: &str = "2014-05-15";

/// Nonces seen within the tolerance window, per access key. Only a 64-bit hash of (access key, nonce) is kept, so
/// that a window of millions of calls stays small; a collision would refuse one call as a replay.
#[derive(Debug, Default)]
pub struct NonceRegistry {
    inner: Mutex<NonceWindow>,
}

#[derive(Debug, Default)]
struct NonceWindow {
    /// Hash → expiry (ms).
    seen: HashMap<u64, u64>,
    expiries: VecDeque<(u64, u64)>,
}

fn nonce_key(access_key_id: &str, nonce: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    (access_key_id, nonce).hash(&mut hasher);
    hasher.finish()
}

impl NonceRegistry {
    /// Records a nonce; false when it was already used within the window.
    fn register(&self, access_key_id: &str, nonce: &str, now_ms: u64, window_ms: u64) -> bool {
        let mut window = self.inner.lock();
        while window
            .expiries
            .front()
            .is_some_and(|(expiry, _)| *expiry <= now_ms)
        {
            if let Some((expiry, key)) = window.expiries.pop_front()
                && window.seen.get(&key) == Some(&expiry)
            {
                window.seen.remove(&key);
            }
        }
        let key = nonce_key(access_key_id, nonce);
        if window.seen.get(&key).is_some_and(|expiry| *expiry > now_ms) {
            return false;
        }
        let expiry = now_ms + window_ms;
        window.seen.insert(key, expiry);
        window.expiries.push_back((expiry, key));
        true
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
    if !nonces.register(access_key_id, nonce, now, tolerance_ms) {
        return Err(error::ILLEGAL_SIGN);
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_expire() {
        let registry = NonceRegistry::default();
        assert!(registry.register("k", "n", 0, 10));
        assert!(!registry.register("k", "n", 5, 10));
        assert!(registry.register("other", "n", 5, 10));
        assert!(registry.register("k", "n", 10, 10));
    }
}
