//! Client configuration: where to send requests, as whom, and how patiently.

use crate::credentials::Credentials;
use crate::limiter::{AdaptiveRate, RateLimiters};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

/// The public endpoint of the classic SLB API.
pub const DEFAULT_ENDPOINT: &str = "https://slb.aliyuncs.com";

/// How parameters travel: in the query string (GET) or in a form body (POST). Both are signed with their
/// own method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMethod {
    Get,
    #[default]
    Post,
}

impl HttpMethod {
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// The `Format` requested from the service. Responses are decoded by their content either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    #[default]
    Json,
    Xml,
}

impl ResponseFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            ResponseFormat::Json => "JSON",
            ResponseFormat::Xml => "XML",
        }
    }
}

/// Bounded retries with exponential backoff and jitter, for errors the reference says to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Backoff before the first retry; it doubles per retry up to `max_backoff`, with jitter.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// No retry starts later than this after the first attempt began.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub const fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            max_elapsed: Duration::ZERO,
        }
    }
}

/// Client-side token-bucket limits in requests per second (burst = one second's worth). SLB's quotas are
/// per API operation and account, so each action has its own bucket; see [`crate::RateLimiter`].
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// The limit of each action without an entry in `per_action`; `None` means unlimited.
    pub per_action_qps: Option<NonZeroU32>,
    /// Limits of single actions, by name (`"DescribeLoadBalancers"`).
    pub per_action: BTreeMap<String, NonZeroU32>,
    /// A cap on all the account's calls together, for an account that other tools use too; `None`
    /// means no cap.
    pub account_qps: Option<NonZeroU32>,
    /// How `Throttling` answers slow the buckets down; `None` keeps the rates fixed.
    pub adaptive: Option<AdaptiveRate>,
}

impl Default for RateLimits {
    /// 20 calls per second per action, no account cap, adaptive.
    fn default() -> Self {
        RateLimits {
            per_action_qps: NonZeroU32::new(20),
            per_action: BTreeMap::new(),
            account_qps: None,
            adaptive: Some(AdaptiveRate::default()),
        }
    }
}

impl RateLimits {
    /// No client-side limit at all, and no adaptation.
    pub fn unlimited() -> Self {
        RateLimits {
            per_action_qps: None,
            per_action: BTreeMap::new(),
            account_qps: None,
            adaptive: None,
        }
    }

    /// The configured limit of `action`.
    pub fn qps(&self, action: &str) -> Option<NonZeroU32> {
        self.per_action.get(action).copied().or(self.per_action_qps)
    }
}

/// Everything a [`crate::Client`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `http://` or `https://`, host, optional port (e.g. `http://127.0.0.1:8080` for the emulator).
    pub endpoint: String,
    /// Sent as `RegionId` with every action.
    pub region_id: String,
    pub credentials: Credentials,
    /// Limit of one HTTP attempt (connect to last body byte).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// The limits of a client that has no `rate_limiters`: its own buckets, not shared.
    pub rate_limits: RateLimits,
    /// Shared flow control: the client takes the [`crate::RateLimiter`] of its AccessKeyId from here, so
    /// that all clients of an account (one per region) are paced together. `rate_limits` is then unused.
    pub rate_limiters: Option<RateLimiters>,
    pub method: HttpMethod,
    pub format: ResponseFormat,
}

impl ClientConfig {
    /// A configuration with the defaults: POST, JSON, 10 s per attempt, [`RetryPolicy::default`],
    /// [`RateLimits::default`] in buckets of its own.
    pub fn new(
        endpoint: impl Into<String>,
        region_id: impl Into<String>,
        credentials: Credentials,
    ) -> Self {
        ClientConfig {
            endpoint: endpoint.into(),
            region_id: region_id.into(),
            credentials,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            rate_limits: RateLimits::default(),
            rate_limiters: None,
            method: HttpMethod::default(),
            format: ResponseFormat::default(),
        }
    }
}
