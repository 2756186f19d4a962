//! One adaptive token bucket: a configured rate (or none), lowered multiplicatively by each `Throttling`
//! answer and raised back additively while the service stops complaining (AIMD), so that the client
//! settles just under the limit the service really applies.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::time::Duration;
use tokio::time::Instant;

/// How a `Throttling` answer slows a bucket down, and how it recovers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveRate {
    /// The new rate is the rate achieved over the last second times this factor (0 < factor < 1).
    pub decrease_factor: f64,
    /// Further `Throttling` answers within this time of a decrease do not decrease again: they answer
    /// requests sent before it. The rate does not recover during this time either.
    pub hold: Duration,
    /// After `hold`, the rate grows by this fraction of its ceiling per second (the configured rate, or
    /// for an unlimited bucket the rate achieved before the decrease, after which it is unlimited again).
    pub recovery_per_second: f64,
    /// The rate never drops below this many requests per second.
    pub min_qps: f64,
}

impl Default for AdaptiveRate {
    fn default() -> Self {
        AdaptiveRate {
            decrease_factor: 0.5,
            hold: Duration::from_secs(1),
            recovery_per_second: 0.05,
            min_qps: 0.5,
        }
    }
}

/// The window over which the achieved rate is measured.
const WINDOW: Duration = Duration::from_secs(1);

/// Tokens are compared with this slack, so that float rounding cannot leave a waiter one nanosecond short.
const EPSILON: f64 = 1e-9;

#[derive(Debug)]
pub(crate) struct Bucket {
    /// The configured rate; `None` is unlimited.
    configured: Option<f64>,
    /// The rate in force (lowered after throttling); `None` is unlimited.
    rate: Option<f64>,
    /// What the rate recovers to.
    ceiling: f64,
    tokens: f64,
    updated: Instant,
    last_decrease: Option<Instant>,
    /// When the grants of the last [`WINDOW`] happened, to measure the achieved rate.
    recent: VecDeque<Instant>,
}

impl Bucket {
    /// A full bucket: one second's worth of tokens (at least one).
    pub(crate) fn new(qps: Option<NonZeroU32>, now: Instant) -> Self {
        let configured = qps.map(|qps| f64::from(qps.get()));
        Bucket {
            configured,
            rate: configured,
            ceiling: configured.unwrap_or(f64::INFINITY),
            tokens: configured.map_or(0.0, burst),
            updated: now,
            last_decrease: None,
            recent: VecDeque::new(),
        }
    }

    /// The rate in force, in requests per second; `None` is unlimited.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Brings the rate (recovery) and the tokens (refill) up to `now`.
    pub(crate) fn advance(&mut self, now: Instant, adaptive: Option<&AdaptiveRate>) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = now;
        let Some(rate) = self.rate else { return };
        self.tokens = (self.tokens + rate * elapsed).min(burst(rate));
        let (Some(adaptive), Some(decreased)) = (adaptive, self.last_decrease) else {
            return;
        };
        // Recovery counts only from the end of the hold, so the step covers the part of `elapsed` after it.
        let recovering_since = decreased + adaptive.hold;
        if now <= recovering_since {
            return;
        }
        let recovering = elapsed.min((now - recovering_since).as_secs_f64());
        let raised = rate + self.ceiling * adaptive.recovery_per_second * recovering;
        if raised < self.ceiling {
            self.rate = Some(raised);
        } else {
            self.rate = self.configured;
            self.last_decrease = None;
        }
    }

    /// When a token is (or will be) available, after [`Bucket::advance`] to `now`.
    pub(crate) fn ready_at(&self, now: Instant) -> Instant {
        match self.rate {
            Some(rate) if self.tokens + EPSILON < 1.0 => {
                now + Duration::from_secs_f64((1.0 - self.tokens) / rate)
            }
            _ => now,
        }
    }

    /// Takes a token; the caller has checked [`Bucket::ready_at`].
    pub(crate) fn take(&mut self, now: Instant) {
        if self.rate.is_some() {
            self.tokens -= 1.0;
        }
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) >= WINDOW)
        {
            self.recent.pop_front();
        }
    }

    /// The service answered `Throttling`: lower the rate below what was achieved, and stop the burst.
    /// Returns whether the rate was lowered (not within the hold of a previous decrease).
    pub(crate) fn throttled(&mut self, now: Instant, adaptive: &AdaptiveRate) -> bool {
        if self
            .last_decrease
            .is_some_and(|at| now.saturating_duration_since(at) < adaptive.hold)
        {
            return false;
        }
        let achieved = self
            .recent
            .iter()
            .filter(|&&at| now.saturating_duration_since(at) < WINDOW)
            .count() as f64;
        let before = self
            .rate
            .map_or(achieved, |rate| rate.min(achieved.max(1.0)));
        if self.configured.is_none() && self.rate.is_none() {
            self.ceiling = achieved.max(adaptive.min_qps);
        }
        let lowered = (before * adaptive.decrease_factor).max(adaptive.min_qps);
        self.rate = Some(lowered);
        self.tokens = 0.0;
        self.updated = now;
        self.last_decrease = Some(now);
        true
    }
}

