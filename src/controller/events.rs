//! The one way the controllers publish Events. Publishing is best-effort: an Event the apiserver
//! refuses (a namespace being deleted refuses all new content) is logged and counted, and never
//! fails a reconcile or a cleanup.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Reporter};
use kube::{Client, Resource};

use crate::context::Context;

/// How long a published Event takes repeats into its series, as kube's recorder and client-go do.
const SERIES_WINDOW: SignedDuration = SignedDuration::from_mins(6);

/// Publishes Events (events.k8s.io/v1) as kube's `Recorder` does: the same Event repeated within
/// [`SERIES_WINDOW`] is counted in its series rather than created again. Unlike kube 5's recorder,
/// whose key leaves the note out (its documentation says it is in), an Event is the same only with
/// the same note, as in client-go: a Warning whose text changed is a new Event, not a count on
/// the old text.
pub struct Recorder {
    client: Client,
    reporter: Reporter,
    published: Mutex<HashMap<SeriesKey, K8sEvent>>,
}

/// What makes two Events one series.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    type_: EventType,
    reason: String,
    action: String,
    note: Option<String>,
    /// Kind, namespace, name and uid of the object; not its resourceVersion, which every write
    /// changes.
    regarding: [Option<String>; 4],
}

impl SeriesKey {
    fn of(event: &Event, regarding: &ObjectReference) -> Self {
        Self {
            type_: event.type_,
            reason: event.reason.clone(),
            action: event.action.clone(),
            note: event.note.clone(),
            regarding: [
                regarding.kind.clone(),
                regarding.namespace.clone(),
                regarding.name.clone(),
                regarding.uid.clone(),
            ],
        }
    }
}

