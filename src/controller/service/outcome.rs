//! The Service's outcome (pure): its condition, summing up its children, and its Events.

use k8s_openapi::api::core::v1::{LoadBalancerIngress, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{Resource, ResourceExt};

use super::annotations::Ignored;
use super::{LOAD_BALANCER_READY, Owned};
use crate::conditions::{DesiredCondition, READY, Reason, is_ready};
use crate::controller::changes::child_fingerprint;
use crate::controller::runtime::Note;
use crate::crd::{SlbInstance, SlbListener, SlbVServerGroup};

/// What a Service's reconcile reports: its condition, what changed, and what fails.
pub(super) struct ServiceOutcome {
    pub(super) condition: DesiredCondition,
    pub(super) events: Vec<Note>,
    /// The children's own Events explain failures; the Service's owner looks here first.
    pub(super) warning: Option<Note>,
}

/// The outcome of applying the Service's children (pure), given what existed before and the
/// address its SlbInstance reports.
pub(super) fn outcome(
    name: &str,
    listeners: usize,
    owned: &Owned,
    address: Option<&str>,
    had_address: bool,
) -> ServiceOutcome {
    let mut events = Vec::new();
    if owned.instance.is_none() {
        events.push(Note::new(
            "EnsuringLoadBalancer",
            format!("Created SlbInstance {name} with {listeners} listener(s)"),
        ));
    }
    if let (Some(address), false) = (address, had_address) {
        events.push(Note::new(
            "EnsuredLoadBalancer",
            format!("The load balancer of SlbInstance {name} is at {address}"),
        ));
    }
    let failing = failing_children(owned);
    ServiceOutcome {
        condition: load_balancer_condition(owned, address),
        events,
        warning: (!failing.is_empty())
            .then(|| Note::new("LoadBalancerNotReady", failing.join("; "))),
    }
}

/// What the outcome reads of a child, as watch fingerprints: only a change of these wakes the
/// Service (its children's other status writes, backends and health above all, are most events).
pub(super) fn instance_fingerprint(instance: &SlbInstance) -> u64 {
    let status = instance.status.as_ref();
    let address = status
        .and_then(|s| s.address.as_deref())
        .unwrap_or_default();
    child_fingerprint(instance, status.map_or(&[], |s| &s.conditions), address)
}

pub(super) fn group_fingerprint(group: &SlbVServerGroup) -> u64 {
    let conditions = group.status.as_ref().map_or(&[][..], |s| &s.conditions);
    child_fingerprint(group, conditions, "")
}

pub(super) fn listener_fingerprint(listener: &SlbListener) -> u64 {
    let conditions = listener.status.as_ref().map_or(&[][..], |s| &s.conditions);
    child_fingerprint(listener, conditions, "")
}

/// Each child with its kind, name, generation and conditions, in the order they are applied.
fn child_conditions(owned: &Owned) -> Vec<(&'static str, String, Option<i64>, &[Condition])> {
    fn of<'a, K: Resource>(
        kind: &'static str,
        child: &'a K,
        conditions: Option<&'a Vec<Condition>>,
    ) -> (&'static str, String, Option<i64>, &'a [Condition]) {
        let conditions = conditions.map_or(&[][..], Vec::as_slice);
        (kind, child.name_any(), child.meta().generation, conditions)
    }
    let instance = owned
        .instance
        .iter()
        .map(|i| of("SlbInstance", i, i.status.as_ref().map(|s| &s.conditions)));
    let groups = owned.groups.values().map(|g| {
        of(
            "SlbVServerGroup",
            g,
            g.status.as_ref().map(|s| &s.conditions),
        )
    });
    let listeners = owned
        .listeners
        .values()
        .map(|l| of("SlbListener", l, l.status.as_ref().map(|s| &s.conditions)));
    instance.chain(groups).chain(listeners).collect()
}

