//! The SlbMasterSlaveServerGroup plan (pure): the create request the spec asks for, and whether
//! SLB's group is that one.

use slb_api::{
    CreateMasterSlaveServerGroupRequest, ErrorCategory, MasterSlaveBackendServer,
    MasterSlaveServerType,
};

use crate::crd::BackendServer;

/// A group as SLB reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteGroup {
    pub id: String,
    pub name: String,
    pub servers: Vec<MasterSlaveBackendServer>,
}

/// What to do about the group.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    InSync,
    Create(CreateMasterSlaveServerGroupRequest),
    /// Delete `old_id`, then create: SLB has no call that changes a master-slave group.
    Replace {
        old_id: String,
        create: CreateMasterSlaveServerGroupRequest,
    },
}

/// The create request the spec asks for.
pub fn desired_request(
    load_balancer_id: &str,
    name: &str,
    master: &BackendServer,
    slave: &BackendServer,
) -> CreateMasterSlaveServerGroupRequest {
    CreateMasterSlaveServerGroupRequest {
        load_balancer_id: load_balancer_id.to_owned(),
        master_slave_server_group_name: name.to_owned(),
        master_slave_backend_servers: vec![
            to_api(master, MasterSlaveServerType::Master),
            to_api(slave, MasterSlaveServerType::Slave),
        ],
    }
}

fn to_api(backend: &BackendServer, server_type: MasterSlaveServerType) -> MasterSlaveBackendServer {
    MasterSlaveBackendServer {
        server_id: backend.server_id.clone(),
        port: u16::try_from(backend.port).ok(),
        weight: Some(
            backend
                .weight
                .and_then(|w| u32::try_from(w).ok())
                .unwrap_or(100),
        ),
        server_type: Some(server_type),
    }
}

/// Whether SLB's group is what `desired` would create: same name and same two servers (SLB's
/// defaults filled in, order ignored).
pub fn matches(desired: &CreateMasterSlaveServerGroupRequest, remote: &RemoteGroup) -> bool {
    let normalize = |servers: &[MasterSlaveBackendServer]| {
        let mut keys: Vec<(String, Option<u16>, u32, &'static str)> = servers
            .iter()
            .map(|s| {
                let server_type = match s.server_type.unwrap_or(MasterSlaveServerType::Master) {
                    MasterSlaveServerType::Master => "Master",
                    MasterSlaveServerType::Slave => "Slave",
                };
                (
                    s.server_id.clone(),
                    s.port,
                    s.weight.unwrap_or(100),
                    server_type,
                )
            })
            .collect();
        keys.sort();
        keys
    };
    desired.master_slave_server_group_name == remote.name
        && normalize(&desired.master_slave_backend_servers) == normalize(&remote.servers)
}

/// Plans the calls for the group, given what SLB reports.
pub fn plan(desired: CreateMasterSlaveServerGroupRequest, remote: Option<&RemoteGroup>) -> Plan {
    match remote {
        None => Plan::Create(desired),
        Some(remote) if matches(&desired, remote) => Plan::InSync,
        Some(remote) => Plan::Replace {
            old_id: remote.id.clone(),
            create: desired,
        },
    }
}

/// Whose the object SLB lists under a name is, for the kinds SLB can neither tag nor rename
/// (master-slave groups, rules), whose creates take no ClientToken. This object writes the name
/// it is about to create under into its status first (`pending`), and only when no object had
/// that name; so one named `pending` is the one that create made, answered or not. One with the
/// `wanted` name is someone else's, never changed or deleted; with neither, the name is free.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim<T> {
    Ours(T),
    Taken(T),
    Free,
}

/// The [`Claim`] among `listed` (the objects on the load balancer or listener, less the one whose
/// ID the status records), by the names `name_of` reads.
pub fn claim<'a, T>(
    listed: &'a [T],
    name_of: impl Fn(&T) -> &str,
    pending: Option<&str>,
    wanted: &str,
) -> Claim<&'a T> {
    let named = |name: &str| listed.iter().find(|item| name_of(item) == name);
    if let Some(ours) = pending.and_then(named) {
        return Claim::Ours(ours);
    }
    named(wanted).map_or(Claim::Free, Claim::Taken)
}

