//! Building blocks of [`crate::Validate`] impls, each naming the parameter in its message.

use crate::action::ValidationError;
use crate::types::{OnOff, StickySessionType};
use std::fmt::Display;

pub type Check = Result<(), ValidationError>;

/// A required string parameter is present.
pub fn required(name: &str, value: &str) -> Check {
    if value.trim().is_empty() {
        Err(format!("{name} is required").into())
    } else {
        Ok(())
    }
}

/// A conditionally required parameter is present.
pub fn present<T>(name: &str, value: &Option<T>, condition: &str) -> Check {
    if value.is_none() {
        Err(format!("{name} is required when {condition}").into())
    } else {
        Ok(())
    }
}

/// `value` lies in `min..=max`.
pub fn range<T: PartialOrd + Display + Copy>(name: &str, value: T, min: T, max: T) -> Check {
    if value < min || value > max {
        Err(format!("{name} must be between {min} and {max}, got {value}").into())
    } else {
        Ok(())
    }
}

/// An optional value, if given, lies in `min..=max`.
pub fn opt_range<T: PartialOrd + Display + Copy>(
    name: &str,
    value: Option<T>,
    min: T,
    max: T,
) -> Check {
    value.map_or(Ok(()), |v| range(name, v, min, max))
}

/// A port in 1–65535.
pub fn port(name: &str, value: u16) -> Check {
    range(name, value, 1, u16::MAX)
}

/// Listener bandwidth: `-1` (unlimited) or 1–1000 Mbps.
pub fn listener_bandwidth(value: i32) -> Check {
    if value == -1 || (1..=1000).contains(&value) {
        Ok(())
    } else {
        Err(format!("Bandwidth must be -1 or between 1 and 1000, got {value}").into())
    }
}

/// A string's length in characters lies in `min..=max`.
pub fn length(name: &str, value: &str, min: usize, max: usize) -> Check {
    let count = value.chars().count();
    if count < min || count > max {
        Err(format!("{name} must be {min} to {max} characters long, got {count}").into())
    } else {
        Ok(())
    }
}

fn charset(name: &str, value: &str, allowed: &str, extra: &[char]) -> Check {
    match value
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !extra.contains(c))
    {
        Some(bad) => Err(format!("{name} may contain only {allowed}, found {bad:?}").into()),
        None => Ok(()),
    }
}

/// A display name: 1–80 characters of letters, digits, `-`, `/`, `.`, `_`.
pub fn name(name: &str, value: &str) -> Check {
    length(name, value, 1, 80)?;
    charset(
        name,
        value,
        "letters, digits, '-', '/', '.' and '_'",
        &['-', '/', '.', '_'],
    )
}

/// An optional display name, if given.
pub fn opt_name(field: &str, value: &Option<String>) -> Check {
    value.as_deref().map_or(Ok(()), |v| name(field, v))
}

/// A health-check or rule path: 1–80 characters of letters, digits, `-/.%?#&`; a health-check URI must
/// also start with `/`.
pub fn uri(name: &str, value: &str, must_start_with_slash: bool) -> Check {
    length(name, value, 1, 80)?;
    if must_start_with_slash && !value.starts_with('/') {
        return Err(format!("{name} must start with '/'").into());
    }
    charset(
        name,
        value,
        "letters, digits and '-', '/', '.', '%', '?', '#', '&'",
        &['-', '/', '.', '%', '?', '#', '&'],
    )
}

/// A health-check domain: `$_ip`, empty, or 1–80 characters of letters, digits, `-`, `.`.
pub fn health_check_domain(value: &Option<String>) -> Check {
    match value.as_deref() {
        None | Some("") | Some("$_ip") => Ok(()),
        Some(domain) => {
            length("HealthCheckDomain", domain, 1, 80)?;
            charset(
                "HealthCheckDomain",
                domain,
                "letters, digits, '-' and '.' (or be \"$_ip\")",
                &['-', '.'],
            )
        }
    }
}

