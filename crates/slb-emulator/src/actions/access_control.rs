//! Listener access control: the white-list switch and its source items.

use std::net::Ipv4Addr;

use serde_json::json;

use super::listeners::{millis, reconfigure};
use super::{Ctx, Response, ensure_settled, response};
use crate::error::{self, ApiError};
use crate::params::Params;
use crate::state::Listener;

const MAX_WHITE_LIST_ITEMS: usize = 300;

/// Changes one listener while it is settled; `change` says whether it changed anything, and a running
/// listener then reconfigures.
fn configure_listener(
    ctx: &mut Ctx<'_>,
    p: &Params,
    change: impl FnOnce(&mut Listener) -> Result<bool, ApiError>,
) -> Result<Response, ApiError> {
    let now = ctx.now_ms;
    let delay = millis(ctx.delays.configure);
    let listener = ctx.listener_mut(p)?;
    ensure_settled(listener, now)?;
    if change(listener)? {
        reconfigure(listener, now, delay);
    }
    Ok(Response::new())
}

pub fn set_access_control(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let status = p.required_choice(
        "AccessControlStatus",
        &["open_white_list", "close"],
        error::INVALID_ACCESS_CONTROL_STATUS,
    )?;
    configure_listener(ctx, p, |listener| {
        let changed = listener.access_control_status != status;
        listener.access_control_status = status;
        Ok(changed)
    })
}

/// An IPv4 address or CIDR block; "allow everything" (0.0.0.0, /0) is refused, as the reference says.
fn parse_source_item(item: &str) -> Option<String> {
    let (address, prefix) = match item.split_once('/') {
        Some((a, p)) => (
            a,
            Some(p.parse::<u8>().ok().filter(|p| (1..=32).contains(p))?),
        ),
        None => (item, None),
    };
    let ip: Ipv4Addr = address.parse().ok()?;
    if ip.is_unspecified() {
        return None;
    }
    Some(prefix.map_or_else(|| ip.to_string(), |p| format!("{ip}/{p}")))
}

fn source_items(p: &Params) -> Result<Vec<String>, ApiError> {
    let raw = p.required("SourceItems")?;
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse_source_item(s).ok_or(error::INVALID_SOURCE_ITEMS))
        .collect()
}

fn change_white_list(ctx: &mut Ctx<'_>, p: &Params, add: bool) -> Result<Response, ApiError> {
    let items = source_items(p)?;
    configure_listener(ctx, p, |listener| {
        let mut list = listener.white_list.clone();
        if add {
            for item in items {
                if !list.contains(&item) {
                    list.push(item);
                }
            }
            if list.len() > MAX_WHITE_LIST_ITEMS {
                return Err(error::SOURCE_LIST_OVER_LIMIT);
            }
        } else {
            list.retain(|i| !items.contains(i));
        }
        let changed = list != listener.white_list;
        listener.white_list = list;
        Ok(changed)
    })
}

pub fn add_white_list(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    change_white_list(ctx, p, true)
}

pub fn remove_white_list(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    change_white_list(ctx, p, false)
}

pub fn describe_access_control(ctx: &mut Ctx<'_>, p: &Params) -> Result<Response, ApiError> {
    let listener = ctx.listener_mut(p)?;
    Ok(response(vec![
        ("AccessControlStatus", json!(listener.access_control_status)),
        ("SourceItems", json!(listener.white_list.join(","))),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_items() {
        assert_eq!(parse_source_item("1.1.1.1"), Some("1.1.1.1".into()));
        assert_eq!(parse_source_item("1.1.1.0/21"), Some("1.1.1.0/21".into()));
        assert_eq!(parse_source_item("0.0.0.0"), None);
        assert_eq!(parse_source_item("10.0.0.0/0"), None);
        assert_eq!(parse_source_item("nope"), None);
    }
}
