//! The emulated resources of every account, serializable as a whole for the state file.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// All accounts' resources, keyed by account ID.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Store {
    pub accounts: BTreeMap<String, AccountState>,
    /// Generator state for IDs, persisted so that a restart never reissues an ID.
    pub id_state: u64,
    /// Next host number for service addresses.
    pub next_address: u32,
    /// Creation counter, so that listings keep creation order.
    pub next_sequence: u64,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AccountState {
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    pub server_certificates: BTreeMap<String, Certificate>,
    pub ca_certificates: BTreeMap<String, Certificate>,
    /// CreateLoadBalancer ClientTokens and what they produced.
    pub client_tokens: HashMap<String, ClientTokenRecord>,
    /// VServer group, master-slave group and rule ID → the ID of the load balancer holding it, so that an action
    /// naming only the child finds its owner without scanning every load balancer. Rebuilt on load.
    #[serde(skip)]
    pub owners: HashMap<String, String>,
    /// Records the current call may have changed, by ID: saved when it succeeds as a write, then cleared.
    #[serde(skip)]
    pub dirty: Dirty,
}

/// IDs of the records one call may have changed.
#[derive(Debug, Default, Clone)]
pub struct Dirty {
    pub load_balancers: BTreeSet<String>,
    pub server_certificates: BTreeSet<String>,
    pub ca_certificates: BTreeSet<String>,
    pub client_tokens: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientTokenRecord {
    /// The call's own parameters (without the common ones), canonicalized.
    pub parameters: String,
    /// The response body of the first call, without its RequestId.
    pub response: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub id: String,
    pub name: String,
    pub region_id: String,
    /// `active`, `inactive` or `locked`.
    pub status: String,
    pub address: String,
    pub address_type: String,
    pub network_type: String,
    pub vpc_id: String,
    pub vswitch_id: String,
    pub internet_charge_type: String,
    pub bandwidth: i64,
    pub spec: String,
    pub pay_type: String,
    pub master_zone_id: String,
    pub slave_zone_id: String,
    pub resource_group_id: String,
    pub created_ms: u64,
    pub sequence: u64,
    pub backend_servers: Vec<BackendServer>,
    pub listeners: BTreeMap<u16, Listener>,
    pub vserver_groups: BTreeMap<String, VServerGroup>,
    pub master_slave_groups: BTreeMap<String, MasterSlaveGroup>,
    pub rules: BTreeMap<String, Rule>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendServer {
    pub server_id: String,
    pub weight: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    pub fn is_layer7(self) -> bool {
        matches!(self, Protocol::Http | Protocol::Https)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerStatus {
    Starting,
    Running,
    Configuring,
    Stopping,
    Stopped,
}

impl ListenerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerStatus::Starting => "starting",
            ListenerStatus::Running => "running",
            ListenerStatus::Configuring => "configuring",
            ListenerStatus::Stopping => "stopping",
            ListenerStatus::Stopped => "stopped",
        }
    }

    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            ListenerStatus::Starting | ListenerStatus::Configuring | ListenerStatus::Stopping
        )
    }
}

/// A transitional state settles into `to` at `at_ms`; it is resolved lazily whenever the listener is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub to: ListenerStatus,
    pub at_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listener {
    pub port: u16,
    pub protocol: Protocol,
    pub status: ListenerStatus,
    pub transition: Option<Transition>,
    /// Every configured attribute under its API name (BackendServerPort, Bandwidth, Scheduler, …), typed as
    /// the Describe*ListenerAttribute responses return them.
    pub attributes: BTreeMap<String, Value>,
    pub access_control_status: String,
    pub white_list: Vec<String>,
}

impl Listener {
    /// The status as of `now_ms`, with any due transition applied.
    pub fn status_at(&self, now_ms: u64) -> ListenerStatus {
        match self.transition {
            Some(t) if now_ms >= t.at_ms => t.to,
            _ => self.status,
        }
    }

    /// Applies a due transition to the stored status.
    pub fn settle(&mut self, now_ms: u64) {
        self.status = self.status_at(now_ms);
        if self.transition.is_some_and(|t| now_ms >= t.at_ms) {
            self.transition = None;
        }
    }

    pub fn begin(&mut self, via: ListenerStatus, to: ListenerStatus, at_ms: u64) {
        self.status = via;
        self.transition = Some(Transition { to, at_ms });
    }

    pub fn attribute_str(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }

    pub fn attribute_int(&self, name: &str) -> Option<i64> {
        self.attributes.get(name).and_then(Value::as_i64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupServer {
    pub server_id: String,
    pub port: u16,
    pub weight: i64,
    /// `Master` or `Slave` in master-slave groups; empty in VServer groups.
    #[serde(default)]
    pub server_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VServerGroup {
    pub id: String,
    pub name: String,
    pub servers: Vec<GroupServer>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MasterSlaveGroup {
    pub id: String,
    pub name: String,
    pub servers: Vec<GroupServer>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub listener_port: u16,
    pub domain: String,
    pub url: String,
    pub vserver_group_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Certificate {
    pub id: String,
    pub name: String,
    pub region_id: String,
    pub fingerprint: String,
    pub created_ms: u64,
}

impl LoadBalancer {
    /// IDs of its VServer groups, master-slave groups and rules.
    pub fn child_ids(&self) -> impl Iterator<Item = &String> {
        self.vserver_groups
            .keys()
            .chain(self.master_slave_groups.keys())
            .chain(self.rules.keys())
    }
}

impl AccountState {
    /// Rebuilds the owner index from the load balancers (after loading, or a change behind the API's back).
    pub fn reindex(&mut self) {
        self.owners = self
            .load_balancers
            .values()
            .flat_map(|lb| lb.child_ids().map(|child| (child.clone(), lb.id.clone())))
            .collect();
    }

    pub fn index_child(&mut self, child_id: &str, load_balancer_id: &str) {
        self.owners
            .insert(child_id.to_string(), load_balancer_id.to_string());
    }

    pub fn unindex<'a>(&mut self, child_ids: impl IntoIterator<Item = &'a String>) {
        for id in child_ids {
            self.owners.remove(id);
        }
    }

    /// The load balancer that holds a VServer group, master-slave group or rule, by that child's ID;
    /// `has_child` confirms it (an ID of another kind of child is not found).
    pub fn owner_of<F>(&mut self, child_id: &str, has_child: F) -> Option<&mut LoadBalancer>
    where
        F: Fn(&LoadBalancer) -> bool,
    {
        let owner = self.owners.get(child_id)?;
        let lb = self
            .load_balancers
            .get_mut(owner)
            .filter(|lb| has_child(lb))?;
        self.dirty.load_balancers.insert(lb.id.clone());
        Some(lb)
    }
}