/// Whether a create that failed may still have created something: no answer came, or a success
/// that could not be read. An error SLB answered with created nothing, so the name the status
/// holds as pending must not claim what someone else makes under it later.
pub fn may_have_created(error: &slb_api::Error) -> bool {
    matches!(
        error.category(),
        ErrorCategory::Transport | ErrorCategory::Timeout | ErrorCategory::Decode
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(server_id: &str, port: i32, weight: Option<i32>) -> BackendServer {
        BackendServer {
            server_id: server_id.into(),
            port,
            weight,
        }
    }

    fn desired() -> CreateMasterSlaveServerGroupRequest {
        desired_request(
            "lb-1",
            "ns/web",
            &backend("i-0001", 80, None),
            &backend("i-0002", 80, Some(50)),
        )
    }

    fn remote_of(request: &CreateMasterSlaveServerGroupRequest) -> RemoteGroup {
        RemoteGroup {
            id: "rsp-1".into(),
            name: request.master_slave_server_group_name.clone(),
            servers: request.master_slave_backend_servers.clone(),
        }
    }

    #[test]
    fn the_request_has_one_master_and_one_slave_with_default_weights() {
        let request = desired();
        let servers = &request.master_slave_backend_servers;
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].server_type, Some(MasterSlaveServerType::Master));
        assert_eq!(servers[0].weight, Some(100));
        assert_eq!(servers[1].server_type, Some(MasterSlaveServerType::Slave));
        assert_eq!(servers[1].weight, Some(50));
        assert_eq!(servers[1].port, Some(80));
    }

    #[test]
    fn a_missing_group_is_created() {
        assert_eq!(plan(desired(), None), Plan::Create(desired()));
    }

    #[test]
    fn a_matching_group_needs_nothing_whatever_the_order_and_defaults() {
        let mut remote = remote_of(&desired());
        remote.servers.reverse();
        remote.servers[1].weight = None;
        remote.servers[1].server_type = None;
        assert_eq!(plan(desired(), Some(&remote)), Plan::InSync);
    }

    #[test]
    fn a_different_group_is_replaced() {
        let mut remote = remote_of(&desired());
        remote.servers[1].server_id = "i-0003".into();
        assert_eq!(
            plan(desired(), Some(&remote)),
            Plan::Replace {
                old_id: "rsp-1".into(),
                create: desired()
            }
        );
        let mut renamed = remote_of(&desired());
        renamed.name = "other".into();
        assert!(matches!(
            plan(desired(), Some(&renamed)),
            Plan::Replace { .. }
        ));
    }

    fn listed(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| (format!("rsp-{i}"), (*name).to_owned()))
            .collect()
    }

    fn claimed(names: &[&str], pending: Option<&str>, wanted: &str) -> Claim<String> {
        let listed = listed(names);
        match claim(&listed, |(_, name)| name, pending, wanted) {
            Claim::Ours((id, _)) => Claim::Ours(id.clone()),
            Claim::Taken((id, _)) => Claim::Taken(id.clone()),
            Claim::Free => Claim::Free,
        }
    }

    #[test]
    fn a_group_with_the_name_is_ours_only_when_its_create_was_recorded_first() {
        // The create recorded ahead may have gone through unanswered: the group it made is ours.
        assert_eq!(
            claimed(&["other", "ns/web"], Some("ns/web"), "ns/web"),
            Claim::Ours("rsp-1".into())
        );
        // Without that record, the same group is someone else's, however alike.
        assert_eq!(
            claimed(&["other", "ns/web"], None, "ns/web"),
            Claim::Taken("rsp-1".into())
        );
        // A rename in the spec after the unanswered create: the group made under the old name.
        assert_eq!(
            claimed(&["ns/old", "ns/new"], Some("ns/old"), "ns/new"),
            Claim::Ours("rsp-0".into())
        );
        // That create made nothing: the new name is someone else's.
        assert_eq!(
            claimed(&["ns/new"], Some("ns/old"), "ns/new"),
            Claim::Taken("rsp-0".into())
        );
        assert_eq!(claimed(&["other"], Some("ns/web"), "ns/web"), Claim::Free);
        assert_eq!(claimed(&[], None, "ns/web"), Claim::Free);
    }

    #[test]
    fn only_a_create_left_unanswered_may_have_created() {
        let transport = |timed_out| slb_api::Error::Transport {
            action: "CreateMasterSlaveServerGroup",
            message: "no answer".into(),
            timed_out,
        };
        assert!(may_have_created(&transport(true)));
        assert!(may_have_created(&transport(false)));
        let answered = slb_api::Error::Api {
            action: "CreateMasterSlaveServerGroup",
            error: slb_api::ApiError {
                code: "InvalidParameter".into(),
                message: "The resource already exists".into(),
                request_id: "r".into(),
                host_id: "h".into(),
                http_status: 400,
            },
        };
        assert!(!may_have_created(&answered));
    }

    #[test]
    fn swapped_roles_are_a_difference() {
        let mut remote = remote_of(&desired());
        remote.servers[0].server_type = Some(MasterSlaveServerType::Slave);
        remote.servers[1].server_type = Some(MasterSlaveServerType::Master);
        assert!(!matches(&desired(), &remote));
    }
}
