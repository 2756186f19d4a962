//! What every reconcile gets: the Kubernetes client, the SLB clients, the configuration, the
//! metrics and the Event recorder.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::controller::events::Recorder;
use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::runtime::reflector::{ObjectRef, Store};
use slb_api::SlbApi;

use crate::controller::events::Announced;
use crate::controller::runtime::Backoff;
use crate::controller::vserver_group::KnownGroups;
use crate::error::{Error, Result};
use crate::metrics::Metrics;

/// Settings that shape reconciles.
#[derive(Clone, Debug)]
pub struct Config {
    /// Written into the tags of every SLB object the operator creates.
    pub cluster_id: String,
    /// Region of objects that do not name one.
    pub default_region: String,
    /// How often an unchanged object is compared with SLB.
    pub resync_period: Duration,
    /// Objects of one kind reconciled at the same time.
    pub concurrency: Concurrency,
    /// The namespaces watched; all namespaces when empty.
    pub watch_namespaces: Vec<String>,
    /// Services of type LoadBalancer with this loadBalancerClass get an SLB.
    pub service_load_balancer_class: String,
    /// Whether Services of type LoadBalancer without a loadBalancerClass get an SLB too.
    pub manage_services_without_class: bool,
    /// Whether `deletionPolicy: Delete` may delete an adopted load balancer.
    pub allow_deleting_adopted: bool,
    /// The namespaces that may adopt load balancers and take over listeners; all when `None`.
    pub adoption_namespaces: Option<Vec<String>>,
    /// How long before a certificate from a Secret expires its listener warns about it.
    pub certificate_expiry_warning: Duration,
}

impl Config {
    /// Whether objects in `namespace` may adopt a load balancer or take over its listeners.
    pub fn may_adopt(&self, namespace: &str) -> bool {
        self.adoption_namespaces
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|n| n == namespace))
    }
}

/// How many objects of a kind are reconciled at the same time: one figure for every kind, and
/// overrides for some (the groups, with the most calls per object, gain the most from more).
#[derive(Clone, Debug, Default)]
pub struct Concurrency {
    pub default: u16,
    pub by_kind: BTreeMap<String, u16>,
}

/// The kinds that get more than `--concurrency` unless told otherwise, from the scale benchmark
/// (docs/benchmarks.md): a group's reconcile waits longest on SLB's per-action limits (about 2 s
/// at 500 Services, against 0.5 to 0.7 s for the other kinds), so at a 1-minute resync 1,000
/// groups need some 32 reconciles in flight only to keep up. A controller that cannot keep up
/// starves some objects outright, as kube-runtime takes its held requests in no fixed order.
const BUILT_IN_CONCURRENCY: [(&str, u16); 2] = [("SlbVServerGroup", 64), ("SlbListener", 32)];

impl Concurrency {
    /// `default` for every kind but those of [`BUILT_IN_CONCURRENCY`], then `overrides`.
    pub fn new(default: u16, overrides: &[(String, u16)]) -> Self {
        let built_in = BUILT_IN_CONCURRENCY
            .iter()
            .map(|(kind, count)| ((*kind).to_owned(), *count));
        Self {
            default,
            by_kind: built_in.chain(overrides.iter().cloned()).collect(),
        }
    }

    /// The concurrency of the controller of `kind` (its metric label: a custom resource's kind,
    /// `Service` or `PodReadinessGate`).
    pub fn of(&self, kind: &str) -> u16 {
        self.by_kind.get(kind).copied().unwrap_or(self.default)
    }
}

impl From<u16> for Concurrency {
    fn from(default: u16) -> Self {
        Self {
            default,
            by_kind: BTreeMap::new(),
        }
    }
}

/// Builds the SLB client of a region.
pub type SlbClientFactory =
    Box<dyn Fn(&str) -> Result<Arc<dyn SlbApi>, slb_api::Error> + Send + Sync>;

/// One SLB client per region (the API takes the region with every call), built on first use.
pub struct SlbClients {
    factory: SlbClientFactory,
    by_region: Mutex<BTreeMap<String, Arc<dyn SlbApi>>>,
}

