//! Watch events reduced to the changes a controller acts on. A watched object wakes its dependents
//! only when its fingerprint (the part of it they read) changes, or when it goes: node heartbeats
//! and status writes the dependents do not read wake nothing, which at scale is most events.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Resource;

use crate::crd::SlbInstance;
use kube::runtime::watcher;

/// Remembers each object's last fingerprint, by namespace, name and uid.
pub struct Changes<K> {
    fingerprint: fn(&K) -> u64,
    seen: HashMap<(Option<String>, String, Option<String>), u64>,
}

impl<K: Resource> Changes<K> {
    pub fn new(fingerprint: fn(&K) -> u64) -> Self {
        Self {
            fingerprint,
            seen: HashMap::new(),
        }
    }

    /// The object of `event` when it matters: it is new, its fingerprint changed, or it was
    /// deleted. Unlike kube's predicate filters, a deletion always passes, even when the object's
    /// last state is the one already seen.
    pub fn relevant(&mut self, event: watcher::Event<K>) -> Option<K> {
        match event {
            watcher::Event::Apply(object) | watcher::Event::InitApply(object) => {
                let fingerprint = (self.fingerprint)(&object);
                let previous = self.seen.insert(key(&object), fingerprint);
                (previous != Some(fingerprint)).then_some(object)
            }
            watcher::Event::Delete(object) => {
                self.seen.remove(&key(&object));
                Some(object)
            }
            watcher::Event::Init | watcher::Event::InitDone => None,
        }
    }
}

fn key<K: Resource>(object: &K) -> (Option<String>, String, Option<String>) {
    let meta = object.meta();
    (
        meta.namespace.clone(),
        meta.name.clone().unwrap_or_default(),
        meta.uid.clone(),
    )
}

/// `events` reduced to the objects that matter, as [`Changes::relevant`] decides; errors pass.
pub fn relevant<K: Resource>(
    events: impl Stream<Item = watcher::Result<watcher::Event<K>>>,
    fingerprint: fn(&K) -> u64,
) -> impl Stream<Item = watcher::Result<K>> {
    let mut changes = Changes::new(fingerprint);
    events.filter_map(move |event| {
        let relevant = match event {
            Ok(event) => changes.relevant(event).map(Ok),
            Err(error) => Some(Err(error)),
        };
        std::future::ready(relevant)
    })
}

/// What a dependent (group or listener) reads of its SlbInstance: where the load balancer is. The
/// instance's other status writes wake none of them.
pub fn placement_fingerprint(instance: &SlbInstance) -> u64 {
    let status = instance.status.as_ref();
    hash_of((
        status.and_then(|s| s.load_balancer_id.as_deref()),
        status.and_then(|s| s.region_id.as_deref()),
    ))
}

/// Any change at all: the object's resourceVersion.
pub fn resource_version<K: Resource>(object: &K) -> u64 {
    hash_of(object.meta().resource_version.as_deref())
}

