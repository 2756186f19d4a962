//! The namespaces the operator watches (`--watch-namespaces`): all of them, or a list. With a list,
//! every watch is one watcher per namespace, merged, so that the operator needs Roles in those
//! namespaces only and no cluster-wide grant on namespaced resources (Secrets above all).

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::stream::{self, BoxStream, StreamExt};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Client, Resource, ResourceExt};

use super::object::NamespacedObject;
use crate::context::Context;

/// Watch events, of one namespace or merged from several.
pub type Events<K> = BoxStream<'static, watcher::Result<Event<K>>>;

/// The APIs of `K` the operator may use: one per watched namespace, or one of all namespaces.
pub fn apis<K: NamespacedObject>(client: &Client, namespaces: &[String]) -> Vec<Api<K>> {
    if namespaces.is_empty() {
        return vec![Api::all(client.clone())];
    }
    namespaces
        .iter()
        .map(|namespace| Api::namespaced(client.clone(), namespace))
        .collect()
}

/// The events of `K` in the watched namespaces, for triggers (no store): each namespace's watcher
/// with its own backoff, so that one failing namespace does not hold back the others. With
/// `PartialObjectMeta<_>`, only metadata is requested.
pub fn watch<K: NamespacedObject>(ctx: &Context, config: watcher::Config) -> Events<K> {
    stream::select_all(
        apis::<K>(&ctx.client, &ctx.config.watch_namespaces)
            .into_iter()
            .map(|api| watcher(api, config.clone()).default_backoff().boxed()),
    )
    .boxed()
}

/// A store of `K` over the watched namespaces, and the events that fill it (already applied to it
/// as they pass).
pub fn reflect<K: NamespacedObject>(
    ctx: &Context,
    config: watcher::Config,
) -> (Store<K>, Events<K>) {
    let (reader, writer) = reflector::store();
    let namespaces = ctx.config.watch_namespaces.clone();
    let events = if namespaces.len() < 2 {
        watch(ctx, config)
    } else {
        let mut merge = Merge::new(&namespaces);
        let stored = reader.clone();
        stream::select_all(namespaces.into_iter().map(|namespace| {
            let api = Api::namespaced(ctx.client.clone(), &namespace);
            watcher(api, config.clone())
                .default_backoff()
                .map(move |event| (namespace.clone(), event))
                .boxed()
        }))
        .flat_map(move |(namespace, event)| {
            let events: Vec<_> = match event {
                Ok(event) => merge
                    .on(&namespace, event, || in_namespace(&stored, &namespace))
                    .into_iter()
                    .map(Ok)
                    .collect(),
                Err(error) => vec![Err(error)],
            };
            stream::iter(events)
        })
        .boxed()
    };
    (reader, events.reflect(writer).boxed())
}

/// The objects `store` holds in `namespace`.
fn in_namespace<K: NamespacedObject>(store: &Store<K>, namespace: &str) -> Vec<K> {
    store
        .state()
        .iter()
        .filter(|object| object.namespace().as_deref() == Some(namespace))
        .map(|object| K::clone(object))
        .collect()
}

/// Rewrites the watch events of several namespaces into one stream that a single reflector store
/// applies correctly. A store takes `Init` … `InitDone` as "this is everything there is", so one
/// namespace's listing cannot pass as it is: the first listings of all namespaces become a single
/// `Init` … `InitDone` once every namespace has listed (the controllers wait for it), and a later
/// listing of one namespace (its watch expired) becomes an `Apply` of each object it lists and a
/// `Delete` of each stored object of that namespace it no longer has.
struct Merge<K> {
    /// Until every namespace has listed once: each namespace's first listing.
    first: Option<BTreeMap<String, FirstListing<K>>>,
    /// Namespaces listing again, with what they have listed so far.
    relisting: HashMap<String, Vec<K>>,
}

/// A namespace's objects by name, as its first listing and the changes since have them.
struct FirstListing<K> {
    objects: BTreeMap<String, K>,
    complete: bool,
}

impl<K> FirstListing<K> {
    fn new() -> Self {
        Self {
            objects: BTreeMap::new(),
            complete: false,
        }
    }
}

impl<K: Resource + Clone> Merge<K> {
    fn new(namespaces: &[String]) -> Self {
        let first = namespaces
            .iter()
            .map(|namespace| (namespace.clone(), FirstListing::new()))
            .collect();
        Self {
            first: Some(first),
            relisting: HashMap::new(),
        }
    }

