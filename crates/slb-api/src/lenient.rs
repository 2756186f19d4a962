//! Deserialization helpers that tolerate the response quirks the reference documents: numbers sent as
//! strings, lists with or without their `{"Item": [...]}` wrapper, a single XML item that is not an array,
//! empty elements, and padded strings.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::fmt::Display;
use std::str::FromStr;

/// Response keys the reference (or the official SDK) spells more than one way, and the one spelling the
/// response types use. When both spellings arrive, the canonical one wins.
const KEY_ALIASES: &[(&str, &str)] = &[
    ("Schedule", "Scheduler"),
    ("VswitchId", "VSwitchId"),
    ("MaterSlaveServerGroupId", "MasterSlaveServerGroupId"),
    ("MasterSlaveVServerGroupId", "MasterSlaveServerGroupId"),
    ("MasterSlaveVServerGroupName", "MasterSlaveServerGroupName"),
    ("MasterSlaveVServerGroups", "MasterSlaveServerGroups"),
    ("HealthCheckConnectTimeout", "HealthCheckTimeout"),
    ("healthCheckReq", "HealthCheckReq"),
    ("healthCheckExp", "HealthCheckExp"),
    ("ListenerPortsAndProtocal", "ListenerPortsAndProtocol"),
    ("ListenerProtocal", "ListenerProtocol"),
];

/// Rewrites a decoded response in place: trims padded keys (`"LoadBalancerStatus "`, `" Fingerprint "`)
/// and maps the spellings in `KEY_ALIASES` (`Schedule`, `VswitchId`, `MaterSlaveServerGroupId`, ...) to the
/// canonical one, at every depth.
pub fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let needs_rewrite = map.keys().any(|k| {
                k.trim().len() != k.len() || KEY_ALIASES.iter().any(|(alias, _)| alias == k)
            });
            if needs_rewrite {
                let entries = std::mem::take(map);
                let mut aliased = Vec::new();
                for (key, item) in entries {
                    let key = key.trim().to_owned();
                    match KEY_ALIASES.iter().find(|(alias, _)| *alias == key) {
                        Some((_, canonical)) => aliased.push(((*canonical).to_owned(), item)),
                        None => {
                            map.insert(key, item);
                        }
                    }
                }
                for (canonical, item) in aliased {
                    map.entry(canonical).or_insert(item);
                }
            }
            map.values_mut().for_each(normalize);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// An optional number that may arrive as a JSON number, a numeric string, or an empty string.
pub fn opt_num<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let text = match Value::deserialize(deserializer)? {
        Value::Null => return Ok(None),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s,
        other => return Err(D::Error::custom(format!("expected a number, got {other}"))),
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|e| D::Error::custom(format!("invalid number {text:?}: {e}")))
}

/// An optional wire enum; an empty value is `None`. Unknown values are an error, so drift is noticed.
pub fn opt_enum<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => T::deserialize(Value::String(s.trim().to_owned()))
            .map(Some)
            .map_err(D::Error::custom),
        other => Err(D::Error::custom(format!("expected a string, got {other}"))),
    }
}

/// A string, trimmed; a missing or null value is empty; a number is kept as its text.
pub fn string<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.trim().to_owned()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!("expected a string, got {other}"))),
    }
}

/// A list in any of the shapes the reference shows: `[...]`, `{"Item": [...]}`, `{"Item": {...}}` (one XML
/// item), `{}` or `""` (empty XML element), or null.
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let items = match Value::deserialize(deserializer)? {
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        Value::String(s) if s.trim().is_empty() => Vec::new(),
        Value::Object(map) if map.is_empty() => Vec::new(),
        Value::Object(map) if map.len() == 1 => match map.into_iter().next() {
            Some((_, Value::Array(items))) => items,
            Some((_, Value::String(s))) if s.trim().is_empty() => Vec::new(),
            Some((_, single)) => vec![single],
            None => Vec::new(),
        },
        other => return Err(D::Error::custom(format!("expected a list, got {other}"))),
    };
    items
        .into_iter()
        .map(|item| T::deserialize(item).map_err(D::Error::custom))
        .collect()
}

/// A list of numbers in any of the shapes [`list`] accepts, each a number or a numeric string.
pub fn num_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let values: Vec<Value> = list(deserializer)?;
    values
        .into_iter()
        .map(|value| {
            opt_num::<_, T>(value)
                .map_err(D::Error::custom)?
                .ok_or_else(|| D::Error::custom("empty number in a list"))
        })
        .collect()
}

/// A comma-separated list of items as one string (`"1.1.1.1,1.1.1.0/21"`), or already a list.
pub fn comma_separated<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_owned()),
                other => Err(D::Error::custom(format!(
                    "expected a string item, got {other}"
                ))),
            })
            .collect(),
        other => Err(D::Error::custom(format!(
            "expected a comma-separated string, got {other}"
        ))),
    }
}

/// A comma-separated list of wire enum values (`"http_2xx,http_3xx"`).
pub fn comma_separated_enums<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    comma_separated(deserializer)?
        .into_iter()
        .map(|item| T::deserialize(Value::String(item)).map_err(D::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, Default)]
    #[serde(default)]
    struct Probe {
        #[serde(deserialize_with = "opt_num")]
        n: Option<i32>,
        #[serde(deserialize_with = "num_list")]
        items: Vec<u16>,
        #[serde(deserialize_with = "string")]
        s: String,
        #[serde(deserialize_with = "comma_separated")]
        c: Vec<String>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn normalize_trims_keys_and_maps_aliases() {
        let mut value = serde_json::json!({
            "LoadBalancerStatus ": "active",
            "Schedule": "wrr",
            "Items": [{" Fingerprint ": "A:B", "MaterSlaveServerGroupId": "rsp-1"}],
            "VswitchId": "old",
            "VSwitchId": "new"
        });
        normalize(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "LoadBalancerStatus": "active",
                "Scheduler": "wrr",
                "Items": [{"Fingerprint": "A:B", "MasterSlaveServerGroupId": "rsp-1"}],
                "VSwitchId": "new"
            })
        );
    }

    #[test]
    fn numbers_as_strings() {
        assert_eq!(probe(r#"{"n":"5"}"#).n, Some(5));
        assert_eq!(probe(r#"{"n":-1}"#).n, Some(-1));
        assert_eq!(probe(r#"{"n":""}"#).n, None);
        assert_eq!(probe(r#"{}"#).n, None);
        assert!(serde_json::from_str::<Probe>(r#"{"n":"x"}"#).is_err());
    }

    #[test]
    fn list_shapes() {
        assert_eq!(probe(r#"{"items":[1,2]}"#).items, vec![1, 2]);
        assert_eq!(
            probe(r#"{"items":{"ListenerPort":[80,"443"]}}"#).items,
            vec![80, 443]
        );
        assert_eq!(probe(r#"{"items":{"ListenerPort":"80"}}"#).items, vec![80]);
        assert_eq!(probe(r#"{"items":""}"#).items, Vec::<u16>::new());
        assert_eq!(probe(r#"{"items":{}}"#).items, Vec::<u16>::new());
    }

    #[test]
    fn strings_are_trimmed_and_comma_lists_split() {
        assert_eq!(probe(r#"{"s":" CEF72CEB "}"#).s, "CEF72CEB");
        assert_eq!(
            probe(r#"{"c":"1.1.1.1, 1.1.1.0/21"}"#).c,
            vec!["1.1.1.1", "1.1.1.0/21"]
        );
        assert_eq!(probe(r#"{"c":""}"#).c, Vec::<String>::new());
    }
}
