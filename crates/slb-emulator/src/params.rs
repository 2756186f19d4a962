//! Typed access to a request's parameters, with the reference's validation errors.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{self, ApiError};

/// Parameters that every call carries for signing and routing; they are not part of an action's own input
/// (ClientToken comparison and the call log leave them out).
pub const COMMON_PARAMETERS: &[&str] = &[
    "Signature",
    "SignatureNonce",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureType",
    "Timestamp",
    "TimeStamp",
    "AccessKeyId",
    "Version",
    "Format",
];

/// The merged query-string and form-body parameters of one request.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Self { values }
    }

    /// Sets a parameter the request did not carry (header-signed requests name their action in a header).
    pub fn insert_if_absent(&mut self, name: &str, value: &str) {
        if self.get(name).is_none() {
            self.values.insert(name.to_string(), value.to_string());
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The raw value; an empty value counts as absent, as the service treats it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The first present value among several spellings of one parameter.
    pub fn get_any(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::missing(name))
    }

    pub fn required_any(&self, names: &[&str]) -> Result<&str, ApiError> {
        self.get_any(names)
            .ok_or_else(|| ApiError::missing(names[0]))
    }

    /// An integer in `min..=max` (or one of `extra`), or `invalid` when it is not.
    pub fn int(
        &self,
        name: &str,
        min: i64,
        max: i64,
        extra: &[i64],
        invalid: ApiError,
    ) -> Result<Option<i64>, ApiError> {
        self.int_any(&[name], min, max, extra, invalid)
    }

    pub fn int_any(
        &self,
        names: &[&str],
        min: i64,
        max: i64,
        extra: &[i64],
        invalid: ApiError,
    ) -> Result<Option<i64>, ApiError> {
        match self.get_any(names) {
            None => Ok(None),
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) || extra.contains(&n) => Ok(Some(n)),
                _ => Err(invalid),
            },
        }
    }

    /// A port in 1–65535: a non-number is "Port is not Integer.", out of range "The specified port is not valid.".
    pub fn port(&self, name: &str) -> Result<Option<u16>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) => match raw.trim().parse::<i64>() {
                Err(_) => Err(error::PORT_NOT_INTEGER),
                Ok(n) => u16::try_from(n)
                    .ok()
                    .filter(|p| *p >= 1)
                    .map(Some)
                    .ok_or(error::INVALID_PORT),
            },
        }
    }

    pub fn required_port(&self, name: &str) -> Result<u16, ApiError> {
        self.port(name)?.ok_or_else(|| ApiError::missing(name))
    }

    /// One of `allowed` (compared case-sensitively, as the reference lists them), or `invalid`.
    pub fn choice(
        &self,
        name: &str,
        allowed: &[&str],
        invalid: ApiError,
    ) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
            Some(_) => Err(invalid),
        }
    }

    pub fn required_choice(
        &self,
        name: &str,
        allowed: &[&str],
        invalid: ApiError,
    ) -> Result<String, ApiError> {
        self.choice(name, allowed, invalid)?
            .ok_or_else(|| ApiError::missing(name))
    }

    pub fn on_off(&self, name: &str, invalid: ApiError) -> Result<Option<String>, ApiError> {
        self.choice(name, &["on", "off"], invalid)
    }

    /// A parameter that carries a JSON list. The reference's own examples use single quotes and unquoted
    /// items, so those are accepted too.
    pub fn json_list(&self, name: &str, invalid: ApiError) -> Result<Option<Vec<Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) => parse_lenient_json_list(raw).map(Some).ok_or(invalid),
        }
    }
}

fn parse_lenient_json_list(raw: &str) -> Option<Vec<Value>> {
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(raw) {
        return Some(items);
    }
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&raw.replace('\'', "\"")) {
        return Some(items);
    }
    // `[rule-a,rule-b]`: a bracketed list of bare words (DeleteRules' example).
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?;
    let words: Vec<Value> = inner
        .split(',')
        .map(|w| w.trim().trim_matches('"').trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(|w| Value::String(w.to_string()))
        .collect();
    (!words.is_empty()
        && words
            .iter()
            .all(|w| w.as_str().is_some_and(|s| !s.contains(['{', '}', ':']))))
    .then_some(words)
}

/// A JSON field that may be a string or a number (the SDK examples quote numbers).
pub fn json_field_int(item: &Value, name: &str) -> Result<Option<i64>, ()> {
    match item.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse::<i64>().map(Some).map_err(|_| ()),
        Some(_) => Err(()),
    }
}

pub fn json_field_str(item: &Value, name: &str) -> Option<String> {
    match item.get(name) {
        Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// 1–80 characters of letters, digits, `-`, `/`, `.`, `_` (names of load balancers, certificates, rules).
pub fn is_valid_name(name: &str) -> bool {
    (1..=80).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/._".contains(c))
}

/// Health-check and rule URLs: 1–80 characters starting with `/`, of letters, digits and `-/.%?#&`.
pub fn is_valid_uri(uri: &str) -> bool {
    uri.starts_with('/')
        && (1..=80).contains(&uri.len())
        && uri
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/.%?#&".contains(c))
}

/// Health-check domains: `$_ip` or 1–80 characters of letters, digits, `-` and `.`.
pub fn is_valid_health_check_domain(domain: &str) -> bool {
    domain == "$_ip"
        || ((1..=80).contains(&domain.len())
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c)))
}

/// Forwarding-rule domains: host names, optionally with a leading wildcard label.
pub fn is_valid_rule_domain(domain: &str) -> bool {
    (1..=80).contains(&domain.len())
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.*".contains(c))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lenient_lists() {
        assert_eq!(parse_lenient_json_list(r#"["a","b"]"#).unwrap().len(), 2);
        assert_eq!(
            parse_lenient_json_list("[{'ServerId':'vm-1','Weight':'100'}]")
                .unwrap()
                .len(),
            1
        );
        assert_eq!(parse_lenient_json_list("[rule-a,rule-b]").unwrap().len(), 2);
        assert!(parse_lenient_json_list("{").is_none());
        assert!(parse_lenient_json_list("[{oops]").is_none());
    }

    #[test]
    fn names_and_uris() {
        assert!(is_valid_name("web-1/a.b_c"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("has space"));
        assert!(is_valid_uri("/health?x&y#z%20"));
        assert!(!is_valid_uri("/health?x=1"));
        assert!(!is_valid_uri("health"));
        assert!(is_valid_health_check_domain("$_ip"));
        assert!(!is_valid_health_check_domain("a_b"));
    }
}
