//! Fault injection: errors, hangs, latency and QPS limits (global, and per account and action family),
//! decided by a seeded RNG.

use std::collections::HashMap;
use std::time::Duration;

use crate::config::Faults;
use crate::error::{self, ApiError};
use crate::ids::SplitMix64;

/// What to do to one call.
#[derive(Debug, Default)]
pub struct Decision {
    pub latency: Duration,
    /// Answer with this error instead of processing the call.
    pub error: Option<ApiError>,
    /// Process the call, then hold the response this long.
    pub hang: Option<Duration>,
}

#[derive(Debug)]
pub struct FaultState {
    faults: Faults,
    rng: SplitMix64,
    window: Window,
    /// Per (account, action family): bounded by the accounts configured times the actions served.
    family_windows: HashMap<(String, &'static str), Window>,
}

/// Calls counted in the current one-second window.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    second: u64,
    calls: u32,
}

impl Window {
    /// Counts a call at `now_ms`; true when it is over `limit`.
    fn over(&mut self, now_ms: u64, limit: u32) -> bool {
        let second = now_ms / 1000;
        if second != self.second {
            *self = Window { second, calls: 0 };
        }
        self.calls = self.calls.saturating_add(1);
        self.calls > limit
    }
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        Self {
            rng: SplitMix64::new(faults.seed),
            faults,
            window: Window::default(),
            family_windows: HashMap::new(),
        }
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the faults and reseeds the RNG, so that a sequence of decisions is reproducible.
    pub fn set(&mut self, faults: Faults) {
        *self = Self::new(faults);
    }

    /// The fate of one call of `action`, of `family` (see `actions::rate_family`), by `account`.
    pub fn decide(
        &mut self,
        now_ms: u64,
        account: &str,
        action: &str,
        family: &'static str,
    ) -> Decision {
        let mut decision = Decision {
            latency: Duration::from_millis(self.faults.latency_ms),
            ..Decision::default()
        };
        let global = self
            .faults
            .qps_limit
            .is_some_and(|limit| self.window.over(now_ms, limit));
        let per_family = self.faults.qps_limit_per_action.is_some_and(|limit| {
            self.family_windows
                .entry((account.to_string(), family))
                .or_default()
                .over(now_ms, limit)
        });
        if global || per_family {
            decision.error = Some(error::THROTTLING);
            return decision;
        }
        let roll = self.rng.next_f64();
        let f = &self.faults;
        let thresholds = [
            (f.error_500_rate, error::INTERNAL_FAILURE),
            (f.error_503_rate, error::SERVICE_UNAVAILABLE),
            (
                f.processing_same_request_rate,
                error::PROCESSING_SAME_REQUEST,
            ),
        ];
        let mut cumulative = 0.0;
        for (rate, fault) in thresholds {
            cumulative += rate.max(0.0);
            if roll < cumulative {
                decision.error = Some(fault);
                return decision;
            }
        }
        let hung = &self.faults.hang_actions;
        let may_hang = hung.is_empty() || hung.iter().any(|hung| hung == action);
        if may_hang && self.faults.hang_rate > 0.0 && self.rng.next_f64() < self.faults.hang_rate {
            decision.hang = Some(Duration::from_millis(self.faults.hang_ms));
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangs_can_be_kept_to_some_actions() {
        let mut state = FaultState::new(Faults {
            hang_rate: 1.0,
            hang_actions: vec!["CreateRules".to_owned()],
            ..Faults::default()
        });
        let family = "CreateRules";
        assert!(state.decide(0, "a", "CreateRules", family).hang.is_some());
        assert!(state.decide(0, "a", "DescribeRules", family).hang.is_none());
        let mut everything = FaultState::new(Faults {
            hang_rate: 1.0,
            ..Faults::default()
        });
        assert!(
            everything
                .decide(0, "a", "DescribeRules", family)
                .hang
                .is_some()
        );
    }

    #[test]
    fn rates_and_limits() {
        let mut state = FaultState::new(Faults {
            error_503_rate: 1.0,
            ..Faults::default()
        });
        assert_eq!(
            state
                .decide(0, "a", "DescribeRegions", "DescribeRegions")
                .error,
            Some(error::SERVICE_UNAVAILABLE)
        );
        let mut state = FaultState::new(Faults {
            qps_limit: Some(2),
            ..Faults::default()
        });
        assert!(state.decide(1000, "a", "X", "X").error.is_none());
        assert!(state.decide(1001, "b", "Y", "Y").error.is_none());
        assert_eq!(
            state.decide(1002, "c", "Z", "Z").error,
            Some(error::THROTTLING)
        );
        assert!(state.decide(2000, "a", "X", "X").error.is_none());
        let mut none = FaultState::new(Faults::default());
        assert!((0..100).all(|_| none.decide(0, "a", "X", "X").error.is_none()));
    }

    #[test]
    fn per_family_limits_count_each_account_and_family_apart() {
        let mut state = FaultState::new(Faults {
            qps_limit_per_action: Some(2),
            ..Faults::default()
        });
        let throttled = |state: &mut FaultState, at, account, family| {
            state.decide(at, account, family, family).error == Some(error::THROTTLING)
        };
        assert!(!throttled(&mut state, 1000, "a", "X"));
        assert!(!throttled(&mut state, 1100, "a", "X"));
        assert!(throttled(&mut state, 1200, "a", "X"));
        assert!(!throttled(&mut state, 1300, "a", "Y"));
        assert!(!throttled(&mut state, 1400, "b", "X"));
        assert!(!throttled(&mut state, 2000, "a", "X"));
    }
}
