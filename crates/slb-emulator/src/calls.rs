//! The call log and counters that tests and benchmarks read through the admin endpoint. Both stay bounded
//! whatever callers send: counters per action exist only for served actions, and the log is capped in records
//! and in bytes.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::actions;

/// One API call, as the admin endpoint reports it.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    pub sequence: u64,
    /// ISO 8601, UTC, when the answer was sent (whole seconds).
    pub time: String,
    /// When the call arrived, in milliseconds since the Unix epoch (before any added latency), so that
    /// benchmarks can time what happened before a call to the millisecond.
    pub arrived_ms: u64,
    /// The calling account's ID, or empty when authentication failed before it was known.
    pub account: String,
    pub action: String,
    /// The call's own parameters; common and secret ones are left out.
    pub parameters: BTreeMap<String, String>,
    /// `OK` or the error code.
    pub code: String,
    pub http_status: u16,
    pub latency_ms: f64,
    /// A successful call that changed state.
    pub write: bool,
}

/// Bytes a record is counted as: its text plus a fixed allowance for the struct and map nodes.
fn record_bytes(record: &CallRecord) -> usize {
    const OVERHEAD: usize = 160;
    const PER_PARAMETER: usize = 64;
    OVERHEAD
        + record.time.len()
        + record.account.len()
        + record.action.len()
        + record.code.len()
        + record
            .parameters
            .iter()
            .map(|(k, v)| PER_PARAMETER + k.len() + v.len())
            .sum::<usize>()
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counters {
    pub calls: u64,
    pub writes: u64,
    pub errors: u64,
    /// Calls per served action (canonical name); calls naming no served action are only in `calls`.
    pub by_action: BTreeMap<String, u64>,
    /// Successful state-changing calls per action.
    pub writes_by_action: BTreeMap<String, u64>,
    /// Calls per result code (`OK` or one of the emulator's own error codes, a fixed set).
    pub by_code: BTreeMap<String, u64>,
    /// Calls per served action whose answer a hang fault held. Their effect is counted here when
    /// it happens: a client that gives up leaves the call out of the log, yet it took effect.
    pub hung_by_action: BTreeMap<String, u64>,
}

#[derive(Debug)]
pub struct CallLog {
    records: VecDeque<(CallRecord, usize)>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    next_sequence: u64,
    counters: Counters,
}

impl CallLog {
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            records: VecDeque::new(),
            capacity,
            max_bytes,
            bytes: 0,
            next_sequence: 1,
            counters: Counters::default(),
        }
    }

    pub fn push(&mut self, mut record: CallRecord) {
        record.sequence = self.next_sequence;
        self.next_sequence += 1;
        self.counters.calls += 1;
        if record.code != "OK" {
            self.counters.errors += 1;
        }
        if let Some(action) = actions::canonical_action(&record.action) {
            *self.counters.by_action.entry(action.into()).or_default() += 1;
            if record.write {
                self.counters.writes += 1;
                *self
                    .counters
                    .writes_by_action
                    .entry(action.into())
                    .or_default() += 1;
            }
        }
        *self
            .counters
            .by_code
            .entry(record.code.clone())
            .or_default() += 1;
        if self.capacity == 0 {
            return;
        }
        let size = record_bytes(&record);
        self.records.push_back((record, size));
        self.bytes += size;
        while self.records.len() > self.capacity || self.bytes > self.max_bytes {
            match self.records.pop_front() {
                Some((_, dropped)) => self.bytes -= dropped,
                None => break,
            }
        }
    }

    /// Records after `since` (a sequence number), optionally of one action.
    pub fn records(&self, since: u64, action: Option<&str>) -> Vec<CallRecord> {
        self.records
            .iter()
            .map(|(r, _)| r)
            .filter(|r| r.sequence > since && action.is_none_or(|a| a == r.action))
            .cloned()
            .collect()
    }

    /// Counts a call of `action` (a served action) whose answer a hang fault holds.
    pub fn count_hang(&mut self, action: &str) {
        *self
            .counters
            .hung_by_action
            .entry(action.to_owned())
            .or_default() += 1;
    }

    pub fn counters(&self) -> Counters {
        self.counters.clone()
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.bytes = 0;
        self.counters = Counters::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str, value_len: usize) -> CallRecord {
        CallRecord {
            sequence: 0,
            time: String::new(),
            arrived_ms: 0,
            account: String::new(),
            action: action.to_string(),
            parameters: BTreeMap::from([("P".to_string(), "x".repeat(value_len))]),
            code: "OK".to_string(),
            http_status: 200,
            latency_ms: 0.0,
            write: true,
        }
    }

    #[test]
    fn unknown_actions_create_no_counters() {
        let mut log = CallLog::new(10, 1 << 20);
        for i in 0..100 {
            log.push(record(&format!("Made-Up-{i}"), 1));
        }
        log.push(record("CreateLoadBalancer", 1));
        let counters = log.counters();
        assert_eq!(counters.calls, 101);
        assert_eq!(counters.writes, 1);
        assert_eq!(counters.by_action.len(), 1);
        assert_eq!(counters.writes_by_action.len(), 1);
    }

    #[test]
    fn the_log_is_capped_in_records_and_bytes() {
        let mut log = CallLog::new(5, 1 << 20);
        (0..20).for_each(|_| log.push(record("DescribeRegions", 1)));
        assert_eq!(log.records(0, None).len(), 5);
        assert_eq!(log.records(0, None)[0].sequence, 16);

        let mut log = CallLog::new(1000, 10_000);
        (0..100).for_each(|_| log.push(record("DescribeRegions", 1000)));
        let kept = log.records(0, None);
        assert!((5..=9).contains(&kept.len()), "{}", kept.len());
        assert!(log.bytes <= 10_000);
        // A record larger than the whole budget is not kept at all.
        log.push(record("DescribeRegions", 20_000));
        assert!(log.records(0, None).is_empty());
        assert_eq!(log.bytes, 0);
    }
}
