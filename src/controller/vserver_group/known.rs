//! What this process knows of its own groups, and the plan (no I/O) against one view of a group:
//! a change of the wanted backends is written at once against the known group; anything else
//! describes SLB first.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::Resolved;
use super::plan::{self, Change, Desired, RemoteGroup};
use crate::crd::{DrainingBackend, SlbVServerGroupStatus};

/// What this process last described or wrote of each of its own groups, by the object's uid: a
/// change of the wanted backends is written against it at once. Only a reconcile that succeeded
/// leaves an entry, so a failure, a restart or a new leader means a describe first.
#[derive(Default)]
pub struct KnownGroups {
    groups: parking_lot::Mutex<HashMap<String, RemoteGroup>>,
}

impl KnownGroups {
    /// The group last known for `uid`, forgotten until [`KnownGroups::remember`].
    pub(super) fn take(&self, uid: &str) -> Option<RemoteGroup> {
        self.groups.lock().remove(uid)
    }

    pub(super) fn remember(&self, uid: &str, group: RemoteGroup) {
        self.groups.lock().insert(uid.to_owned(), group);
    }
}

/// The group this process knows and the plan against it, when that plan has calls to make and the
/// group is our own, the one the status records on this load balancer. `None` means: describe
/// first (a check, a resync, or nothing known).
pub(super) fn write_at_once(
    known: Option<RemoteGroup>,
    own_group: bool,
    current: &SlbVServerGroupStatus,
    load_balancer_id: &str,
    plan_against: impl Fn(Option<&RemoteGroup>) -> Planned,
) -> Option<(RemoteGroup, Planned)> {
    let known = known.filter(|known| {
        own_group
            && current.v_server_group_id.as_ref() == Some(&known.id)
            && current.load_balancer_id.as_deref() == Some(load_balancer_id)
    })?;
    let planned = plan_against(Some(&known));
    (!planned.changes.is_empty()).then_some((known, planned))
}

/// What a reconcile plans against one view of the remote group.
pub(super) struct Planned {
    pub desired: Desired,
    pub changes: Vec<Change>,
    /// The status's `draining`, and when to look again to end the next drain.
    pub draining: Vec<DrainingBackend>,
    pub next_drain_check: Option<Duration>,
}

/// The names of a group in SLB.
pub(super) struct Names {
    pub wanted: String,
    /// The name it is created under (see [`creation_name`]).
    pub creation: String,
    /// An existing group the spec names keeps the name it has.
    pub keep_existing: bool,
}

/// The plan (no I/O): the backends wanted (weights kept, drains held), the group they go in, and
/// the calls that get `remote` there.
pub(super) fn plan_group(
    resolved: &Resolved,
    remote: Option<&RemoteGroup>,
    current: &SlbVServerGroupStatus,
    names: &Names,
    now: Timestamp,
) -> Planned {
    let observed_backends = remote.map(|g| g.backends.clone()).unwrap_or_default();
    let wanted = match resolved.keep_weights {
        true => plan::keep_weights(&resolved.backends, &observed_backends),
        false => resolved.backends.clone(),
    };
    let (target, draining, next_drain_check) = match resolved.drain_period {
        Some(period) => {
            let drained = plan::drain(
                &wanted,
                &observed_backends,
                &plan::draining_from_status(&current.draining),
                now,
                period,
            );
            let draining = plan::draining_to_status(&drained.draining_since);
            (drained.target, draining, drained.next_check)
        }
        None => (wanted, Vec::new(), None),
    };
    let desired = Desired {
        name: match remote {
            Some(existing) if names.keep_existing => existing.name.clone(),
            _ => names.wanted.clone(),
        },
        creation_name: names.creation.clone(),
        backends: target,
    };
    let changes = plan::plan(&desired, remote);
    Planned {
        desired,
        changes,
        draining,
        next_drain_check,
    }
}

