//! The local control plane: a client of it, the CRDs installed, a namespace per test.

use super::*;

/// A client of the local control plane. Fails (never skips) when it is not there.
pub async fn cluster_client() -> Client {
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: run `hack/cluster.sh up` and `eval \"$(hack/cluster.sh env)\"` first"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::try_default()
        .await
        .expect("a client for the local control plane");
    client
        .apiserver_version()
        .await
        .expect("the local control plane answers");
    install_crds(&client).await;
    client
}

/// Applies the generated CRDs and waits until they are established.
async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds() {
        let name = crd.metadata.name.clone().expect("a CRD name");
        api.patch(
            &name,
            &PatchParams::apply("slb-operator-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .expect("the CRD applies");
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .expect("the CRD is established in time")
        .expect("the CRD can be watched");
    }
}

/// A fresh namespace, deleted when the returned guard is dropped... by the test calling `delete`.
pub struct TestNamespace {
    pub name: String,
    client: Client,
}

impl TestNamespace {
    pub async fn create(client: &Client, prefix: &str) -> Self {
        let name = format!(
            "{prefix}-{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..8)
                .unwrap_or("x")
        );
        let api: Api<Namespace> = Api::all(client.clone());
        api.create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
        )
        .await
        .expect("a test namespace");
        Self {
            name,
            client: client.clone(),
        }
    }

    pub async fn delete(self) {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let _ = api.delete(&self.name, &DeleteParams::default()).await;
    }
}
