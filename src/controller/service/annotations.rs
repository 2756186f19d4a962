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
        self.name_of(short_name).and_then(|name| self.raw(name))
    }

    /// The full name `short_name` is set under: the prefix's, else the legacy one.
    pub(super) fn name_of(&self, short_name: &str) -> Option<&String> {
        [ANNOTATION_PREFIX, LEGACY_ANNOTATION_PREFIX]
            .iter()
            .find_map(|prefix| {
                let name = format!("{prefix}{short_name}");
                self.0.get_key_value(&name).map(|(name, _)| name)
            })
    }

    /// An annotation by its full name.
    pub(super) fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|value| value.trim())
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

/// How the operator treats an annotation of the cloud controller manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Read and applied (some only in the values API 2014-05-15 can express; others are refused
    /// as invalid).
    Implemented,
    /// API 2014-05-15 has no way to express it: why.
    Refused(&'static str),
}

use Support::{Implemented, Refused};

const LATER_API: &str = "API 2014-05-15 has no such setting";

/// Every classic-SLB annotation of the cloud controller manager, by short name (under
/// [`ANNOTATION_PREFIX`] or the legacy prefix; `backend-type` stands for
/// [`BACKEND_TYPE_ANNOTATION`]), and how the operator treats it. The README's table follows it.
pub const CCM_ANNOTATIONS: [(&str, Support); 66] = [
    // the load balancer
    ("id", Implemented),
    ("force-override-listeners", Implemented),
    ("name", Implemented),
    ("address-type", Implemented),
    ("charge-type", Implemented),
    ("bandwidth", Implemented),
    ("spec", Implemented),
    ("instance-charge-type", Implemented),
    ("network-type", Implemented),
    ("vswitch-id", Implemented),
    ("master-zoneid", Implemented),
    ("slave-zoneid", Implemented),
    ("ip-version", Implemented),
    ("resource-group-id", Implemented),
    ("additional-resource-tags", Implemented),
    ("hostname", Implemented),
    ("preserve-lb-on-delete", Implemented),
    ("delete-protection", Refused(LATER_API)),
    ("modification-protection", Refused(LATER_API)),
    (
        "ip",
        Refused("CreateLoadBalancer of API 2014-05-15 cannot choose the address"),
    ),
    (
        "external-ip-type",
        Refused("API 2014-05-15 has no elastic IP addresses"),
    ),
    // the listeners
    ("protocol-port", Implemented),
    ("cert-id", Implemented),
    ("scheduler", Implemented),
    ("persistence-timeout", Implemented),
    ("established-timeout", Implemented),
    ("acl-status", Implemented),
    ("acl-type", Implemented),
    ("health-check-flag", Implemented),
    ("health-check-switch", Implemented),
    ("health-check-type", Implemented),
    ("health-check-connect-port", Implemented),
    ("healthy-threshold", Implemented),
    ("unhealthy-threshold", Implemented),
    ("health-check-interval", Implemented),
    ("health-check-connect-timeout", Implemented),
    ("health-check-timeout", Implemented),
    ("health-check-uri", Implemented),
    ("health-check-domain", Implemented),
    ("health-check-httpcode", Implemented),
    ("sticky-session", Implemented),
    ("sticky-session-type", Implemented),
    ("cookie-timeout", Implemented),
    ("cookie", Implemented),
    ("xforwardedfor-proto", Implemented),
    ("connection-drain", Implemented),
    ("connection-drain-timeout", Implemented),
    ("vgroup-port", Implemented),
    (
        "acl-id",
        Refused("API 2014-05-15 has no access control lists; use spec.loadBalancerSourceRanges"),
    ),
    ("health-check-method", Refused(LATER_API)),
    ("domain-extensions", Refused(LATER_API)),
    ("tls-cipher-policy", Refused(LATER_API)),
    ("http2-enabled", Refused(LATER_API)),
    ("forward-port", Refused(LATER_API)),
    ("idle-timeout", Refused(LATER_API)),
    ("request-timeout", Refused(LATER_API)),
    ("proxy-protocol", Refused(LATER_API)),
    ("xforwardedfor-slbport", Refused(LATER_API)),
    ("xforwardedfor-clientsrcport", Refused(LATER_API)),
    // the backends
    ("backend-type", Implemented),
    ("backend-label", Implemented),
    ("remove-unscheduled-backend", Implemented),
    ("weight", Implemented),
    ("default-weight", Implemented),
    ("ignore-weight-update", Implemented),
    (
        "backend-ip-version",
        Refused("API 2014-05-15 has IPv4 backends only"),
    ),
];

/// Annotations of ours under the cloud controller manager's prefix, for what API 2014-05-15
/// offers and the cloud controller manager does not.
pub const OWN_ANNOTATIONS: [&str; 2] = ["xforwardedfor-slbip", "xforwardedfor-slbid"];

/// The cloud controller manager's one annotation outside its prefix.
pub const BACKEND_TYPE_ANNOTATION: &str = "service.beta.kubernetes.io/backend-type";

/// An annotation the operator does not apply, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    pub annotation: String,
    pub why: &'static str,
}

/// The annotations under the cloud controller manager's prefixes that the operator does not apply,
/// in name order.
pub fn ignored(annotations: &BTreeMap<String, String>) -> Vec<Ignored> {
    annotations
        .keys()
        .filter_map(|key| {
            let short_name = if key == BACKEND_TYPE_ANNOTATION {
                "backend-type"
            } else {
                key.strip_prefix(ANNOTATION_PREFIX)
                    .or_else(|| key.strip_prefix(LEGACY_ANNOTATION_PREFIX))?
            };
            if OWN_ANNOTATIONS.contains(&short_name) {
                return None;
            }
            let support = CCM_ANNOTATIONS
                .iter()
                .find(|(name, _)| *name == short_name)
                .map(|(_, support)| *support);
            let why = match support {
                Some(Implemented) => return None,
                Some(Refused(why)) => why,
                None => "not an annotation of the cloud controller manager or the operator",
            };
            Some(Ignored {
                annotation: key.clone(),
                why,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "annotations_tests.rs"]
mod tests;
