//! Client-side flow control of one account: a token bucket per action (SLB's quotas are per API
//! operation and account), an optional cap on the account's calls together, priorities, and adaptation
//! to `Throttling` answers.
//!
//! A [`RateLimiter`] paces the calls of one AccessKeyId. [`RateLimiters`] hands out one per AccessKeyId, so
//! that every [`crate::Client`] of an account (one per region) draws from the same buckets: give the same
//! `RateLimiters` to each client's [`crate::ClientConfig::rate_limiters`].
//!
//! **Priorities.** When calls wait for a token, writes go first ([`Priority::High`]), then describes
//! ([`Priority::Normal`]), then describes made inside [`background`] ([`Priority::Background`]). Wrap a
//! periodic resync in `background(...)` to let the writes of other reconciles overtake its describes; the
//! calls inside need no change. The scope is a tokio task-local: it covers the future it wraps (including
//! futures it joins), not tasks that future spawns.
//!
//! **Throttling.** A `Throttling` answer lowers the rate of the action's bucket (`Throttling.User`,
//! `Throttling.Api`: the action's quota) or of the action's and the account's buckets (any other
//! `Throttling` code), see [`AdaptiveRate`]. Retries wait for a token like any call.

mod bucket;

pub use bucket::AdaptiveRate;

use crate::config::RateLimits;
use bucket::Bucket;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Which waiting call gets the next token first; higher goes first, equal ones in arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// Describes made inside [`background`]: periodic resyncs.
    Background,
    /// Describes.
    Normal,
    /// Writes: creates, changes, deletes.
    High,
}

impl Priority {
    /// The priority of a call of `action` made in the current task: writes are [`Priority::High`];
    /// describes are [`Priority::Normal`], or [`Priority::Background`] inside [`background`].
    pub fn of(action: &str) -> Priority {
        if !action.starts_with("Describe") {
            Priority::High
        } else if BACKGROUND.try_with(|_| ()).is_ok() {
            Priority::Background
        } else {
            Priority::Normal
        }
    }
}

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `future` with its describes at [`Priority::Background`], behind the describes and writes of
/// everything else. Its writes keep [`Priority::High`].
pub async fn background<F: Future>(future: F) -> F::Output {
    BACKGROUND.scope((), future).await
}

/// Which bucket a `Throttling` answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// The action's quota (`Throttling.User`, `Throttling.Api`).
    Action,
    /// Unknown (`Throttling` and other codes): the action's and the account's.
    ActionAndAccount,
}

impl ThrottleScope {
    /// The scope of an error code, or `None` when it is not a throttling code.
    pub fn of_code(code: &str) -> Option<ThrottleScope> {
        match code {
            "Throttling.User" | "Throttling.Api" => Some(ThrottleScope::Action),
            "Throttling" => Some(ThrottleScope::ActionAndAccount),
            _ if code.starts_with("Throttling.") => Some(ThrottleScope::ActionAndAccount),
            _ => None,
        }
    }
}

/// The flow control of one account. Cheap to clone; clones share the buckets.
#[derive(Clone)]
pub struct RateLimiter {
    shared: Arc<Shared>,
}

struct Shared {
    limits: RateLimits,
    state: Mutex<State>,
}

struct State {
    actions: HashMap<&'static str, Bucket>,
    account: Bucket,
    /// Waiting calls, in the order they get tokens.
    waiters: BTreeMap<(Reverse<Priority>, u64), Waiter>,
    next_seq: u64,
    granted: u64,
    throttled: u64,
}