/// The sticky-session rules of the HTTP and HTTPS listeners.
pub fn sticky_session(
    sticky_session: OnOff,
    sticky_session_type: Option<StickySessionType>,
    cookie_timeout: Option<u32>,
    cookie: &Option<String>,
) -> Check {
    if !sticky_session.is_on() {
        return Ok(());
    }
    match sticky_session_type {
        None => Err("StickySessionType is required when StickySession is on".into()),
        Some(StickySessionType::Insert) => {
            let timeout = cookie_timeout
                .ok_or("CookieTimeout is required when StickySessionType is insert")?;
            range("CookieTimeout", timeout, 1, 86_400)
        }
        Some(StickySessionType::Server) => {
            let cookie = cookie
                .as_deref()
                .ok_or("Cookie is required when StickySessionType is server")?;
            length("Cookie", cookie, 1, 200)?;
            if cookie.starts_with('$') {
                return Err("Cookie must not start with '$'".into());
            }
            charset("Cookie", cookie, "ASCII letters and digits", &[])
        }
    }
}

/// Health-check thresholds, timeout and interval, each if given.
pub fn health_check_timing(
    healthy_threshold: Option<u32>,
    unhealthy_threshold: Option<u32>,
    timeout: Option<u32>,
    interval: Option<u32>,
) -> Check {
    opt_range("HealthyThreshold", healthy_threshold, 1, 10)?;
    opt_range("UnhealthyThreshold", unhealthy_threshold, 1, 10)?;
    opt_range("HealthCheckTimeout", timeout, 1, 50)?;
    opt_range("HealthCheckInterval", interval, 1, 5)
}

/// A health-check port: 1–65535, or `-520` (use the backend port) where `allow_backend_port` says so.
pub fn health_check_connect_port(value: Option<i32>, allow_backend_port: bool) -> Check {
    match value {
        None => Ok(()),
        Some(-520) if allow_backend_port => Ok(()),
        Some(port) if (1..=65_535).contains(&port) => Ok(()),
        Some(port) => Err(format!(
            "HealthCheckConnectPort must be between 1 and 65535{}, got {port}",
            if allow_backend_port { " or -520" } else { "" }
        )
        .into()),
    }
}

/// At most `max` items, and at least one.
pub fn count(name: &str, len: usize, max: usize) -> Check {
    if len == 0 {
        Err(format!("{name} must not be empty").into())
    } else {
        at_most(name, len, max)
    }
}

/// At most `max` items, or none.
pub fn at_most(name: &str, len: usize, max: usize) -> Check {
    if len > max {
        Err(format!("{name} takes at most {max} items per request, got {len}").into())
    } else {
        Ok(())
    }
}

/// A list of 1 to `max` IDs, none of them empty.
pub fn ids(name: &str, ids: &[String], max: usize) -> Check {
    count(name, ids.len(), max)?;
    ids.iter()
        .try_for_each(|id| required(&format!("{name} item"), id))
}

/// The ID a switch (`VServerGroup`, `MasterSlaveServerGroup`) uses is given when the switch is on.
pub fn switched_id(switch: &str, on: Option<OnOff>, id_name: &str, id: &Option<String>) -> Check {
    if on == Some(OnOff::On) {
        present(id_name, id, &format!("{switch} is on"))
    } else {
        Ok(())
    }
}

/// A tag key or value: bounded length and no `aliyun` prefix.
pub fn tag_text(name: &str, value: &str, min: usize, max: usize) -> Check {
    length(name, value, min, max)?;
    if value.starts_with("aliyun") {
        return Err(format!("{name} must not start with \"aliyun\"").into());
    }
    Ok(())
}

/// Exactly one of two mutually exclusive options may be set.
pub fn exclusive(first: &str, first_set: bool, second: &str, second_set: bool) -> Check {
    if first_set && second_set {
        Err(format!("{first} and {second} are mutually exclusive").into())
    } else {
        Ok(())
    }
}
