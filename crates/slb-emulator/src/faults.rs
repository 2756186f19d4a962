//! Fault injection: errors, hangs, latency and a QPS limit, decided by a seeded RNG.

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
    window_second: u64,
    window_calls: u32,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        Self {
            rng: SplitMix64::new(faults.seed),
            faults,
            window_second: 0,
            window_calls: 0,
        }
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the faults and reseeds the RNG, so that a sequence of decisions is reproducible.
    pub fn set(&mut self, faults: Faults) {
        *self = Self::new(faults);
    }

    pub fn decide(&mut self, now_ms: u64) -> Decision {
        let mut decision = Decision {
            latency: Duration::from_millis(self.faults.latency_ms),
            ..Decision::default()
        };
        if let Some(limit) = self.faults.qps_limit {
            let second = now_ms / 1000;
            if second != self.window_second {
                self.window_second = second;
                self.window_calls = 0;
            }
            self.window_calls = self.window_calls.saturating_add(1);
            if self.window_calls > limit {
                decision.error = Some(error::THROTTLING);
                return decision;
            }
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
        if self.faults.hang_rate > 0.0 && self.rng.next_f64() < self.faults.hang_rate {
            decision.hang = Some(Duration::from_millis(self.faults.hang_ms));
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_limits() {
        let mut state = FaultState::new(Faults {
            error_503_rate: 1.0,
            ..Faults::default()
        });
        assert_eq!(state.decide(0).error, Some(error::SERVICE_UNAVAILABLE));
        let mut state = FaultState::new(Faults {
            qps_limit: Some(2),
            ..Faults::default()
        });
        assert!(state.decide(1000).error.is_none());
        assert!(state.decide(1001).error.is_none());
        assert_eq!(state.decide(1002).error, Some(error::THROTTLING));
        assert!(state.decide(2000).error.is_none());
        let mut none = FaultState::new(Faults::default());
        assert!((0..100).all(|_| none.decide(0).error.is_none()));
    }
}
