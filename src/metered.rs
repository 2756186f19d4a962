//! An [`SlbApi`] that counts and times every call, by action and outcome, for `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use slb_api::*;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    action: &'static str,
    /// `ok`, or the error's category (`throttled`, `not_found`, `server`, ...).
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

/// Counters and timings of SLB API calls.
#[derive(Clone)]
pub struct SlbCallMetrics {
    calls: Family<CallLabels, Counter>,
    durations: Family<ActionLabels, Histogram>,
}

impl SlbCallMetrics {
    /// Creates the metrics and registers them under the `slb_operator_slb` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let registry = registry.sub_registry_with_prefix("slb_operator_slb");
        let metrics = Self {
            calls: Family::default(),
            durations: Family::new_with_constructor(|| {
                Histogram::new([
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
            }),
        };
        registry.register(
            "calls",
            "SLB API calls, by action and outcome",
            metrics.calls.clone(),
        );
        registry.register(
            "call_duration_seconds",
            "How long SLB API calls take, retries included",
            metrics.durations.clone(),
        );
        metrics
    }

    fn observe<T>(&self, action: &'static str, started: Instant, result: &Result<T, Error>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(error) => error.category().as_str(),
        };
        self.calls
            .get_or_create(&CallLabels { action, outcome })
            .inc();
        self.durations
            .get_or_create(&ActionLabels { action })
            .observe(started.elapsed().as_secs_f64());
    }
}

/// Wraps an [`SlbApi`] with [`SlbCallMetrics`].
pub struct Metered {
    inner: Arc<dyn SlbApi>,
    metrics: SlbCallMetrics,
}

impl Metered {
    pub fn new(inner: Arc<dyn SlbApi>, metrics: SlbCallMetrics) -> Self {
        Self { inner, metrics }
    }
}

/// Implements every method by timing the call of the inner client; slb-api's list of actions
/// drives it, so a new action is metered without a change here.
macro_rules! metered {
    ($($method:ident($request:ident),)+) => {
        #[async_trait]
        impl SlbApi for Metered {
            $(
                async fn $method(&self, request: &$request) -> Result<<$request as Action>::Response, Error> {
                    let started = Instant::now();
                    let result = self.inner.$method(request).await;
                    self.metrics.observe(<$request as Action>::NAME, started, &result);
                    result
                }
            )+
        }
    };
}

slb_api::for_each_action!(metered);

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[tokio::test]
    async fn calls_are_counted_by_action_and_outcome() {
        let mut registry = Registry::default();
        let metrics = SlbCallMetrics::register(&mut registry);
        let credentials = Credentials::new("id", "secret").unwrap_or_else(|e| unreachable!("{e}"));
        // Nothing listens on port 9 (discard) of loopback: the call fails fast, without retries.
        let mut config = ClientConfig::new("http://127.0.0.1:9", "cn-hangzhou", credentials);
        config.retry = RetryPolicy::none();
        let client = Client::new(config).unwrap_or_else(|e| unreachable!("{e}"));
        let metered = Metered::new(Arc::new(client), metrics);
        let request = DescribeLoadBalancersRequest::default();
        assert!(metered.describe_load_balancers(&request).await.is_err());

        let mut text = String::new();
        assert!(encode(&mut text, &registry).is_ok());
        assert!(
            text.contains(r#"slb_operator_slb_calls_total{action="DescribeLoadBalancers",outcome="transport"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"slb_operator_slb_call_duration_seconds_count{action="DescribeLoadBalancers"} 1"#
            ),
            "{text}"
        );
    }
}