/// `<kind> <name>: <message>` for each child whose last reconcile failed.
pub(super) fn failing_children(owned: &Owned) -> Vec<String> {
    child_conditions(owned)
        .into_iter()
        .filter_map(|(kind, name, _, conditions)| {
            let failed = conditions.iter().find(|c| {
                c.type_ == READY
                    && c.status == "False"
                    && [Reason::ReconcileError, Reason::RemoteNotFound]
                        .iter()
                        .any(|r| r.as_str() == c.reason)
            })?;
            Some(format!("{kind} {name}: {}", failed.message))
        })
        .collect()
}

/// The Service's own summary of its load balancer: failing children first, then children still on
/// their way, else ready at `address`.
pub(super) fn load_balancer_condition(owned: &Owned, address: Option<&str>) -> DesiredCondition {
    let failing = failing_children(owned);
    let waiting: Vec<String> = child_conditions(owned)
        .into_iter()
        .filter(|(_, _, generation, conditions)| !is_ready(conditions, *generation))
        .map(|(kind, name, _, _)| format!("{kind} {name}"))
        .collect();
    let (status, reason, message) = match address {
        _ if !failing.is_empty() => (false, Reason::ReconcileError, failing.join("; ")),
        Some(address) if waiting.is_empty() => (
            true,
            Reason::Available,
            format!("the load balancer is at {address}"),
        ),
        _ if waiting.is_empty() => (
            false,
            Reason::Progressing,
            "waiting for the load balancer's address".to_owned(),
        ),
        _ => (
            false,
            Reason::Progressing,
            format!("waiting for {}", waiting.join(", ")),
        ),
    };
    DesiredCondition {
        type_: LOAD_BALANCER_READY,
        status,
        reason,
        message,
    }
}

/// The line of the Service's condition that names the annotations it ignores, if any.
pub(super) fn ignored_line(ignored: &[Ignored]) -> Option<String> {
    let named: Vec<String> = ignored
        .iter()
        .map(|i| format!("{} ({})", i.annotation, i.why))
        .collect();
    (!named.is_empty()).then(|| format!("Annotations ignored: {}", named.join("; ")))
}

/// The message of the Service's own condition, as it stands.
pub(super) fn condition_message(service: &Service) -> Option<&str> {
    service
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == LOAD_BALANCER_READY))
        .map(|c| c.message.as_str())
}

/// The Warning about ignored annotations, once per change of their list: only when the Service's
/// condition does not end with this very line yet, so a resync or another change of the Service
/// repeats nothing. The whole line, as [`with_ignored`] appends it, is compared: a list that lost
/// its last names is still a substring of the old one, yet a change.
pub(super) fn ignored_warning(line: Option<&str>, condition_message: Option<&str>) -> Option<Note> {
    let line = line?;
    let said = condition_message
        .and_then(|message| message.strip_suffix(line))
        .is_some_and(|before| before.ends_with(". "));
    (!said).then(|| Note::new(super::UNSUPPORTED_ANNOTATION, line.to_owned()))
}

/// `message`, with the ignored annotations' line after it.
pub(super) fn with_ignored(message: String, line: Option<&str>) -> String {
    match line {
        Some(line) => format!("{message}. {line}"),
        None => message,
    }
}

pub(super) fn current_ingress(service: &Service) -> Vec<LoadBalancerIngress> {
    service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.clone())
        .unwrap_or_default()
}

/// The Service's ingress once the load balancer has its address: the address, or the `hostname`
/// annotation in its place (as the cloud controller manager does, so that kube-proxy sends the
/// cluster's own traffic for it through the load balancer too).
pub(super) fn ingress(address: Option<&str>, hostname: Option<&str>) -> Vec<LoadBalancerIngress> {
    address
        .map(|ip| match hostname {
            Some(hostname) => LoadBalancerIngress {
                hostname: Some(hostname.to_owned()),
                ..Default::default()
            },
            None => LoadBalancerIngress {
                ip: Some(ip.to_owned()),
                ..Default::default()
            },
        })
        .into_iter()
        .collect()
}
