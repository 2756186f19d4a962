//! The one way the controllers publish Events. Publishing is best-effort: an Event the apiserver
//! refuses (a namespace being deleted refuses all new content) is logged and counted, and never
//! fails a reconcile or a cleanup.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::Resource;
use kube::runtime::events::{Event, EventType};

use crate::context::Context;

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