    /// The events to pass on for `event` of `namespace`; `stored` gives the objects of that
    /// namespace the store holds.
    fn on(
        &mut self,
        namespace: &str,
        event: Event<K>,
        stored: impl FnOnce() -> Vec<K>,
    ) -> Vec<Event<K>> {
        if let Some(first) = &mut self.first {
            let listing = first
                .entry(namespace.to_owned())
                .or_insert_with(FirstListing::new);
            match event {
                Event::Init => *listing = FirstListing::new(),
                Event::InitApply(object) | Event::Apply(object) => {
                    listing.objects.insert(object.name_any(), object);
                }
                Event::Delete(object) => {
                    listing.objects.remove(&object.name_any());
                }
                Event::InitDone => listing.complete = true,
            }
            if !first.values().all(|listing| listing.complete) {
                return Vec::new();
            }
            let everything = self
                .first
                .take()
                .into_iter()
                .flat_map(BTreeMap::into_values);
            return std::iter::once(Event::Init)
                .chain(
                    everything
                        .flat_map(|listing| listing.objects.into_values())
                        .map(Event::InitApply),
                )
                .chain(std::iter::once(Event::InitDone))
                .collect();
        }
        match event {
            Event::Apply(_) | Event::Delete(_) => vec![event],
            Event::Init => {
                self.relisting.insert(namespace.to_owned(), Vec::new());
                Vec::new()
            }
            Event::InitApply(object) => {
                self.relisting
                    .entry(namespace.to_owned())
                    .or_default()
                    .push(object);
                Vec::new()
            }
            Event::InitDone => {
                let listed = self.relisting.remove(namespace).unwrap_or_default();
                let names: HashSet<String> = listed.iter().map(ResourceExt::name_any).collect();
                let gone = stored()
                    .into_iter()
                    .filter(|object| !names.contains(&object.name_any()))
                    .map(Event::Delete);
                listed.into_iter().map(Event::Apply).chain(gone).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    fn object(namespace: &str, name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                namespace: Some(namespace.into()),
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Applies `events` to a store the way a reflector does, and returns what it holds.
    fn store_after(events: &[Event<ConfigMap>]) -> Vec<String> {
        let (reader, mut writer) = reflector::store::<ConfigMap>();
        for event in events {
            writer.apply_watcher_event(event);
        }
        let mut held: Vec<String> = reader
            .state()
            .iter()
            .map(|o| format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any()))
            .collect();
        held.sort();
        held
    }

    fn names(events: &[Event<ConfigMap>]) -> Vec<String> {
        events
            .iter()
            .map(|event| match event {
                Event::Init => "Init".to_owned(),
                Event::InitDone => "InitDone".to_owned(),
                Event::InitApply(o) => format!("InitApply {}", o.name_any()),
                Event::Apply(o) => format!("Apply {}", o.name_any()),
                Event::Delete(o) => format!("Delete {}", o.name_any()),
            })
            .collect()
    }

    #[test]
    fn the_first_listings_of_every_namespace_become_one() {
        let mut merge = Merge::new(&["a".into(), "b".into()]);
        let mut out = Vec::new();
        let mut feed = |ns: &str, event| merge.on(ns, event, Vec::new);
        out.extend(feed("a", Event::Init));
        out.extend(feed("a", Event::InitApply(object("a", "one"))));
        out.extend(feed("a", Event::InitDone));
        // A change in a namespace that has listed, while another still lists.
        out.extend(feed("a", Event::Apply(object("a", "two"))));
        out.extend(feed("b", Event::Init));
        out.extend(feed("b", Event::InitApply(object("b", "gone"))));
        // b's listing failed and starts over: what it listed so far no longer counts.
        out.extend(feed("b", Event::Init));
        out.extend(feed("b", Event::InitApply(object("b", "three"))));
        assert!(out.is_empty(), "nothing before every namespace listed");
        out.extend(feed("b", Event::InitDone));
        assert_eq!(
            names(&out),
            [
                "Init",
                "InitApply one",
                "InitApply two",
                "InitApply three",
                "InitDone"
            ]
        );
        assert_eq!(store_after(&out), ["a/one", "a/two", "b/three"]);
    }

    #[test]
    fn a_namespace_listing_again_leaves_the_others_in_the_store() {
        let mut merge = Merge::new(&["a".into(), "b".into()]);
        let mut events = Vec::new();
        for (ns, listed) in [("a", ["kept", "deleted"].as_slice()), ("b", &["other"])] {
            events.extend(merge.on(ns, Event::Init, Vec::new));
            for name in listed {
                events.extend(merge.on(ns, Event::InitApply(object(ns, name)), Vec::new));
            }
            events.extend(merge.on(ns, Event::InitDone, Vec::new));
        }
        assert_eq!(store_after(&events), ["a/deleted", "a/kept", "b/other"]);

        // a's watch expires and it lists again: "deleted" went while it was not watching.
        let stored_in_a = vec![object("a", "kept"), object("a", "deleted")];
        let mut relist = Vec::new();
        relist.extend(merge.on("a", Event::Init, Vec::new));
        relist.extend(merge.on("a", Event::InitApply(object("a", "kept")), Vec::new));
        relist.extend(merge.on("a", Event::InitApply(object("a", "new")), Vec::new));
        relist.extend(merge.on("a", Event::InitDone, || stored_in_a));
        assert_eq!(
            names(&relist),
            ["Apply kept", "Apply new", "Delete deleted"]
        );
        let mut all = events;
        all.extend(relist);
        assert_eq!(store_after(&all), ["a/kept", "a/new", "b/other"]);

        // Changes pass as they are.
        let change = merge.on("b", Event::Delete(object("b", "other")), Vec::new);
        assert_eq!(names(&change), ["Delete other"]);
    }
}