/// The hash of `value`, for fingerprints.
pub fn hash_of(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// What the group and readiness-gate controllers read of a Service: its spec. Its status, which
/// the operator writes, wakes neither.
pub fn service_spec_fingerprint(service: &Service) -> u64 {
    hash_of(serde_json::to_string(&service.spec).unwrap_or_default())
}

/// What the Service controller reads of a Service: its spec, annotations, labels and finalizers,
/// and whether it is being deleted. Its own status writes do not wake it again.
pub fn service_fingerprint(service: &Service) -> u64 {
    let meta = &service.metadata;
    hash_of((
        service_spec_fingerprint(service),
        &meta.annotations,
        &meta.labels,
        &meta.finalizers,
        meta.deletion_timestamp.is_some(),
    ))
}

/// What an owner reads of a child: its generation, labels and finalizers, whether it is being
/// deleted, its conditions without their transition times, and `extra` (an address, say).
pub fn child_fingerprint<K: Resource>(child: &K, conditions: &[Condition], extra: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    let meta = child.meta();
    meta.generation.hash(&mut hasher);
    meta.labels.hash(&mut hasher);
    meta.finalizers.hash(&mut hasher);
    meta.deletion_timestamp.is_some().hash(&mut hasher);
    for condition in conditions {
        condition.type_.hash(&mut hasher);
        condition.status.hash(&mut hasher);
        condition.reason.hash(&mut hasher);
        condition.message.hash(&mut hasher);
        condition.observed_generation.hash(&mut hasher);
    }
    extra.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn map(name: &str, value: &str) -> ConfigMap {
        let mut map = ConfigMap::default();
        map.metadata.name = Some(name.to_owned());
        map.metadata.namespace = Some("ns".to_owned());
        map.data = Some([("value".to_owned(), value.to_owned())].into());
        map
    }

    fn value(map: &ConfigMap) -> u64 {
        let mut hasher = DefaultHasher::new();
        map.data.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn only_new_changed_and_deleted_objects_pass() {
        let mut changes = Changes::new(value);
        let mut touched = map("a", "1");
        touched.metadata.resource_version = Some("2".to_owned());
        // In the order they arrive, each with whether it passes.
        let events = [
            (watcher::Event::InitApply(map("a", "1")), true),
            (watcher::Event::Apply(touched), false),
            (watcher::Event::Apply(map("a", "2")), true),
            (watcher::Event::Apply(map("b", "2")), true),
            // Gone in the state already seen: still passes, and a re-creation counts as new.
            (watcher::Event::Delete(map("a", "2")), true),
            (watcher::Event::Apply(map("a", "2")), true),
            (watcher::Event::InitDone, false),
        ];
        for (step, (event, passes)) in events.into_iter().enumerate() {
            assert_eq!(changes.relevant(event).is_some(), passes, "event {step}");
        }
    }

    fn condition(status: &str, since: i64) -> Condition {
        Condition {
            type_: "Ready".to_owned(),
            status: status.to_owned(),
            reason: "Reconciled".to_owned(),
            message: String::new(),
            observed_generation: Some(1),
            last_transition_time: Time(Timestamp::from_second(since).unwrap_or_default()),
        }
    }

    #[test]
    fn a_childs_fingerprint_ignores_what_its_owner_does_not_read() {
        let child = map("a", "1");
        let ready = child_fingerprint(&child, &[condition("True", 1)], "198.18.0.1");
        // Another transition time, another data field: the same to the owner.
        assert_eq!(
            child_fingerprint(&map("a", "2"), &[condition("True", 9)], "198.18.0.1"),
            ready
        );
        assert_ne!(
            child_fingerprint(&child, &[condition("False", 1)], "198.18.0.1"),
            ready
        );
        assert_ne!(
            child_fingerprint(&child, &[condition("True", 1)], ""),
            ready
        );
        let mut deleting = child.clone();
        deleting.metadata.deletion_timestamp = Some(Time(Timestamp::UNIX_EPOCH));
        assert_ne!(
            child_fingerprint(&deleting, &[condition("True", 1)], "198.18.0.1"),
            ready
        );
    }

    #[test]
    fn a_services_status_wakes_none_of_its_controllers_but_its_declaration_does() {
        let service: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "ns", "annotations": {"a": "1"}},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}
        }))
        .unwrap_or_else(|e| unreachable!("{e}"));
        let mut with_status = service.clone();
        with_status.status = Some(
            serde_json::from_value(serde_json::json!({
                "loadBalancer": {"ingress": [{"ip": "198.18.0.9"}]}
            }))
            .unwrap_or_else(|e| unreachable!("{e}")),
        );
        assert_eq!(
            service_fingerprint(&with_status),
            service_fingerprint(&service)
        );
        assert_eq!(
            service_spec_fingerprint(&with_status),
            service_spec_fingerprint(&service)
        );

        let mut annotated = service.clone();
        annotated.metadata.annotations = Some([("a".to_owned(), "2".to_owned())].into());
        assert_ne!(
            service_fingerprint(&annotated),
            service_fingerprint(&service)
        );
        assert_eq!(
            service_spec_fingerprint(&annotated),
            service_spec_fingerprint(&service)
        );

        let mut local = service.clone();
        if let Some(spec) = local.spec.as_mut() {
            spec.external_traffic_policy = Some("Local".to_owned());
        }
        assert_ne!(
            service_spec_fingerprint(&local),
            service_spec_fingerprint(&service)
        );
        assert_ne!(service_fingerprint(&local), service_fingerprint(&service));
    }

    #[test]
    fn an_instance_wakes_its_dependents_only_when_its_load_balancer_is_placed() {
        let instance = |status: serde_json::Value| -> SlbInstance {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "slb.operator.dev/v1alpha1",
                "kind": "SlbInstance",
                "metadata": {"name": "lb", "namespace": "ns"},
                "spec": {},
                "status": status,
            }))
            .unwrap_or_else(|e| unreachable!("bad test instance: {e}"))
        };
        let pending = instance(serde_json::json!({"conditions": []}));
        let placed =
            instance(serde_json::json!({"loadBalancerId": "lb-1", "regionId": "cn-hangzhou"}));
        let placed_and_ready = instance(serde_json::json!({
            "loadBalancerId": "lb-1",
            "regionId": "cn-hangzhou",
            "address": "198.19.0.1",
        }));
        assert_ne!(
            placement_fingerprint(&pending),
            placement_fingerprint(&placed)
        );
        assert_eq!(
            placement_fingerprint(&placed),
            placement_fingerprint(&placed_and_ready)
        );

        let mut written = map("a", "1");
        written.metadata.resource_version = Some("7".to_owned());
        let mut rewritten = written.clone();
        rewritten.metadata.resource_version = Some("8".to_owned());
        assert_ne!(resource_version(&written), resource_version(&rewritten));
    }
}
