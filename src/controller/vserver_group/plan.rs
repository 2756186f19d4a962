//! The pure part of the SlbVServerGroup reconcile: the backend diff, its chunking into calls of at
//! most [`SERVERS_PER_CALL`] servers, and the drain of backends a Service no longer has.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use slb_api::VServerBackendServer;

use crate::controller::instance::deletion_policy;
use crate::crd::{BackendServer, DeletionPolicy, DrainingBackend, SlbInstanceSpec};
use crate::error::Error;

/// SLB takes at most this many servers per call (CreateVServerGroup and the Add/Remove/Modify calls).
pub const SERVERS_PER_CALL: usize = 20;

/// The weight SLB gives a backend when none is sent.
pub const DEFAULT_WEIGHT: u32 = 100;

/// A backend as SLB identifies it within a group: an ECS instance and a port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackendKey {
    pub server_id: String,
    pub port: u16,
}

/// Backends and their weights.
pub type Backends = BTreeMap<BackendKey, u32>;

/// A group as SLB reports it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteGroup {
    pub id: String,
    pub name: String,
    pub backends: Backends,
}

/// A call that brings the group closer to the spec.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// CreateVServerGroup under `name`, with at most [`SERVERS_PER_CALL`] backends.
    Create {
        name: String,
        backends: Vec<VServerBackendServer>,
    },
    /// SetVServerGroupAttribute with the name only, so no backend is touched.
    Rename(String),
    Add(Vec<VServerBackendServer>),
    /// Changes weights: `old` and `new` name the same backends.
    Modify {
        old: Vec<VServerBackendServer>,
        new: Vec<VServerBackendServer>,
    },
    Remove(Vec<VServerBackendServer>),
}

/// What the group should be called and hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// The name in SLB.
    pub name: String,
    /// The name a new group is created under, derived from the object's uid, so that a group created
    /// just before a crash is found again (and never mistaken for someone else's).
    pub creation_name: String,
    pub backends: Backends,
}

/// The calls that turn `remote` (or nothing) into `desired`, in order: create or rename, then add,
/// modify and remove, so that traffic always has somewhere to go.
pub fn plan(desired: &Desired, remote: Option<&RemoteGroup>) -> Vec<Change> {
    let Some(remote) = remote else {
        let mut all = to_api(desired.backends.iter());
        let rest = all.split_off(all.len().min(SERVERS_PER_CALL));
        let mut changes = vec![Change::Create {
            name: desired.creation_name.clone(),
            backends: all,
        }];
        changes.extend(
            rest.chunks(SERVERS_PER_CALL)
                .map(|c| Change::Add(c.to_vec())),
        );
        if desired.creation_name != desired.name {
            changes.push(Change::Rename(desired.name.clone()));
        }
        return changes;
    };
    let mut changes = Vec::new();
    if remote.name != desired.name {
        changes.push(Change::Rename(desired.name.clone()));
    }
    changes.extend(diff(&desired.backends, &remote.backends));
    changes
}

/// The part of an existing group that is not ours which an object manages: the backends it wants
/// and those it added before (`ours`); the others belong to whoever made the group.
pub fn managed_part(observed: &Backends, wanted: &Backends, ours: &Backends) -> Backends {
    observed
        .iter()
        .filter(|(key, _)| wanted.contains_key(*key) || ours.contains_key(*key))
        .map(|(key, weight)| (key.clone(), *weight))
        .collect()
}

/// `wanted`, with the weights the backends already in the group have there; a backend at weight 0
/// (draining) that is wanted again gets its own.
pub fn keep_weights(wanted: &Backends, observed: &Backends) -> Backends {
    wanted
        .iter()
        .map(|(key, weight)| {
            let kept = observed.get(key).copied().filter(|w| *w > 0);
            (key.clone(), kept.unwrap_or(*weight))
        })
        .collect()
}

/// Add, Modify and Remove calls (in that order, at most [`SERVERS_PER_CALL`] servers each) that turn
/// `observed` into `desired`.
pub fn diff(desired: &Backends, observed: &Backends) -> Vec<Change> {
    let added = desired
        .iter()
        .filter(|(key, _)| !observed.contains_key(*key));
    let reweighted: Vec<(&BackendKey, u32, u32)> = desired
        .iter()
        .filter_map(|(key, &weight)| match observed.get(key) {
            Some(&old) if old != weight => Some((key, old, weight)),
            _ => None,
        })
        .collect();
    let removed = observed
        .iter()
        .filter(|(key, _)| !desired.contains_key(*key));

    let mut changes: Vec<Change> = to_api(added)
        .chunks(SERVERS_PER_CALL)
        .map(|chunk| Change::Add(chunk.to_vec()))
        .collect();
    changes.extend(
        reweighted
            .chunks(SERVERS_PER_CALL)
            .map(|chunk| Change::Modify {
                old: to_api(chunk.iter().map(|(key, old, _)| (*key, old))),
                new: to_api(chunk.iter().map(|(key, _, new)| (*key, new))),
            }),
    );
    changes.extend(
        to_api(removed)
            .chunks(SERVERS_PER_CALL)
            .map(|chunk| Change::Remove(chunk.to_vec())),
    );
    changes
}

fn to_api<'a>(
    backends: impl Iterator<Item = (&'a BackendKey, &'a u32)>,
) -> Vec<VServerBackendServer> {
    backends
        .map(|(key, weight)| VServerBackendServer {
            server_id: key.server_id.clone(),
            port: Some(key.port),
            weight: Some(*weight),
        })
        .collect()
}