#[cfg(test)]
// The group fixtures serve the outcome tests too.
pub(super) mod tests {
    use super::*;
    use crate::controller::references::LoadBalancerRef;
    use crate::controller::vserver_group::creation_name;
    use plan::{BackendKey, Backends};

    /// `weights` of backends on port 80.
    pub(crate) fn backends(weights: &[(&str, u32)]) -> Backends {
        weights
            .iter()
            .map(|(server, weight)| {
                let key = BackendKey {
                    server_id: (*server).to_owned(),
                    port: 80,
                };
                (key, *weight)
            })
            .collect()
    }

    fn wanting(weights: &[(&str, u32)]) -> Resolved {
        Resolved {
            load_balancer: LoadBalancerRef {
                load_balancer_id: "lb-1".into(),
                region: "cn-hangzhou".into(),
            },
            backends: backends(weights),
            drain_period: None,
            keep_weights: false,
        }
    }

    fn recorded(id: &str, load_balancer_id: &str) -> SlbVServerGroupStatus {
        SlbVServerGroupStatus {
            v_server_group_id: Some(id.into()),
            load_balancer_id: Some(load_balancer_id.into()),
            ..SlbVServerGroupStatus::default()
        }
    }

    /// The group rsp-1 (ns/web) as SLB reports it, with `weights`.
    pub(crate) fn known(weights: &[(&str, u32)]) -> RemoteGroup {
        RemoteGroup {
            id: "rsp-1".into(),
            name: "ns/web".into(),
            backends: backends(weights),
        }
    }

    #[test]
    fn a_change_of_the_wanted_backends_is_written_against_the_known_group_and_the_rest_describes() {
        let names = Names {
            wanted: "ns/web".into(),
            creation: creation_name("uid-1"),
            keep_existing: false,
        };
        let status = recorded("rsp-1", "lb-1");
        let plan_for = |resolved: Resolved| {
            let (status, names) = (&status, &names);
            move |remote: Option<&RemoteGroup>| {
                plan_group(&resolved, remote, status, names, Timestamp::now())
            }
        };
        let before = [("i-1", 100), ("i-2", 100)];
        let after = [("i-1", 100), ("i-2", 100), ("i-3", 100)];

        let (group, planned) = write_at_once(
            Some(known(&before)),
            true,
            &status,
            "lb-1",
            plan_for(wanting(&after)),
        )
        .unwrap_or_else(|| unreachable!("a change against a known group is written at once"));
        assert_eq!(group.id, "rsp-1");
        assert!(matches!(planned.changes.as_slice(), [Change::Add(added)] if added.len() == 1));

        // Nothing to change: the check describes SLB, so drift is still found.
        let unchanged = write_at_once(
            Some(known(&before)),
            true,
            &status,
            "lb-1",
            plan_for(wanting(&before)),
        );
        assert!(unchanged.is_none());
        // Nothing known, another group recorded, another load balancer, or a group not ours.
        for (known_group, own, load_balancer_id, id) in [
            (None, true, "lb-1", "rsp-1"),
            (Some(known(&before)), true, "lb-1", "rsp-2"),
            (Some(known(&before)), true, "lb-2", "rsp-1"),
            (Some(known(&before)), false, "lb-1", "rsp-1"),
        ] {
            let status = recorded(id, "lb-1");
            let plan = |remote: Option<&RemoteGroup>| {
                plan_group(&wanting(&after), remote, &status, &names, Timestamp::now())
            };
            assert!(write_at_once(known_group, own, &status, load_balancer_id, plan).is_none());
        }
    }

    #[test]
    fn a_known_group_is_forgotten_when_taken_until_a_success_remembers_it() {
        let groups = KnownGroups::default();
        groups.remember("uid-1", known(&[("i-1", 100)]));
        assert_eq!(groups.take("uid-1").map(|g| g.id), Some("rsp-1".to_owned()));
        assert!(groups.take("uid-1").is_none());
    }
}
