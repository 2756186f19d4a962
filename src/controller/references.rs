//! References between the custom resources (same namespace, by name): resolving them, placing an
//! SLB object in its region, and mapping a watched object back to the objects naming it.

use kube::api::ListParams;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource};

use super::object::NamespacedObject;
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

/// The region of an SLB object, found one way for every kind: the region its object recorded when
/// it placed it, else the region of the SlbInstance `instance_name` (see [`instance_region`], which
/// also holds once that instance is gone). Regions are immutable, so the first known is the one.
pub async fn placed_region(
    ctx: &Context,
    namespace: &str,
    recorded: Option<&String>,
    instance_name: &str,
) -> Result<String> {
    if let Some(region) = recorded {
        return Ok(region.clone());
    }
    let instance = find_instance(ctx, namespace, instance_name).await?;
    Ok(instance_region(
        instance.as_ref(),
        &ctx.config.default_region,
    ))
}

/// The object `name` in `namespace`, or ReferenceNotFound naming it as a `kind`.
pub async fn get_referenced<K>(
    ctx: &Context,
    namespace: &str,
    kind: &'static str,
    name: &str,
) -> Result<K>
where
    K: NamespacedObject,
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
/// ReferenceNotReady until it has a load balancer. An adopted one counts only once the instance
/// has recorded it, that is once its tags said it may be adopted: nothing is placed on a load
/// balancer the instance refused (NotOwned, Conflict).
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
        .ok_or(Error::ReferenceNotReady {
            kind: "SlbInstance",
            name: name.to_owned(),
        })?;
    Ok(LoadBalancerRef {
        load_balancer_id,
        region: instance_region(Some(&instance), &ctx.config.default_region),
    })
}

/// The fields of the CRDs' `selectableFields` by which the apiserver finds the objects that name
/// another: a reconcile lists the few that point at its object, not the whole namespace (at 1,000
/// listeners, listing them all in every group's reconcile kept the apiserver busy).
pub const INSTANCE_REF: &str = "spec.instanceRef.name";
pub const V_SERVER_GROUP_REF: &str = "spec.vServerGroupRef.name";
pub const LISTENER_REF: &str = "spec.listenerRef.name";

/// The list parameters of the objects whose `field` names `name`.
pub fn referring(field: &str, name: &str) -> ListParams {
    ListParams::default().fields(&format!("{field}={name}"))
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
}