/// The backends SLB reports, keyed; entries without a port cannot belong to a VServer group and are skipped.
pub fn from_api(servers: &[VServerBackendServer]) -> Backends {
    servers
        .iter()
        .filter_map(|server| {
            let port = server.port?;
            let key = BackendKey {
                server_id: server.server_id.clone(),
                port,
            };
            Some((key, server.weight.unwrap_or(DEFAULT_WEIGHT)))
        })
        .collect()
}

/// The explicit backends of the spec. A port or weight out of range (the schema rejects them) is an error.
pub fn from_spec(backends: &[BackendServer]) -> Result<Backends, String> {
    backends
        .iter()
        .map(|backend| {
            let port = u16::try_from(backend.port)
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| format!("backend port {} is not 1-65535", backend.port))?;
            let weight = match backend.weight {
                None => DEFAULT_WEIGHT,
                Some(weight) => u32::try_from(weight)
                    .ok()
                    .filter(|w| *w <= 100)
                    .ok_or_else(|| format!("backend weight {weight} is not 0-100"))?,
            };
            let key = BackendKey {
                server_id: backend.server_id.clone(),
                port,
            };
            Ok((key, weight))
        })
        .collect()
}

/// The backends in the status form.
pub fn to_status(backends: &Backends) -> Vec<BackendServer> {
    backends
        .iter()
        .map(|(key, weight)| BackendServer {
            server_id: key.server_id.clone(),
            port: i32::from(key.port),
            weight: i32::try_from(*weight).ok(),
        })
        .collect()
}

/// The target of a Service-backed group, with backends that left the Service drained first.
#[derive(Clone, Debug, PartialEq)]
pub struct Drained {
    /// The desired backends, plus those still draining at weight 0.
    pub target: Backends,
    /// When each draining backend started to drain.
    pub draining_since: BTreeMap<BackendKey, Timestamp>,
    /// When to look again to remove the next drained backend.
    pub next_check: Option<Duration>,
}

/// Keeps a backend that SLB still has but the Service no longer wants at weight 0 for `period`
/// (from `draining_since`, else from `now`), so that open connections can finish; then drops it.
pub fn drain(
    desired: &Backends,
    observed: &Backends,
    draining_since: &BTreeMap<BackendKey, Timestamp>,
    now: Timestamp,
    period: Duration,
) -> Drained {
    let mut target = desired.clone();
    let mut still_draining = BTreeMap::new();
    let mut next_check: Option<Duration> = None;
    for key in observed.keys().filter(|key| !desired.contains_key(*key)) {
        // A start after now (the clock stepped back) counts as starting now.
        let since = draining_since
            .get(key)
            .copied()
            .filter(|since| *since <= now)
            .unwrap_or(now);
        let elapsed = Duration::try_from(now.duration_since(since)).unwrap_or_default();
        if elapsed >= period {
            continue;
        }
        target.insert(key.clone(), 0);
        still_draining.insert(key.clone(), since);
        let remaining = period - elapsed;
        next_check = Some(next_check.map_or(remaining, |n| n.min(remaining)));
    }
    Drained {
        target,
        draining_since: still_draining,
        next_check,
    }
}

/// The drain starts recorded in the status. An entry with a port out of range names no backend.
pub fn draining_from_status(draining: &[DrainingBackend]) -> BTreeMap<BackendKey, Timestamp> {
    draining
        .iter()
        .filter_map(|backend| {
            let key = BackendKey {
                server_id: backend.server_id.clone(),
                port: u16::try_from(backend.port).ok()?,
            };
            Some((key, backend.since.0))
        })
        .collect()
}

/// The drain starts as the status records them.
pub fn draining_to_status(
    draining_since: &BTreeMap<BackendKey, Timestamp>,
) -> Vec<DrainingBackend> {
    draining_since
        .iter()
        .map(|(key, since)| DrainingBackend {
            server_id: key.server_id.clone(),
            port: i32::from(key.port),
            since: Time(*since),
        })
        .collect()
}

/// The deletion policy in effect for an object on a load balancer (a group, a rule): the first one
/// set in `own` (the object's, then its parents' below the instance), else its SlbInstance's. With
/// the instance gone, Orphan: only an Orphan instance goes before the objects on its load
/// balancer, and it leaves them all in place.
pub fn deletion_policy_in_effect(
    own: &[Option<DeletionPolicy>],
    instance: Option<&SlbInstanceSpec>,
) -> DeletionPolicy {
    own.iter()
        .flatten()
        .next()
        .copied()
        .unwrap_or_else(|| instance.map_or(DeletionPolicy::Orphan, deletion_policy))
}

/// Refuses a recorded group (VServer or master-slave) that SLB has on another load balancer than
/// `ours`, this object's: a status written by hand or by another tool must never make us change or
/// delete someone else's group. `placed_on` is where SLB has it, `None` when not on `ours`.
pub fn ensure_placed(
    noun: &str,
    id: &str,
    placed_on: Option<&str>,
    ours: &str,
) -> Result<(), Error> {
    match placed_on {
        Some(placed_on) if placed_on == ours => Ok(()),
        Some(other) => Err(Error::NotOwned {
            what: format!("{noun} {id}, which is on load balancer {other}, not {ours}"),
        }),
        None => Err(Error::NotOwned {
            what: format!("{noun} {id}, which is not on load balancer {ours}"),
        }),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