/// One second's worth of tokens, at least one.
fn burst(rate: f64) -> f64 {
    rate.max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qps(n: u32) -> Option<NonZeroU32> {
        NonZeroU32::new(n)
    }

    /// Takes every token available at `now`, returning how many.
    fn drain(bucket: &mut Bucket, now: Instant) -> usize {
        let mut taken = 0;
        while bucket.ready_at(now) <= now {
            bucket.take(now);
            taken += 1;
        }
        taken
    }

    /// A bucket of `rate` made now, the time it was made, and the default adaptive settings.
    fn adaptive_bucket(rate: Option<NonZeroU32>) -> (Bucket, Instant, AdaptiveRate) {
        let start = Instant::now();
        (Bucket::new(rate, start), start, AdaptiveRate::default())
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(qps(10), start);
        assert_eq!(drain(&mut bucket, start), 10);
        assert_eq!(
            bucket.ready_at(start),
            start + Duration::from_millis(100),
            "one token per 100 ms"
        );
        let later = start + Duration::from_millis(350);
        bucket.advance(later, None);
        assert_eq!(drain(&mut bucket, later), 3);
    }

    #[test]
    fn an_unlimited_bucket_is_always_ready() {
        let start = Instant::now();
        let mut bucket = Bucket::new(None, start);
        for _ in 0..1000 {
            assert_eq!(bucket.ready_at(start), start);
            bucket.take(start);
        }
        assert_eq!(bucket.rate(), None);
    }

    #[test]
    fn throttling_halves_the_rate_once_per_hold_and_it_recovers_after() {
        let (mut bucket, start, adaptive) = adaptive_bucket(qps(20));
        assert_eq!(drain(&mut bucket, start), 20);
        assert!(bucket.throttled(start, &adaptive));
        assert_eq!(bucket.rate(), Some(10.0));
        // The answers to the other requests of the burst arrive within the hold: no further decrease.
        assert!(!bucket.throttled(start + Duration::from_millis(500), &adaptive));
        assert_eq!(bucket.rate(), Some(10.0));
        // The burst is gone: the next token comes at the lowered rate.
        assert_eq!(bucket.ready_at(start), start + Duration::from_millis(100));

        // No recovery during the hold; then 5% of 20 QPS per second.
        bucket.advance(start + Duration::from_secs(1), Some(&adaptive));
        assert_eq!(bucket.rate(), Some(10.0));
        bucket.advance(start + Duration::from_secs(3), Some(&adaptive));
        let rate = bucket.rate().unwrap_or_default();
        assert!((rate - 12.0).abs() < 1e-6, "{rate}");
        // Back at the configured rate, never above it.
        bucket.advance(start + Duration::from_secs(60), Some(&adaptive));
        assert_eq!(bucket.rate(), Some(20.0));
    }

    #[test]
    fn throttling_an_unlimited_bucket_limits_it_below_the_achieved_rate_for_a_while() {
        let (mut bucket, start, adaptive) = adaptive_bucket(None);
        for i in 0..40 {
            bucket.take(start + Duration::from_millis(i * 20));
        }
        let now = start + Duration::from_millis(800);
        assert!(bucket.throttled(now, &adaptive));
        assert_eq!(bucket.rate(), Some(20.0));
        bucket.advance(now + Duration::from_secs(60), Some(&adaptive));
        assert_eq!(bucket.rate(), None);
    }

    #[test]
    fn the_rate_never_drops_below_the_minimum() {
        let (mut bucket, start, adaptive) = adaptive_bucket(qps(1));
        for second in 0..10 {
            bucket.throttled(start + Duration::from_secs(second * 2), &adaptive);
        }
        assert_eq!(bucket.rate(), Some(adaptive.min_qps));
    }
}
