//! The HTTP client: common parameters, signing, rate limiting, retries, and response decoding.

use crate::action::{Action, to_params};
use crate::config::{ClientConfig, HttpMethod, RetryPolicy};
use crate::error::{ApiError, Error};
use crate::lenient;
use crate::limiter::{Priority, RateLimiter, ThrottleScope};
use crate::signature::{canonicalized_query, percent_encode, sign_string, string_to_sign};
use crate::xml;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The API version this client speaks.
pub const API_VERSION: &str = "2014-05-15";

/// A client of the SLB API. Cheap to clone; clones share the connection pool and the rate limiter.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    url: reqwest::Url,
    http: reqwest::Client,
    limiter: RateLimiter,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client; fails on an endpoint that is not `http(s)://host[:port][/]`.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let url = reqwest::Url::parse(&config.endpoint).map_err(|e| {
            Error::Config(format!("endpoint {:?} is not a URL: {e}", config.endpoint))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::Config(format!(
                "endpoint {:?} must be http(s)://host[:port]",
                config.endpoint
            )));
        }
        if url.query().is_some() || url.path() != "/" {
            return Err(Error::Config(format!(
                "endpoint {:?} must not have a path or query",
                config.endpoint
            )));
        }
        if config.region_id.trim().is_empty() {
            return Err(Error::Config("region_id must not be empty".to_owned()));
        }
        // reqwest is built without a bundled crypto provider; ring is the one the workspace compiles. An
        // `Err` only means a provider is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let limiter = match &config.rate_limiters {
            Some(shared) => shared.for_account(config.credentials.access_key_id()),
            None => RateLimiter::new(config.rate_limits.clone()),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                url,
                http,
                limiter,
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The flow control this client's calls go through (shared with the account's other clients when
    /// the configuration has `rate_limiters`).
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    /// Calls one action: validates, then sends with retries as the configuration says. Every attempt,
    /// retries included, waits for the rate limiter first, at the [`Priority`] of the call.
    pub async fn call<A: Action>(&self, request: &A) -> Result<A::Response, Error> {
        let params = self.action_params(request)?;
        let policy = self.inner.config.retry;
        let limiter = &self.inner.limiter;
        let priority = Priority::of(A::NAME);
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            limiter.acquire(A::NAME, priority).await;
            let (error, maybe_processed) = match self.attempt::<A>(&params).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            if let Some(scope) = error.code().and_then(ThrottleScope::of_code) {
                limiter.throttled(A::NAME, scope);
            }
            // The service may have acted on a request whose answer was lost; repeating a create then makes a
            // second resource.
            if maybe_processed && !A::IDEMPOTENT {
                return Err(error);
            }
            let Some(delay) = retry_delay(&policy, attempt, started.elapsed(), &error) else {
                return Err(error);
            };
            tracing::debug!(action = A::NAME, attempt, ?delay, %error, "retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// One attempt's request as it is sent (form body or query string): the parameters with a fresh
    /// `Timestamp`, `SignatureNonce` and `Signature`, percent-encoded with the signing rules.
    pub fn signed_form<A: Action>(&self, request: &A) -> Result<String, Error> {
        Ok(self.sign_attempt(&self.action_params(request)?))
    }

    /// Validated action parameters plus the common parameters that stay the same across attempts.
    fn action_params<A: Action>(&self, request: &A) -> Result<Vec<(String, String)>, Error> {
        request.validate().map_err(|e| Error::Validation {
            action: A::NAME,
            message: e.0,
        })?;
        let mut params = to_params(request).map_err(|message| Error::Validation {
            action: A::NAME,
            message,
        })?;
        // One token for every attempt, so a retried create is not a second create.
        if A::TAKES_CLIENT_TOKEN && !params.iter().any(|(name, _)| name == "ClientToken") {
            params.push(("ClientToken".to_owned(), uuid::Uuid::new_v4().to_string()));
        }
        let config = &self.inner.config;
        params.extend([
            ("Action".to_owned(), A::NAME.to_owned()),
            ("Format".to_owned(), config.format.as_str().to_owned()),
            ("Version".to_owned(), API_VERSION.to_owned()),
            (
                "AccessKeyId".to_owned(),
                config.credentials.access_key_id().to_owned(),
            ),
            ("SignatureMethod".to_owned(), "HMAC-SHA1".to_owned()),
            ("SignatureVersion".to_owned(), "1.0".to_owned()),
            ("RegionId".to_owned(), config.region_id.clone()),
        ]);
        Ok(params)
    }

    /// Adds this attempt's `Timestamp`, `SignatureNonce` and `Signature`, and returns the encoded form.
    ///
    /// The canonicalized query of the signature is also the form, so the pairs are encoded once and serve
    /// as both the string to sign and the body; this is [`crate::signature::sign`] without encoding
    /// everything twice.
    fn sign_attempt(&self, params: &[(String, String)]) -> String {
        let config = &self.inner.config;
        let timestamp = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        let mut form = canonicalized_query(
            params
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .chain([
                    ("Timestamp", timestamp.as_str()),
                    ("SignatureNonce", nonce.as_str()),
                ]),
        );
        let signature = sign_string(
            config.credentials.access_key_secret(),
            &string_to_sign(config.method.as_str(), &form),
        );
        form.push_str("&Signature=");
        form.push_str(&percent_encode(&signature));
        form
    }

    /// One HTTP exchange. An error comes with whether the service may have processed the request (it was
    /// sent, but no answer arrived).
    async fn attempt<A: Action>(
        &self,
        params: &[(String, String)],
    ) -> Result<A::Response, (Error, bool)> {
        let encoded = self.sign_attempt(params);
        let inner = &self.inner;
        let request = match inner.config.method {
            HttpMethod::Get => {
                let mut url = inner.url.clone();
                url.set_query(Some(&encoded));
                inner.http.get(url)
            }
            HttpMethod::Post => inner
                .http
                .post(inner.url.clone())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded; charset=utf-8",
                )
                .body(encoded),
        };
        let transport = |e: reqwest::Error| {
            let error = Error::Transport {
                action: A::NAME,
                message: error_chain(&e),
                timed_out: e.is_timeout(),
            };
            (error, !e.is_connect())
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(transport)?;
        decode_response::<A::Response>(A::NAME, status, &body).map_err(|error| {
            // A 5xx without SLB's error document came from something in between (a proxy, a load
            // balancer in front of the API), which may have passed the request on.
            let from_slb = error.api_error().is_some_and(|e| !e.request_id.is_empty());
            let maybe_processed = status >= 500 && !from_slb;
            (error, maybe_processed)
        })
    }
}

/// A reqwest error with its causes, which carry the useful part (connection refused, TLS, ...).
fn error_chain(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The delay before the next attempt, or `None` when the error is final or the budget is spent.
fn retry_delay(
    policy: &RetryPolicy,
    attempt: u32,
    elapsed: Duration,
    error: &Error,
) -> Option<Duration> {
    if !error.is_retryable() || attempt >= policy.max_attempts {
        return None;
    }
    let exponential = policy
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(attempt - 1));
    let ceiling = exponential.min(policy.max_backoff);
    // "Equal jitter": half fixed, half random, so retries spread out but never collapse to zero.
    let half = ceiling / 2;
    let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let delay = half + Duration::from_millis(rand::random_range(0..=jitter_ms));
    (elapsed + delay <= policy.max_elapsed).then_some(delay)
}

/// Parses a body in either format into JSON, normalized (see [`lenient::normalize`]).
fn parse_body(body: &str) -> Result<Value, String> {
    let mut value = if body.trim_start().starts_with('<') {
        xml::to_json(body)?
    } else {
        serde_json::from_str(body).map_err(|e| format!("invalid JSON: {e}"))?
    };
    lenient::normalize(&mut value);
    Ok(value)
}

/// Turns an HTTP status and body into the action's response or an [`Error`].
pub(crate) fn decode_response<R: DeserializeOwned>(
    action: &'static str,
    status: u16,
    body: &str,
) -> Result<R, Error> {
    let parsed = parse_body(body);
    if (200..300).contains(&status) {
        let value = parsed.map_err(|message| Error::Decode {
            action,
            http_status: status,
            message,
        })?;
        return serde_json::from_value(value).map_err(|e| Error::Decode {
            action,
            http_status: status,
            message: e.to_string(),
        });
    }
    let field = |value: &Value, name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let error = match parsed {
        Ok(value) if !field(&value, "Code").is_empty() => ApiError {
            code: field(&value, "Code"),
            message: field(&value, "Message"),
            request_id: field(&value, "RequestId"),
            host_id: field(&value, "HostId"),
            http_status: status,
        },
        // No error document (a proxy's HTML page, an empty body): keep the status and a bounded excerpt.
        _ => ApiError {
            code: format!("Http{status}"),
            message: body.chars().take(200).collect(),
            request_id: String::new(),
            host_id: String::new(),
            http_status: status,
        },
    };
    Err(Error::Api { action, error })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use crate::model::Acknowledged;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_elapsed: Duration::from_secs(10),
        }
    }

    fn retryable() -> Error {
        Error::Transport {
            action: "X",
            message: "reset".to_owned(),
            timed_out: false,
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_bounded() {
        for _ in 0..100 {
            let first = retry_delay(&policy(), 1, Duration::ZERO, &retryable()).unwrap();
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = retry_delay(&policy(), 3, Duration::ZERO, &retryable()).unwrap();
            assert!(
                third >= Duration::from_millis(150) && third <= Duration::from_millis(300),
                "{third:?}"
            );
        }
    }

    #[test]
    fn retries_stop_at_the_attempt_and_time_budgets_and_on_final_errors() {
        assert!(retry_delay(&policy(), 4, Duration::ZERO, &retryable()).is_none());
        assert!(retry_delay(&policy(), 1, Duration::from_secs(10), &retryable()).is_none());
        let validation = Error::Validation {
            action: "X",
            message: "m".to_owned(),
        };
        assert!(retry_delay(&policy(), 1, Duration::ZERO, &validation).is_none());
    }

    #[test]
    fn decodes_json_and_xml_errors() {
        let json = r#"{"RequestId":"7463B73D","HostId":"slb.aliyuncs.com","Code":"UnsupportedOperation","Message":"The specified action is not supported."}"#;
        let error = decode_response::<Acknowledged>("X", 400, json).unwrap_err();
        let api = error.api_error().unwrap();
        assert_eq!(api.code, "UnsupportedOperation");
        assert_eq!(api.host_id, "slb.aliyuncs.com");
        assert_eq!(api.request_id, "7463B73D");
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>8906582E</RequestId><HostId>slb.aliyuncs.com</HostId><Code>ServiceUnavailable</Code><Message>The request has failed due to a temporary failure of the server.</Message></Error>"#;
        let error = decode_response::<Acknowledged>("X", 503, xml).unwrap_err();
        assert_eq!(error.code(), Some("ServiceUnavailable"));
        assert!(error.is_retryable());
    }

    #[test]
    fn a_body_without_an_error_document_keeps_the_status() {
        let error =
            decode_response::<Acknowledged>("X", 502, "<html>bad gateway</html>").unwrap_err();
        assert_eq!(error.code(), Some("Http502"));
        assert!(error.is_retryable());
        assert_eq!(error.category(), crate::ErrorCategory::Server);
    }

    #[test]
    fn a_success_that_cannot_be_decoded_is_a_decode_error() {
        let error = decode_response::<Acknowledged>("X", 200, "{not json").unwrap_err();
        assert_eq!(error.category(), crate::ErrorCategory::Decode);
    }

    /// Building a client is slow (TLS setup), so the property test shares a GET and a POST client.
    static CLIENTS: std::sync::LazyLock<(Client, Client)> = std::sync::LazyLock::new(|| {
        let client = |method| {
            let credentials = Credentials::new("testid", "testsecret").unwrap();
            let mut config = ClientConfig::new("http://127.0.0.1:1", "cn-hangzhou", credentials);
            config.method = method;
            Client::new(config).unwrap()
        };
        (client(HttpMethod::Get), client(HttpMethod::Post))
    });

    proptest::proptest! {
        /// Whatever the parameters, the form decodes to them plus the attempt's parameters, and its
        /// signature is the reference signer's over all of them.
        #[test]
        fn any_form_round_trips_and_verifies(
            pairs in proptest::collection::btree_map("[A-Za-z][A-Za-z0-9_]{0,12}", ".{0,16}", 0..8),
            get in proptest::bool::ANY,
        ) {
            let client = if get { &CLIENTS.0 } else { &CLIENTS.1 };
            let params: Vec<(String, String)> = pairs.clone().into_iter().collect();
            let form = client.sign_attempt(&params);
            let url = reqwest::Url::parse(&format!("http://x/?{form}")).unwrap();
            let mut decoded: std::collections::BTreeMap<String, String> = url.query_pairs().into_owned().collect();
            let signature = decoded.remove("Signature").unwrap();
            let expected = crate::signature::sign(
                if get { "GET" } else { "POST" },
                decoded.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                "testsecret",
            );
            proptest::prop_assert_eq!(signature, expected);
            proptest::prop_assert!(decoded.remove("Timestamp").is_some());
            proptest::prop_assert!(decoded.remove("SignatureNonce").is_some());
            proptest::prop_assert_eq!(decoded, pairs);
        }
    }

    #[test]
    fn the_form_is_signed_like_the_reference_signer() {
        let credentials = Credentials::new("testid", "testsecret").unwrap();
        let client = Client::new(ClientConfig::new(
            "http://127.0.0.1:1",
            "cn-hangzhou",
            credentials,
        ))
        .unwrap();
        let params = vec![
            ("A b".to_owned(), "x*y~ 杭州".to_owned()),
            ("C".to_owned(), "[{\"k\":1}]".to_owned()),
        ];
        let form = client.sign_attempt(&params);
        let url = reqwest::Url::parse(&format!("http://x/?{form}")).unwrap();
        let decoded: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let (signature, rest): (Vec<_>, Vec<_>) = decoded
            .into_iter()
            .partition(|(name, _)| name == "Signature");
        assert!(rest.iter().any(|(n, v)| n == "A b" && v == "x*y~ 杭州"));
        assert!(form.contains("A%20b=x%2Ay~%20%E6%9D%AD%E5%B7%9E"));
        let expected = crate::signature::sign(
            "POST",
            rest.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            "testsecret",
        );
        assert_eq!(signature[0].1, expected);
    }
}