impl Recorder {
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Self {
            client,
            reporter,
            published: Mutex::default(),
        }
    }

    /// Creates the Event about `regarding`, or counts it in the series of the same one published
    /// within [`SERIES_WINDOW`].
    pub async fn publish(
        &self,
        event: &Event,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let key = SeriesKey::of(event, regarding);
        let repeated = {
            let mut published = self.lock();
            published
                .retain(|_, earlier| last_seen(earlier).is_some_and(|at| at + SERIES_WINDOW > now));
            published.get(&key).cloned().map(|mut earlier| {
                let count = earlier.series.as_ref().map_or(2, |series| series.count + 1);
                earlier.series = Some(EventSeries {
                    count,
                    last_observed_time: MicroTime(now),
                });
                earlier
            })
        };
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let events: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        let written = match repeated {
            Some(repeated) => {
                let name = repeated.metadata.name.clone().unwrap_or_default();
                events
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&repeated))
                    .await?;
                repeated
            }
            None => {
                let created = self.new_event(event, regarding, now);
                events.create(&PostParams::default(), &created).await?;
                created
            }
        };
        self.lock().insert(key, written);
        Ok(())
    }

    fn new_event(&self, event: &Event, regarding: &ObjectReference, now: Timestamp) -> K8sEvent {
        let controller = &self.reporter.controller;
        K8sEvent {
            metadata: ObjectMeta {
                namespace: regarding.namespace.clone(),
                name: Some(format!(
                    "{}.{:x}",
                    regarding.name.as_deref().unwrap_or(controller),
                    now.as_nanosecond()
                )),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(now)),
            type_: Some(
                match event.type_ {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .to_owned(),
            ),
            reason: Some(event.reason.clone()),
            action: Some(event.action.clone()),
            note: event.note.clone(),
            regarding: Some(regarding.clone()),
            related: event.secondary.clone(),
            reporting_controller: Some(controller.clone()),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| controller.clone()),
            ),
            ..K8sEvent::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SeriesKey, K8sEvent>> {
        self.published
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// When `event` was last published: its series' last observation, else its creation.
fn last_seen(event: &K8sEvent) -> Option<Timestamp> {
    match &event.series {
        Some(series) => Some(series.last_observed_time.0),
        None => event.event_time.as_ref().map(|time| time.0),
    }
}

/// The note last published per object and reason, for Warnings said once per change rather than on
/// every reconcile: a reconcile can start from a cached object that does not show yet what the one
/// before it wrote.
#[derive(Default)]
pub struct Announced(Mutex<HashMap<(String, &'static str), String>>);

impl Announced {
    /// Records `note` for the object `uid` and `reason`; true when it differs from the last one.
    pub fn first_time(&self, uid: &str, reason: &'static str, note: &str) -> bool {
        let mut last = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let previous = last.insert((uid.to_owned(), reason), note.to_owned());
        previous.as_deref() != Some(note)
    }

    /// Forgets what was said about the object `uid` for `reason`.
    pub fn forget(&self, uid: &str, reason: &'static str) {
        let mut last = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        last.remove(&(uid.to_owned(), reason));
    }
}

/// Event notes are cut here, as the Events API limits them to 1 kB.
const MAX_NOTE_BYTES: usize = 1024;

/// Publishes a Normal Event about `object`.
pub async fn normal<K>(ctx: &Context, object: &K, reason: &str, note: impl Into<String>)
where
    K: Resource<DynamicType = ()>,
{
    publish(ctx, object, EventType::Normal, reason, reason, note.into()).await;
}

/// Publishes a Warning Event about `object`, from the reconcile that noticed the problem.
pub async fn warning<K>(ctx: &Context, object: &K, reason: &str, note: impl Into<String>)
where
    K: Resource<DynamicType = ()>,
{
    publish(
        ctx,
        object,
        EventType::Warning,
        reason,
        "Reconcile",
        note.into(),
    )
    .await;
}

async fn publish<K>(
    ctx: &Context,
    object: &K,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) where
    K: Resource<DynamicType = ()>,
{
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(truncate(note)),
        action: action.to_owned(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &object.object_ref(&())).await {
        ctx.metrics.event_failed(&K::kind(&()));
        tracing::debug!(%error, reason, "could not publish an Event");
    }
}

/// `note` cut to [`MAX_NOTE_BYTES`] on a character boundary, marked with an ellipsis when cut.
fn truncate(mut note: String) -> String {
    if note.len() > MAX_NOTE_BYTES {
        let mut end = MAX_NOTE_BYTES - 3;
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        note.truncate(end);
        note.push_str("...");
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The requests an apiserver saw: method, path and body.
    type Seen = std::sync::Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

    /// An apiserver that answers every request with its own body, and the requests it saw.
    fn echoing_apiserver() -> (Client, Seen) {
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let apiserver =
            tower::service_fn(move |request: axum::http::Request<kube::client::Body>| {
                let log = log.clone();
                async move {
                    let method = request.method().to_string();
                    let path = request.uri().path().to_owned();
                    let body = request.into_body().collect_bytes().await?;
                    let value: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or_default();
                    log.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((method, path, value));
                    Ok::<_, kube::Error>(axum::http::Response::new(kube::client::Body::from(
                        body.to_vec(),
                    )))
                }
            });
        (Client::new(apiserver, "default"), seen)
    }

    #[tokio::test]
    async fn a_repeat_counts_in_its_series_and_a_new_note_is_a_new_event() {
        let (client, seen) = echoing_apiserver();
        let recorder = Recorder::new(client, "slb-operator".into());
        let regarding = ObjectReference {
            kind: Some("Service".into()),
            namespace: Some("team-a".into()),
            name: Some("web".into()),
            uid: Some("u-1".into()),
            resource_version: Some("1".into()),
            ..ObjectReference::default()
        };
        let warning = |note: &str| Event {
            type_: EventType::Warning,
            reason: "UnsupportedAnnotation".into(),
            note: Some(note.into()),
            action: "Reconcile".into(),
            secondary: None,
        };
        recorder
            .publish(&warning("a ignored"), &regarding)
            .await
            .unwrap();
        // Another write of the object changes its resourceVersion, not which Event this is.
        let rewritten = ObjectReference {
            resource_version: Some("2".into()),
            ..regarding.clone()
        };
        recorder
            .publish(&warning("a ignored"), &rewritten)
            .await
            .unwrap();
        recorder
            .publish(&warning("a, b ignored"), &rewritten)
            .await
            .unwrap();

        let seen = seen.lock().unwrap().clone();
        let methods: Vec<&str> = seen.iter().map(|(method, _, _)| method.as_str()).collect();
        assert_eq!(methods, ["POST", "PATCH", "POST"]);
        let (_, first_path, first) = &seen[0];
        assert_eq!(
            first_path,
            "/apis/events.k8s.io/v1/namespaces/team-a/events"
        );
        assert_eq!(first["note"], "a ignored");
        assert_eq!(first["type"], "Warning");
        assert_eq!(first["reportingController"], "slb-operator");
        let (_, repeat_path, repeat) = &seen[1];
        let name = first["metadata"]["name"].as_str().unwrap();
        assert!(
            repeat_path.ends_with(&format!("/events/{name}")),
            "{repeat_path}"
        );
        assert_eq!(repeat["series"]["count"], 2);
        assert_eq!(seen[2].2["note"], "a, b ignored");
        assert!(seen[2].2["series"].is_null());
    }

    #[test]
    fn short_notes_are_kept_whole() {
        assert_eq!(truncate("created lb-1".into()), "created lb-1");
    }

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let note = "é".repeat(600);
        let cut = truncate(note);
        assert!(cut.len() <= MAX_NOTE_BYTES, "{}", cut.len());
        assert!(cut.ends_with("..."));
        assert!(cut.trim_end_matches("...").chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_note_is_announced_once_per_change() {
        let announced = Announced::default();
        assert!(announced.first_time("u1", "R", "a"));
        assert!(!announced.first_time("u1", "R", "a"));
        assert!(announced.first_time("u2", "R", "a"), "another object");
        assert!(announced.first_time("u1", "R", "b"), "a change");
        assert!(announced.first_time("u1", "R", "a"), "and back");
        announced.forget("u1", "R");
        assert!(announced.first_time("u1", "R", "a"));
    }
}
