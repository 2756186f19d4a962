//! References between the custom resources (same namespace, by name): resolving them, reporting a
//! missing one in the Ready condition, and mapping a watched object back to the objects naming it.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Conditioned, resync, write_outcome};
use crate::conditions::{DesiredCondition, Reason};
use crate::context::Context;
use crate::crd::SlbInstance;
use crate::error::{Error, Result};

/// Where an SlbInstance's load balancer lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancerRef {
    pub load_balancer_id: String,
    pub region: String,
}

/// The region of an SlbInstance's load balancer: recorded at creation, else the spec's, else the
/// default (also once the instance is gone).
pub fn instance_region(instance: Option<&SlbInstance>, default_region: &str) -> String {
    instance
        .and_then(|i| {
            let recorded = i.status.as_ref().and_then(|s| s.region_id.clone());
            recorded.or_else(|| i.spec.region_id.clone())
        })
        .unwrap_or_else(|| default_region.to_owned())
}

/// The object `name` in `namespace`, or ReferenceNotFound naming it as a `kind`.
pub async fn get_referenced<K>(
    ctx: &Context,
    namespace: &str,
    kind: &'static str,
    name: &str,
) -> Result<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    api.get_opt(name).await?.ok_or(Error::ReferenceNotFound {
        kind,
        name: name.to_owned(),
    })
}

/// The SlbInstance `name` in `namespace`, or ReferenceNotFound.
pub async fn get_instance(ctx: &Context, namespace: &str, name: &str) -> Result<SlbInstance> {
    get_referenced(ctx, namespace, "SlbInstance", name).await
}

/// The SlbInstance `name` in `namespace`, or `None` once it is gone: a cleanup goes on without it.
pub async fn find_instance(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<Option<SlbInstance>> {
    let api: Api<SlbInstance> = Api::namespaced(ctx.client.clone(), namespace);
    Ok(api.get_opt(name).await?)
}

/// The load balancer of the SlbInstance `name`: ReferenceNotFound while the object is missing,
/// ReferenceNotReady until it has a load balancer.
pub async fn load_balancer_of(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Result<LoadBalancerRef> {
    let instance = get_instance(ctx, namespace, name).await?;
    let load_balancer_id = instance
        .status
        .as_ref()
        .and_then(|s| s.load_balancer_id.clone())
        .or_else(|| instance.spec.load_balancer_id.clone())
        .ok_or(Error::ReferenceNotReady {
            kind: "SlbInstance",
            name: name.to_owned(),
        })?;
    Ok(LoadBalancerRef {
        load_balancer_id,
        region: instance_region(Some(&instance), &ctx.config.default_region),
    })
}

/// Shows an error that only a change to the spec or to a reference can fix in the Ready condition,
/// then returns what the reconcile returns; any other error is returned as it is.
pub async fn report_blocked<K>(ctx: &Context, object: &K, error: Error) -> Result<Action>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + HasStatus
        + Clone
        + DeserializeOwned
        + Debug,
    K::Status: Conditioned + Clone + Default + Serialize + PartialEq,
{
    let Some(condition) = blocked_condition(&error) else {
        return Err(error);
    };
    let status = object.status().cloned().unwrap_or_default();
    write_outcome(ctx, object, status, condition).await?;
    after_blocked(error, resync(ctx.config.resync_period))
}

/// The Ready condition for an error that only a change to the spec or to a reference can fix, or
/// `None` for any other error.
fn blocked_condition(error: &Error) -> Option<DesiredCondition> {
    let reason = match error {
        Error::ReferenceNotFound { .. } => Reason::ReferenceNotFound,
        Error::ReferenceNotReady { .. } => Reason::ReferenceNotReady,
        Error::InvalidSpec(_) | Error::NotOwned { .. } => Reason::ReconcileError,
        _ => return None,
    };
    Some(DesiredCondition::ready(false, reason, error.to_string()))
}

/// What a reconcile returns once the condition of a blocked error is written: a missing reference
/// waits quietly for its watch; anything else goes on to the error policy, which publishes a Warning.
fn after_blocked(error: Error, resync: Action) -> Result<Action> {
    match error {
        Error::ReferenceNotFound { .. } | Error::ReferenceNotReady { .. } => Ok(resync),
        error => Err(error),
    }
}

/// The objects in `store` in the namespace of `watched` that satisfy `names_it`: a watch mapper.
pub fn referencing<K, W>(
    store: &Store<K>,
    watched: &W,
    names_it: impl Fn(&K) -> bool,
) -> Vec<ObjectRef<K>>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
    W: Resource,
{
    let namespace = watched.meta().namespace.as_deref();
    matching(store, |object| {
        object.meta().namespace.as_deref() == namespace && names_it(object)
    })
}

/// The objects in `store` that satisfy `selected`, in any namespace.
pub fn matching<K>(store: &Store<K>, selected: impl Fn(&K) -> bool) -> Vec<ObjectRef<K>>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    store
        .state()
        .iter()
        .filter(|object| selected(object))
        .map(|object| ObjectRef::from_obj(object.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(spec_region: Option<&str>, status_region: Option<&str>) -> SlbInstance {
        let spec = serde_json::json!({"regionId": spec_region});
        let spec = serde_json::from_value(spec).unwrap_or_else(|e| unreachable!("{e}"));
        let mut instance = SlbInstance::new("web", spec);
        if let Some(region) = status_region {
            instance.status = Some(crate::crd::SlbInstanceStatus {
                region_id: Some(region.to_owned()),
                ..Default::default()
            });
        }
        instance
    }

    #[test]
    fn the_region_recorded_at_creation_wins_then_the_spec_then_the_default() {
        let both = instance(Some("cn-beijing"), Some("cn-shanghai"));
        assert_eq!(instance_region(Some(&both), "cn-hangzhou"), "cn-shanghai");
        let spec_only = instance(Some("cn-beijing"), None);
        assert_eq!(
            instance_region(Some(&spec_only), "cn-hangzhou"),
            "cn-beijing"
        );
        assert_eq!(
            instance_region(Some(&instance(None, None)), "cn-hangzhou"),
            "cn-hangzhou"
        );
        assert_eq!(instance_region(None, "cn-hangzhou"), "cn-hangzhou");
    }

    #[test]
    fn missing_references_wait_quietly_and_bad_specs_are_reported() {
        let missing = Error::ReferenceNotFound {
            kind: "SlbInstance",
            name: "web".into(),
        };
        let condition = blocked_condition(&missing);
        assert_eq!(condition.map(|c| c.reason), Some(Reason::ReferenceNotFound));
        assert!(after_blocked(missing, Action::await_change()).is_ok());

        let invalid = Error::InvalidSpec("no nodePort".into());
        let condition = blocked_condition(&invalid);
        assert_eq!(
            condition.as_ref().map(|c| (c.status, c.reason)),
            Some((false, Reason::ReconcileError))
        );
        assert!(condition.is_some_and(|c| c.message.contains("no nodePort")));
        assert!(after_blocked(invalid, Action::await_change()).is_err());

        let transient = Error::DependentsExist("a rule".into());
        assert_eq!(blocked_condition(&transient), None);
    }
}