impl SlbClients {
    pub fn new(factory: SlbClientFactory) -> Self {
        Self {
            factory,
            by_region: Mutex::default(),
        }
    }

    /// The client of `region`.
    pub fn region(&self, region: &str) -> Result<Arc<dyn SlbApi>, slb_api::Error> {
        // A poisoned lock only means another reconcile panicked while inserting; the map is still valid.
        let mut by_region = self
            .by_region
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = by_region.get(region) {
            return Ok(client.clone());
        }
        let client = (self.factory)(region)?;
        by_region.insert(region.to_owned(), client.clone());
        Ok(client)
    }
}

/// Shared by every reconcile of every controller.
pub struct Context {
    pub client: Client,
    pub slb: SlbClients,
    pub config: Config,
    pub metrics: Metrics,
    pub recorder: Recorder,
    /// Failures in a row per object, for the error policy.
    pub backoff: Backoff,
    /// Warnings said once per change of what they say.
    pub announced: Announced,
    /// The VServer groups as this process last saw or wrote them.
    pub known_groups: KnownGroups,
    /// Every Node, kept by one cluster-wide watch (the group controller's), so that no reconcile
    /// lists the nodes again: at 200 nodes that list was most of a group's reconcile.
    node_store: Store<Node>,
}

impl Context {
    pub fn new(
        client: Client,
        slb: SlbClients,
        config: Config,
        metrics: Metrics,
        recorder: Recorder,
        node_store: Store<Node>,
    ) -> Self {
        Self {
            client,
            slb,
            config,
            metrics,
            recorder,
            backoff: Backoff::default(),
            announced: Announced::default(),
            known_groups: KnownGroups::default(),
            node_store,
        }
    }

    /// Every Node, once the watch has listed them (an empty list before that would take every node
    /// out of the Cluster-mode groups).
    pub async fn nodes(&self) -> Result<Vec<Arc<Node>>> {
        Ok(self.listed_nodes().await?.state())
    }

    /// The Node named `name`, from the watch.
    pub async fn node(&self, name: &str) -> Result<Option<Arc<Node>>> {
        Ok(self.listed_nodes().await?.get(&ObjectRef::new(name)))
    }

    async fn listed_nodes(&self) -> Result<&Store<Node>> {
        tokio::time::timeout(NODE_LIST_WAIT, self.node_store.wait_until_ready())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(Error::WatchNotReady("Nodes"))?;
        Ok(&self.node_store)
    }
}

/// How long a reconcile waits for the Node watch's first list before it gives up and retries.
const NODE_LIST_WAIT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn groups_and_listeners_get_more_unless_told_otherwise() {
        let built_in = Concurrency::new(4, &[]);
        assert_eq!(built_in.of("SlbVServerGroup"), 64);
        assert_eq!(built_in.of("SlbListener"), 32);
        assert_eq!(built_in.of("Service"), 4);
        let set = Concurrency::new(4, &[("SlbVServerGroup".to_owned(), 8)]);
        assert_eq!(set.of("SlbVServerGroup"), 8);
        assert_eq!(set.of("SlbListener"), 32);
        assert_eq!(Concurrency::from(2).of("SlbVServerGroup"), 2);
    }

    #[test]
    fn one_client_is_built_per_region() {
        let built = Arc::new(AtomicUsize::new(0));
        let counter = built.clone();
        let clients = SlbClients::new(Box::new(move |region: &str| {
            counter.fetch_add(1, Ordering::Relaxed);
            let credentials = slb_api::Credentials::new("id", "secret")?;
            let config = slb_api::ClientConfig::new("http://127.0.0.1:9", region, credentials);
            Ok(Arc::new(slb_api::Client::new(config)?) as Arc<dyn SlbApi>)
        }));
        for region in ["cn-hangzhou", "cn-beijing", "cn-hangzhou"] {
            assert!(clients.region(region).is_ok());
        }
        assert_eq!(built.load(Ordering::Relaxed), 2);
    }
}
