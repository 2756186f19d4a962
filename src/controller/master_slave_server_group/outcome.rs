//! The SlbMasterSlaveServerGroup outcome (pure): from the plan and what its calls did, the Ready
//! condition, the requeue and the Events.

use super::plan::Plan;
use crate::conditions::{DesiredCondition, Reason};
use crate::controller::runtime::{Note, Outcome, Requeue, settling};

/// What the reconcile knew before it applied the plan.
pub struct Before<'a> {
    pub load_balancer_id: &'a str,
    /// The ID the status recorded, of a group SLB no longer has.
    pub replaced_id: Option<&'a str>,
}

/// What the calls did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The group deleted to be replaced, once the delete has answered.
    pub deleted_id: Option<String>,
    /// The ID of the group created, once the create has answered.
    pub created_id: Option<String>,
}

/// The outcome of `plan`; `failed` when a call failed after those `applied` records.
pub fn outcome(plan: &Plan, before: &Before<'_>, applied: &Applied, failed: bool) -> Outcome {
    let mut events = Vec::new();
    if let Some(old_id) = &applied.deleted_id {
        events.push(Note::new(
            "Replacing",
            format!("Group {old_id} differs from the spec and SLB cannot modify it: deleting and creating it again"),
        ));
    }
    if let Some(id) = &applied.created_id {
        events.push(Note::new(
            "Created",
            format!(
                "Created master-slave server group {id} on {}",
                before.load_balancer_id
            ),
        ));
    }
    let (ready, requeue) = match plan {
        Plan::InSync => (
            DesiredCondition::ready(true, Reason::Available, "the group matches the spec"),
            Requeue::Resync,
        ),
        Plan::Create(_) => {
            if let Some(deleted) = before.replaced_id.filter(|_| !failed) {
                let created = applied.created_id.as_deref().unwrap_or_default();
                events.push(Note::recreated("Group", deleted, created));
            }
            settling("created")
        }
        Plan::Replace { old_id, .. } => settling(format!("replaced {old_id}")),
    };
    Outcome::new(vec![ready], requeue, events, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use slb_api::CreateMasterSlaveServerGroupRequest;

    fn request() -> CreateMasterSlaveServerGroupRequest {
        CreateMasterSlaveServerGroupRequest {
            load_balancer_id: "lb-1".into(),
            master_slave_server_group_name: "ns/db".into(),
            master_slave_backend_servers: Vec::new(),
        }
    }

    fn replace() -> Plan {
        Plan::Replace {
            old_id: "rsp-old".into(),
            create: request(),
        }
    }

    const NOTHING_REPLACED: Before<'static> = Before {
        load_balancer_id: "lb-1",
        replaced_id: None,
    };

    /// The outcome of creating the group from `request`, which SLB answered as rsp-new.
    fn of_create(before: &Before<'_>, failed: bool) -> Outcome {
        let applied = Applied {
            created_id: Some("rsp-new".into()),
            ..Applied::default()
        };
        outcome(&Plan::Create(request()), before, &applied, failed)
    }

    #[test]
    fn a_matching_group_is_ready_and_waits_for_the_resync() {
        let outcome = outcome(&Plan::InSync, &NOTHING_REPLACED, &Applied::default(), false);
        outcome.assert_in_sync("the group matches the spec");
    }

    #[test]
    fn a_create_is_announced_and_checked_soon() {
        let outcome = of_create(&NOTHING_REPLACED, false);
        assert_eq!(
            outcome.notes(),
            [(
                "Created",
                "Created master-slave server group rsp-new on lb-1"
            )]
        );
        outcome.assert_settling("created");
    }

    #[test]
    fn a_group_deleted_outside_is_created_again_and_said_so() {
        let before = Before {
            replaced_id: Some("rsp-old"),
            ..NOTHING_REPLACED
        };
        let outcome = of_create(&before, false);
        outcome.assert_created_again(
            "Group rsp-old was deleted outside the operator; created rsp-new in its place",
        );
        // A failure after the create (the status write) announces the create only.
        let failed = of_create(&before, true);
        failed.assert_failed_after(&["Created"]);
    }

    #[test]
    fn a_replacement_announces_the_delete_then_the_create() {
        let applied = Applied {
            deleted_id: Some("rsp-old".into()),
            created_id: Some("rsp-new".into()),
        };
        let outcome = outcome(&replace(), &NOTHING_REPLACED, &applied, false);
        outcome.assert_announced(&["Replacing", "Created"], "Group rsp-old differs");
        outcome.assert_settling("replaced rsp-old");
    }

    #[test]
    fn a_replacement_that_failed_announces_only_what_happened() {
        let deleted = Applied {
            deleted_id: Some("rsp-old".into()),
            ..Applied::default()
        };
        for (applied, announced) in [
            // Refused (a listener uses the group): nothing happened.
            (Applied::default(), &[][..]),
            // Deleted, then the create failed: the group is gone, which is said.
            (deleted, &["Replacing"]),
        ] {
            outcome(&replace(), &NOTHING_REPLACED, &applied, true).assert_failed_after(announced);
        }
    }
}
