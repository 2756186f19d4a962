//! What the controllers need of the objects they read and write.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A namespaced Kubernetes object the controllers can read, write and watch.
pub trait NamespacedObject:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
}

impl<K> NamespacedObject for K where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug
        + Send
        + Sync
        + 'static
{
}

/// Identity of an object that the apiserver always sets.
pub struct ObjectKey {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub generation: Option<i64>,
}

impl ObjectKey {
    pub fn of<K: Resource>(object: &K) -> Result<Self> {
        let meta = object.meta();
        Ok(Self {
            name: meta
                .name
                .clone()
                .ok_or(Error::MissingObjectKey("metadata.name"))?,
            namespace: meta
                .namespace
                .clone()
                .ok_or(Error::MissingObjectKey("metadata.namespace"))?,
            uid: meta
                .uid
                .clone()
                .ok_or(Error::MissingObjectKey("metadata.uid"))?,
            generation: meta.generation,
        })
    }

    /// The default SLB display name: `<namespace>/<name>`, cut to the API's 80 characters.
    pub fn default_slb_name(&self) -> String {
        let mut name = format!("{}/{}", self.namespace, self.name);
        name.truncate(80);
        name
    }

    /// The SLB display name: the one the spec gives, else the default.
    pub fn slb_name(&self, spec_name: Option<&String>) -> String {
        spec_name
            .cloned()
            .unwrap_or_else(|| self.default_slb_name())
    }
}
