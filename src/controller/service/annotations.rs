//! Reading a Service's annotations: by their short names under either prefix, each value checked,
//! every problem collected with the annotation it concerns.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::plan::{ANNOTATION_PREFIX, LEGACY_ANNOTATION_PREFIX};

/// Problems found so far, each naming its annotation or port.
#[derive(Default)]
pub(super) struct Errors(Vec<String>);

impl Errors {
    pub(super) fn push(&mut self, message: String) {
        self.0.push(message);
    }

    pub(super) fn into_result<T>(self, value: T) -> Result<T, Vec<String>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// The Service's annotations, read by their short names under either prefix.
pub(super) struct Annotations(pub(super) BTreeMap<String, String>);

impl Annotations {
    pub(super) fn get(&self, short_name: &str) -> Option<&str> {
        self.0
            .get(&format!("{ANNOTATION_PREFIX}{short_name}"))
            .or_else(|| {
                self.0
                    .get(&format!("{LEGACY_ANNOTATION_PREFIX}{short_name}"))
            })
            .map(|value| value.trim())
    }

    pub(super) fn string(
        &self,
        short_name: &str,
        errors: &mut Errors,
        max_len: usize,
        (allowed, described): (fn(char) -> bool, &str),
    ) -> Option<String> {
        let value = self.get(short_name)?;
        if value.is_empty() || value.len() > max_len || !value.chars().all(allowed) {
            errors.push(format!(
                "{ANNOTATION_PREFIX}{short_name}: {value:?} must be 1-{max_len} {described}"
            ));
            return None;
        }
        Some(value.to_owned())
    }

    pub(super) fn int(
        &self,
        short_name: &str,
        errors: &mut Errors,
        min: i32,
        max: i32,
    ) -> Option<i32> {
        let value = self.get(short_name)?;
        match value.parse::<i32>() {
            Ok(number) if (min..=max).contains(&number) => Some(number),
            _ => {
                errors.push(format!(
                    "{ANNOTATION_PREFIX}{short_name}: {value:?} must be a whole number from {min} to {max}"
                ));
                None
            }
        }
    }

    /// A value of one of the CRD's enums, by its serialized name.
    pub(super) fn one_of<T: DeserializeOwned>(
        &self,
        short_name: &str,
        errors: &mut Errors,
        allowed: &str,
    ) -> Option<T> {
        let value = self.get(short_name)?;
        match serde_json::from_value(serde_json::Value::String(value.to_owned())) {
            Ok(parsed) => Some(parsed),
            Err(_) => {
                errors.push(format!(
                    "{ANNOTATION_PREFIX}{short_name}: {value:?} must be one of {allowed}"
                ));
                None
            }
        }
    }

    pub(super) fn on_off(
        &self,
        short_name: &str,
        errors: &mut Errors,
        on: &str,
        off: &str,
    ) -> Option<bool> {
        let value = self.get(short_name)?;
        if value.eq_ignore_ascii_case(on) {
            Some(true)
        } else if value.eq_ignore_ascii_case(off) {
            Some(false)
        } else {
            errors.push(format!(
                "{ANNOTATION_PREFIX}{short_name}: {value:?} must be {on} or {off}"
            ));
            None
        }
    }
}

/// The characters of IDs: letters, digits, `-`, `_` and `.`.
pub(super) const ID: (fn(char) -> bool, &str) = (
    |c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.',
    "letters, digits, '-', '_' or '.'",
);

/// The characters of an SLB name: those of IDs and `/`.
pub(super) const SLB_NAME: (fn(char) -> bool, &str) = (
    |c| c.is_ascii_alphanumeric() || "-_./".contains(c),
    "letters, digits, '-', '_', '.' or '/'",
);

/// The characters of a health check path.
pub(super) const URI: (fn(char) -> bool, &str) = (
    |c| c.is_ascii_alphanumeric() || "-/.%?#&".contains(c),
    "letters, digits or any of -/.%?#&",
);

/// The characters of a health check Host header: a domain, or `$_ip`.
pub(super) const DOMAIN: (fn(char) -> bool, &str) = (
    |c| c.is_ascii_alphanumeric() || "-.$_".contains(c),
    "letters, digits, '-' or '.' (or $_ip)",
);

/// The characters of a cookie name.
pub(super) const COOKIE: (fn(char) -> bool, &str) =
    (|c| c.is_ascii_alphanumeric(), "letters or digits");
