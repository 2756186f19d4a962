//! The operator's custom resources (and any object, for the generic ones): creating them, waiting on
//! their conditions, patching and deleting them.

use super::*;

/// Polls `probe` every 200 ms until it returns `Some`, or fails the test after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A custom resource of `kind` in `slb.operator.dev/v1alpha1`, from its spec.
pub fn object<K: serde::de::DeserializeOwned>(
    kind: &str,
    name: &str,
    spec: serde_json::Value,
) -> K {
    serde_json::from_value(json!({
        "apiVersion": "slb.operator.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }))
    .unwrap()
}

/// A custom resource of this operator: its status, once written, carries the conditions.
pub trait Conditioned:
    kube::Resource<DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + serde::Serialize
    + std::fmt::Debug
{
    /// The conditions, none before the first status.
    fn conditions(&self) -> Vec<Condition>;
}

/// One impl for every kind: their statuses differ but for the `conditions` field they all have.
macro_rules! conditioned {
    ($($kind:ty),*) => {$(
        impl Conditioned for $kind {
            fn conditions(&self) -> Vec<Condition> {
                self.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default()
            }
        }
    )*};
}

conditioned!(
    SlbInstance,
    SlbListener,
    SlbVServerGroup,
    SlbMasterSlaveServerGroup,
    SlbRule
);

/// Creates the custom resource `name` with `spec`, and returns it as the apiserver stored it.
pub async fn create<K: Conditioned>(api: &Api<K>, name: &str, spec: serde_json::Value) -> K {
    api.create(&PostParams::default(), &object(&K::kind(&()), name, spec))
        .await
        .unwrap()
}

/// Waits until `name` is Ready for its current generation.
pub async fn wait_ready<K: Conditioned>(api: &Api<K>, name: &str, timeout: Duration) -> K {
    eventually(&format!("{name} to be Ready"), timeout, || async {
        let object = api.get(name).await.ok()?;
        slb_operator::conditions::is_ready(&object.conditions(), object.meta().generation)
            .then_some(object)
    })
    .await
}

/// Waits until the Ready condition of `name` is one that `wanted` accepts, and returns it.
pub async fn wait_ready_condition<K: Conditioned>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    wanted: impl Fn(&Condition) -> bool,
) -> Condition {
    eventually(
        &format!("the Ready condition of {name}"),
        timeout,
        || async {
            let object = api.get(name).await.ok()?;
            object
                .conditions()
                .into_iter()
                .find(|c| c.type_ == "Ready" && wanted(c))
        },
    )
    .await
}

/// Waits until `name` is Ready=False with `reason`, and returns the condition's message.
pub async fn wait_not_ready<K: Conditioned>(
    api: &Api<K>,
    name: &str,
    reason: &str,
    timeout: Duration,
) -> String {
    wait_ready_condition(api, name, timeout, |c| {
        c.status == "False" && c.reason == reason
    })
    .await
    .message
}

/// Creates the SlbInstance `name` with `spec` and returns its load balancer ID once it is Ready.
pub async fn ready_instance(
    client: &Client,
    namespace: &str,
    name: &str,
    spec: serde_json::Value,
    timeout: Duration,
) -> String {
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    create(&api, name, spec).await;
    let ready = wait_ready(&api, name, timeout).await;
    ready.status.unwrap().load_balancer_id.unwrap()
}

/// Waits until `name` is gone from the apiserver.
pub async fn gone<K>(api: &Api<K>, name: &str, timeout: Duration)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    eventually(&format!("{name} to be gone"), timeout, || async {
        api.get_opt(name).await.unwrap().is_none().then_some(())
    })
    .await;
}

/// Deletes `name` and waits until it is gone (its finalizers done).
pub async fn delete_and_wait<K>(api: &Api<K>, name: &str, timeout: Duration)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.delete(name, &DeleteParams::default()).await.unwrap();
    gone(api, name, timeout).await;
}

/// Merge-patches `name` with `patch`.
pub async fn merge_patch<K>(api: &Api<K>, name: &str, patch: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap()
}

/// Merge-patches the spec of `name` with `spec`.
pub async fn patch_spec<K>(api: &Api<K>, name: &str, spec: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    merge_patch(api, name, json!({ "spec": spec })).await
}

/// Merge-patches the annotations of `name` with `annotations` (`null` removes one).
pub async fn patch_annotations<K>(api: &Api<K>, name: &str, annotations: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    merge_patch(api, name, json!({"metadata": {"annotations": annotations}})).await
}

/// The names of every `K` the API lists.
pub async fn names<K>(api: &Api<K>) -> Vec<String>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let listed = api.list(&kube::api::ListParams::default()).await.unwrap();
    listed
        .items
        .into_iter()
        .filter_map(|o| o.meta().name.clone())
        .collect()
}

/// Waits until the test's namespace holds no `K` at all.
pub async fn none_left<K>(api: &Api<K>, timeout: Duration)
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let what = format!("every {} to be gone", K::kind(&()));
    eventually(&what, timeout, || async {
        let listed = api.list(&kube::api::ListParams::default()).await.ok()?;
        listed.items.is_empty().then_some(())
    })
    .await;
}

/// Creates the object that `value` describes, and returns it as the apiserver stored it.
pub async fn create_object<K>(api: &Api<K>, value: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let object: K = serde_json::from_value(value).unwrap();
    api.create(&PostParams::default(), &object).await.unwrap()
}

/// Creates the SlbVServerGroup `name` on the instance `lb`, with the one backend i-0001:80, and
/// returns its ID once it is Ready.
pub async fn ready_one_backend_group(scene: &Scene, name: &str, timeout: Duration) -> String {
    let api: Api<SlbVServerGroup> = scene.api();
    let spec =
        json!({"instanceRef": {"name": "lb"}, "backends": [{"serverId": "i-0001", "port": 80}]});
    create(&api, name, spec).await;
    let ready = wait_ready(&api, name, timeout).await;
    ready.status.unwrap().v_server_group_id.unwrap()
}

/// Creates the HTTP SlbListener `http` on port 80 of the instance `lb`, sending its traffic to the
/// group `group`.
pub async fn create_http_listener(api: &Api<SlbListener>, group: &str) -> SlbListener {
    let spec = json!({"instanceRef": {"name": "lb"}, "listenerPort": 80, "protocol": "HTTP",
                      "backendServerPort": 80, "vServerGroupRef": {"name": group}});
    create(api, "http", spec).await
}
