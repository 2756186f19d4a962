//! Prometheus metrics of the reconcilers, from one prometheus-client registry.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::error::Error;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: String,
    category: &'static str,
}

/// Counters and timings of reconciles, labelled by kind (and error category), never by object.
#[derive(Clone)]
pub struct Metrics {
    reconciles: Family<KindLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    durations: Family<KindLabels, Histogram>,
    events_failed: Family<KindLabels, Counter>,
    leader: Gauge,
}

impl Metrics {
    /// Creates the metrics and registers them under the `slb_operator` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let registry = registry.sub_registry_with_prefix("slb_operator");
        let metrics = Self {
            reconciles: Family::default(),
            errors: Family::default(),
            durations: Family::new_with_constructor(|| {
                Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
            }),
            events_failed: Family::default(),
            leader: Gauge::default(),
        };
        registry.register(
            "reconciles",
            "Reconciles started",
            metrics.reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Reconciles that failed, by error category",
            metrics.errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "How long reconciles take",
            metrics.durations.clone(),
        );
        registry.register(
            "events_failed",
            "Events the apiserver refused; reconciles go on without them",
            metrics.events_failed.clone(),
        );
        // A standby's scrape says what it is, where it would otherwise show no series at all.
        registry.register(
            "leader",
            "1 while this replica leads (holds the Lease, or runs without leader election), 0 while it stands by",
            metrics.leader.clone(),
        );
        metrics
    }

    /// Whether this replica leads (and reconciles) or stands by.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Counts a reconcile of `kind` and times it until the returned guard is dropped.
    pub fn reconcile_started(&self, kind: &str) -> ReconcileTimer {
        let labels = KindLabels {
            kind: kind.to_owned(),
        };
        self.reconciles.get_or_create(&labels).inc();
        ReconcileTimer {
            histogram: self.durations.get_or_create(&labels).clone(),
            started: Instant::now(),
        }
    }

    /// Counts a failed reconcile of `kind`.
    pub fn reconcile_failed(&self, kind: &str, error: &Error) {
        self.errors
            .get_or_create(&ErrorLabels {
                kind: kind.to_owned(),
                category: error.category(),
            })
            .inc();
    }

    /// Counts an Event about an object of `kind` that could not be published.
    pub fn event_failed(&self, kind: &str) {
        self.events_failed
            .get_or_create(&KindLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }
}

/// Observes the reconcile duration when dropped, so early returns are measured too.
pub struct ReconcileTimer {
    histogram: Histogram,
    started: Instant,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn reconciles_errors_and_leadership_are_exported_by_kind_and_category() {
        let mut registry = Registry::default();
        let metrics = Metrics::register(&mut registry);
        drop(metrics.reconcile_started("SlbInstance"));
        metrics.reconcile_failed("SlbInstance", &Error::InvalidSpec("bad".into()));
        metrics.event_failed("SlbListener");
        let mut standby = String::new();
        assert!(encode(&mut standby, &registry).is_ok());
        assert!(standby.contains("\nslb_operator_leader 0\n"), "{standby}");
        metrics.set_leader(true);
        let mut text = String::new();
        assert!(encode(&mut text, &registry).is_ok());
        assert!(
            text.contains(r#"slb_operator_reconciles_total{kind="SlbInstance"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"slb_operator_reconcile_errors_total{kind="SlbInstance",category="InvalidSpec"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("slb_operator_reconcile_duration_seconds_count{kind=\"SlbInstance\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(r#"slb_operator_events_failed_total{kind="SlbListener"} 1"#),
            "{text}"
        );
        assert!(text.contains("\nslb_operator_leader 1\n"), "{text}");
    }
}