struct Waiter {
    action: &'static str,
    grant: oneshot::Sender<()>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        let account = Bucket::new(limits.account_qps, Instant::now());
        RateLimiter {
            shared: Arc::new(Shared {
                limits,
                state: Mutex::new(State {
                    actions: HashMap::new(),
                    account,
                    waiters: BTreeMap::new(),
                    next_seq: 0,
                    granted: 0,
                    throttled: 0,
                }),
            }),
        }
    }

    pub fn limits(&self) -> &RateLimits {
        &self.shared.limits
    }

    /// Whether `self` and `other` share their buckets.
    pub fn same_as(&self, other: &RateLimiter) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until a call of `action` may be sent, behind the waiting calls of higher priority.
    pub async fn acquire(&self, action: &'static str, priority: Priority) {
        let (grant, mut granted) = oneshot::channel();
        let key = {
            let mut state = self.lock();
            let key = (Reverse(priority), state.next_seq);
            state.next_seq += 1;
            state.waiters.insert(key, Waiter { action, grant });
            key
        };
        // Leaves the queue if this future is dropped while waiting.
        let _queued = Queued { limiter: self, key };
        loop {
            let deadline = {
                let mut state = self.lock();
                let now = Instant::now();
                state.pump(now, &self.shared.limits);
                if granted.try_recv().is_ok() {
                    return;
                }
                state.next_ready(now)
            };
            tokio::select! {
                _ = &mut granted => return,
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Tells the limiter that a call of `action` was answered `Throttling` (see [`ThrottleScope`]); with
    /// [`RateLimits::adaptive`] set, the buckets concerned slow down.
    pub fn throttled(&self, action: &'static str, scope: ThrottleScope) {
        let limits = &self.shared.limits;
        let mut state = self.lock();
        state.throttled += 1;
        let Some(adaptive) = &limits.adaptive else {
            return;
        };
        let now = Instant::now();
        let decreased = state.bucket(action, limits, now).throttled(now, adaptive);
        if scope == ThrottleScope::ActionAndAccount {
            state.account.advance(now, Some(adaptive));
            state.account.throttled(now, adaptive);
        }
        if decreased {
            let rate = state.bucket(action, limits, now).rate();
            tracing::debug!(action, ?scope, ?rate, "throttled: slowing down");
        }
    }

    /// The rate in force for `action` (requests per second, `None` = unlimited).
    pub fn action_rate(&self, action: &'static str) -> Option<f64> {
        let limits = &self.shared.limits;
        let mut state = self.lock();
        let now = Instant::now();
        state.bucket(action, limits, now).rate()
    }

    /// The rate in force for the account's calls together (`None` = unlimited).
    pub fn account_rate(&self) -> Option<f64> {
        let mut state = self.lock();
        state
            .account
            .advance(Instant::now(), self.shared.limits.adaptive.as_ref());
        state.account.rate()
    }

    /// Calls let through, and `Throttling` answers reported, since the limiter was made.
    pub fn counts(&self) -> (u64, u64) {
        let state = self.lock();
        (state.granted, state.throttled)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every await point, so a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// The bucket of `action`, made on first use and brought up to `now`.
    fn bucket(&mut self, action: &'static str, limits: &RateLimits, now: Instant) -> &mut Bucket {
        let bucket = self
            .actions
            .entry(action)
            .or_insert_with(|| Bucket::new(limits.qps(action), now));
        bucket.advance(now, limits.adaptive.as_ref());
        bucket
    }

    /// Grants tokens to waiters in priority order while the buckets allow. A waiter whose action has no
    /// token lets the next one through; when the account has none, nobody goes.
    fn pump(&mut self, now: Instant, limits: &RateLimits) {
        self.account.advance(now, limits.adaptive.as_ref());
        let mut ready = Vec::new();
        for (key, waiter) in &self.waiters {
            if self.account.ready_at(now) > now {
                break;
            }
            let bucket = self
                .actions
                .entry(waiter.action)
                .or_insert_with(|| Bucket::new(limits.qps(waiter.action), now));
            bucket.advance(now, limits.adaptive.as_ref());
            if bucket.ready_at(now) <= now {
                bucket.take(now);
                self.account.take(now);
                ready.push(*key);
            }
        }
        for key in ready {
            if let Some(waiter) = self.waiters.remove(&key) {
                self.granted += 1;
                // A waiter that went away meanwhile only wastes its token.
                let _ = waiter.grant.send(());
            }
        }
    }

    /// When the next waiter can be let through (a token of its action and of the account).
    fn next_ready(&self, now: Instant) -> Instant {
        let account = self.account.ready_at(now);
        self.waiters
            .values()
            .filter_map(|waiter| self.actions.get(waiter.action))
            .map(|bucket| bucket.ready_at(now).max(account))
            .min()
            .unwrap_or(account)
    }
}

/// Removes a waiter from the queue when its `acquire` ends, granted or dropped.
struct Queued<'a> {
    limiter: &'a RateLimiter,
    key: (Reverse<Priority>, u64),
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.limiter.lock().waiters.remove(&self.key);
    }
}

/// One [`RateLimiter`] per AccessKeyId, all with the same [`RateLimits`]. Cheap to clone; clones share the
/// limiters.
#[derive(Clone, Debug)]
pub struct RateLimiters {
    limits: RateLimits,
    by_account: Arc<Mutex<HashMap<String, RateLimiter>>>,
}

impl RateLimiters {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiters {
            limits,
            by_account: Arc::default(),
        }
    }

    /// The limiter of the account `access_key_id`, made on first use.
    pub fn for_account(&self, access_key_id: &str) -> RateLimiter {
        let mut by_account = self
            .by_account
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        by_account
            .entry(access_key_id.to_owned())
            .or_insert_with(|| RateLimiter::new(self.limits.clone()))
            .clone()
    }
}

#[cfg(test)]
mod tests;
