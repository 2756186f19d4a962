//! The call log and counters that tests and benchmarks read through the admin endpoint.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// One API call, as the admin endpoint reports it.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    pub sequence: u64,
    /// ISO 8601, UTC.
    pub time: String,
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

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counters {
    pub calls: u64,
    pub writes: u64,
    pub errors: u64,
    pub by_action: BTreeMap<String, u64>,
    /// Successful state-changing calls per action.
    pub writes_by_action: BTreeMap<String, u64>,
    pub by_code: BTreeMap<String, u64>,
}

#[derive(Debug)]
pub struct CallLog {
    records: VecDeque<CallRecord>,
    capacity: usize,
    next_sequence: u64,
    counters: Counters,
}

impl CallLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            records: VecDeque::new(),
            capacity,
            next_sequence: 1,
            counters: Counters::default(),
        }
    }

    pub fn push(&mut self, mut record: CallRecord) {
        record.sequence = self.next_sequence;
        self.next_sequence += 1;
        self.counters.calls += 1;
        if record.write {
            self.counters.writes += 1;
            *self
                .counters
                .writes_by_action
                .entry(record.action.clone())
                .or_default() += 1;
        }
        if record.code != "OK" {
            self.counters.errors += 1;
        }
        *self
            .counters
            .by_action
            .entry(record.action.clone())
            .or_default() += 1;
        *self
            .counters
            .by_code
            .entry(record.code.clone())
            .or_default() += 1;
        if self.capacity == 0 {
            return;
        }
        if self.records.len() == self.capacity {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// Records after `since` (a sequence number), optionally of one action.
    pub fn records(&self, since: u64, action: Option<&str>) -> Vec<CallRecord> {
        self.records
            .iter()
            .filter(|r| r.sequence > since && action.is_none_or(|a| a == r.action))
            .cloned()
            .collect()
    }

    pub fn counters(&self) -> Counters {
        self.counters.clone()
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.counters = Counters::default();
    }
}
