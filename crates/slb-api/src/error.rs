//! Errors of the client, with the reference's retry guidance and a stable category for metrics and Events.

use std::fmt;

/// An error the SLB service returned (`{"RequestId", "HostId", "Code", "Message"}` with a 4xx/5xx status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub request_id: String,
    pub host_id: String,
    pub http_status: u16,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (HTTP {}, RequestId {})",
            self.code, self.message, self.http_status, self.request_id
        )
    }
}

/// Messages of `ServiceUnavailable` (HTTP 503) rows of the error table that describe a permanent condition,
/// so retrying them cannot help.
const PERMANENT_SERVICE_UNAVAILABLE: &[&str] = &[
    "The specified loadbalancer name has been used.",
    "The specified param is invalid",
    "The specified region not support VPC",
    "The cloud instance id is invaild",
];

/// The one `InternalError` (HTTP 400) message that describes a transient backend failure; the other
/// `InternalError` rows (illegal signature, timestamp, user, ...) are permanent.
const TRANSIENT_INTERNAL_ERROR: &str =
    "The request processing has failed due to backend service exception.";

impl ApiError {
    /// The reference: retry on 500 / 503 (`ServiceUnavailable`, which includes "the specified loadbalancer
    /// is configuring, please retry later"), on `ProcessingSameRequest`, and on throttling; but not on a
    /// 5xx whose code names a permanent condition (a missing resource, a conflicting state, ...).
    pub fn is_retryable(&self) -> bool {
        self.category().is_retryable()
    }

    /// Throttling errors (`Throttling`, `Throttling.User`, `Throttling.Api`, ...).
    pub fn is_throttled(&self) -> bool {
        self.code == "Throttling" || self.code.starts_with("Throttling.")
    }

    /// The addressed resource does not exist (instance, listener, certificate, server, group, rule, region).
    pub fn is_not_found(&self) -> bool {
        let code = self.code.as_str();
        code.ends_with(".NotFound")
            || code == "ListenerNotFound"
            || code == "CheckedListenerNotFound"
            || (code == "InvalidParameter"
                && (self.message.contains("does not exist")
                    || self.message.contains("doesn’t exist")
                    || self.message.contains("doesn't exist")
                    || self.message.contains("is not exist")))
    }

    /// Another request holds the resource for a moment: the same request in progress, or the instance
    /// being configured.
    fn is_busy(&self) -> bool {
        self.code == "ProcessingSameRequest"
            || self.message == "The specified loadbalancer is configuring, please retry later"
    }

    fn is_conflict(&self) -> bool {
        matches!(
            self.code.as_str(),
            "ListenerAlreadyExists"
                | "CertificateAndPrivateKeyIsRefered"
                | "IdempotentParameterMismatch"
                | "IncorrectListenerAccessControlStatusStatus"
                | "ActionNotAllowed"
        ) || self.message == "The specified loadbalancer name has been used."
            || self.message == "The resource already exists"
            || self.code.starts_with("OperationFailed")
            || self.code.starts_with("IncorrectStatus")
    }

    fn is_auth(&self) -> bool {
        let code = self.code.as_str();
        code.starts_with("Forbidden")
            || code.starts_with("Forbbiden")
            || code.starts_with("InvalidAccessKeyId")
            || code == "SignatureDoesNotMatch"
            || code == "SignatureNonceUsed"
            || code == "InvalidIdentity"
            || code == "UserNotAllowed"
            || (code == "InternalError" && self.message.starts_with("Illegal "))
            || self.http_status == 401
            || self.http_status == 403
    }

    fn is_quota(&self) -> bool {
        matches!(
            self.code.as_str(),
            "VipTooManyListeners"
                | "ListenOverLimit"
                | "SourceListOverLimit"
                | "TooManyBackendServers"
        ) || self.code.starts_with("QuotaExceeded")
    }

    /// A transient failure of the service that the reference says to retry.
    fn is_transient(&self) -> bool {
        match self.code.as_str() {
            "ServiceUnavailable" => !PERMANENT_SERVICE_UNAVAILABLE.contains(&self.message.as_str()),
            "InternalError" => self.message == TRANSIENT_INTERNAL_ERROR,
            _ => self.http_status >= 500,
        }
    }

    /// The class of this error (see [`ErrorCategory`]); the first of these that applies: throttled, busy,
    /// not found, conflict, auth, quota, server (transient), invalid request.
    pub fn category(&self) -> ErrorCategory {
        if self.is_throttled() {
            ErrorCategory::Throttled
        } else if self.is_busy() {
            ErrorCategory::Busy
        } else if self.is_not_found() {
            ErrorCategory::NotFound
        } else if self.is_conflict() {
            ErrorCategory::Conflict
        } else if self.is_auth() {
            ErrorCategory::Auth
        } else if self.is_quota() {
            ErrorCategory::Quota
        } else if self.is_transient() {
            ErrorCategory::Server
        } else {
            ErrorCategory::InvalidRequest
        }
    }
}

/// What kind of failure an [`Error`] is: a low-cardinality class for metrics, Kubernetes Events and retry
/// decisions. Whether an error is retryable is a function of its category ([`ErrorCategory::is_retryable`]),
/// so the two never disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCategory {
    /// The account or the action is over its request rate (`Throttling*`). Retryable.
    Throttled,
    /// The resource is busy for a moment (`ProcessingSameRequest`, "the specified loadbalancer is
    /// configuring, please retry later"). Retryable.
    Busy,
    /// A transient failure of the service (5xx, `ServiceUnavailable`, the backend `InternalError`).
    /// Retryable.
    Server,
    /// No usable HTTP exchange (connect, TLS, body read). Retryable.
    Transport,
    /// An attempt exceeded its timeout. Retryable.
    Timeout,
    /// The addressed resource does not exist.
    NotFound,
    /// The resource exists already, is in use, or is in a state that does not allow the action.
    Conflict,
    /// Credentials, signature or permissions were refused.
    Auth,
    /// An account or instance limit was reached.
    Quota,
    /// The service rejected the request's parameters.
    InvalidRequest,
    /// A success answer could not be decoded.
    Decode,
    /// The client rejected the request before sending it (a documented constraint is broken).
    Validation,
    /// The client is misconfigured (endpoint, credentials).
    Config,
}

impl ErrorCategory {
    /// Every category, in declaration order.
    pub const ALL: [ErrorCategory; 13] = [
        ErrorCategory::Throttled,
        ErrorCategory::Busy,
        ErrorCategory::Server,
        ErrorCategory::Transport,
        ErrorCategory::Timeout,
        ErrorCategory::NotFound,
        ErrorCategory::Conflict,
        ErrorCategory::Auth,
        ErrorCategory::Quota,
        ErrorCategory::InvalidRequest,
        ErrorCategory::Decode,
        ErrorCategory::Validation,
        ErrorCategory::Config,
    ];

    /// The stable snake_case label for metrics (`throttled`, `not_found`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Throttled => "throttled",
            ErrorCategory::Busy => "busy",
            ErrorCategory::Server => "server",
            ErrorCategory::Transport => "transport",
            ErrorCategory::Timeout => "timeout",
            ErrorCategory::NotFound => "not_found",
            ErrorCategory::Conflict => "conflict",
            ErrorCategory::Auth => "auth",
            ErrorCategory::Quota => "quota",
            ErrorCategory::InvalidRequest => "invalid_request",
            ErrorCategory::Decode => "decode",
            ErrorCategory::Validation => "validation",
            ErrorCategory::Config => "config",
        }
    }

    /// Whether trying the same request again may succeed.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCategory::Throttled
                | ErrorCategory::Busy
                | ErrorCategory::Server
                | ErrorCategory::Transport
                | ErrorCategory::Timeout
        )
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the label, so code that matched the former string categories keeps working.
impl PartialEq<&str> for ErrorCategory {
    fn eq(&self, label: &&str) -> bool {
        self.as_str() == *label
    }
}

/// Every way a call can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The service answered with an error.
    #[error("{action}: {error}")]
    Api {
        action: &'static str,
        error: ApiError,
    },
    /// No usable HTTP exchange: connect, TLS, timeout, or body read failure.
    #[error("{action}: transport error: {message}")]
    Transport {
        action: &'static str,
        message: String,
        timed_out: bool,
    },
    /// A response arrived but could not be decoded.
    #[error("{action}: cannot decode the response (HTTP {http_status}): {message}")]
    Decode {
        action: &'static str,
        http_status: u16,
        message: String,
    },
    /// The request was rejected before sending because it breaks a documented constraint.
    #[error("{action}: invalid request: {message}")]
    Validation {
        action: &'static str,
        message: String,
    },
    /// The client itself is misconfigured (endpoint, credentials).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl Error {
    /// Whether trying the same request again may succeed (the reference's retry guidance).
    pub fn is_retryable(&self) -> bool {
        self.category().is_retryable()
    }

    /// The account or the action is over its request rate.
    pub fn is_throttled(&self) -> bool {
        self.category() == ErrorCategory::Throttled
    }

    /// The addressed resource does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { error, .. } if error.is_not_found())
    }

    /// The service's error, if it answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The service's error code (`InvalidLoadBalancerId.NotFound`, ...), if it answered with one.
    pub fn code(&self) -> Option<&str> {
        self.api_error().map(|e| e.code.as_str())
    }

    /// The class of the failure, for metrics, Kubernetes Event reasons and retry decisions.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::Api { error, .. } => error.category(),
            Error::Transport {
                timed_out: true, ..
            } => ErrorCategory::Timeout,
            Error::Transport { .. } => ErrorCategory::Transport,
            // Only a 2xx answer can fail to decode (error statuses become `Api`); repeating it repeats that.
            Error::Decode { .. } => ErrorCategory::Decode,
            Error::Validation { .. } => ErrorCategory::Validation,
            Error::Config(_) => ErrorCategory::Config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, message: &str, http_status: u16) -> ApiError {
        ApiError {
            code: code.to_owned(),
            message: message.to_owned(),
            request_id: "r".to_owned(),
            host_id: "h".to_owned(),
            http_status,
        }
    }

    /// Asserts what `predicate` says of each `(code, message, HTTP status, expected)` case.
    fn assert_cases(predicate: fn(&ApiError) -> bool, cases: &[(&str, &str, u16, bool)]) {
        for &(code, message, http_status, expected) in cases {
            let error = api(code, message, http_status);
            assert_eq!(predicate(&error), expected, "{error}");
        }
    }

    #[test]
    fn retry_guidance() {
        assert_cases(
            ApiError::is_retryable,
            &[
                (
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                    503,
                    true,
                ),
                (
                    "ServiceUnavailable",
                    "The specified loadbalancer is configuring, please retry later",
                    503,
                    true,
                ),
                (
                    "ProcessingSameRequest",
                    "The same request is being processed. Please try later.",
                    400,
                    true,
                ),
                (
                    "Throttling.User",
                    "Request was denied due to user flow control.",
                    400,
                    true,
                ),
                ("InternalInvokeError", "x", 500, true),
                ("InternalError", TRANSIENT_INTERNAL_ERROR, 400, true),
                ("InternalError", "Illegal sign", 400, false),
                (
                    "ServiceUnavailable",
                    "The specified loadbalancer name has been used.",
                    503,
                    false,
                ),
                (
                    "InvalidParameter",
                    "The specified port is not valid.",
                    400,
                    false,
                ),
                (
                    "InvalidLoadBalancerId.NotFound",
                    "LoadBalancerId does not exist.",
                    404,
                    false,
                ),
            ],
        );
    }

    #[test]
    fn not_found() {
        assert_cases(
            ApiError::is_not_found,
            &[
                (
                    "InvalidLoadBalancerId.NotFound",
                    "LoadBalancerId does not exist.",
                    404,
                    true,
                ),
                (
                    "ListenerNotFound",
                    "No Listener to the specified port of the Load Balancer.",
                    404,
                    true,
                ),
                (
                    "ServerCertificateId.NotFound",
                    "Specified ServerCertificateId does not exist.",
                    404,
                    true,
                ),
                ("InvalidParameter", "RS Pool doesn’t exist.", 404, true),
                (
                    "InvalidParameter",
                    "The specified resource does not exist",
                    400,
                    true,
                ),
                (
                    "InvalidParameter",
                    "The specified parameter key format is error.",
                    404,
                    false,
                ),
            ],
        );
    }

    #[test]
    fn categories() {
        use ErrorCategory::*;
        let cases = [
            ("Throttling", "x", 400, Throttled),
            ("Throttling.User", "x", 503, Throttled),
            ("ProcessingSameRequest", "x", 400, Busy),
            (
                "ServiceUnavailable",
                "The specified loadbalancer is configuring, please retry later",
                503,
                Busy,
            ),
            ("ListenerNotFound", "x", 404, NotFound),
            ("ListenerAlreadyExists", "x", 400, Conflict),
            (
                "ServiceUnavailable",
                "The specified loadbalancer name has been used.",
                503,
                Conflict,
            ),
            // A state conflict answered with 500: repeating it meets the same state.
            (
                "IncorrectListenerAccessControlStatusStatus",
                "Current listener access control status does not support this operation.",
                500,
                Conflict,
            ),
            ("Forbidden", "x", 403, Auth),
            ("InternalError", "Illegal sign", 400, Auth),
            ("TooManyBackendServers", "x", 400, Quota),
            ("ServiceUnavailable", "System exception", 503, Server),
            ("InternalInvokeError", "x", 500, Server),
            (
                "ServiceUnavailable",
                "The specified param is invalid",
                503,
                InvalidRequest,
            ),
            (
                "InvalidParameter",
                "The specified port is not valid.",
                400,
                InvalidRequest,
            ),
        ];
        for (code, message, http_status, category) in cases {
            let error = api(code, message, http_status);
            assert_eq!(error.category(), category, "{error}");
            assert_eq!(error.is_retryable(), category.is_retryable(), "{error}");
            let error = Error::Api { action: "X", error };
            assert_eq!(error.category(), category);
            assert_eq!(error.is_throttled(), category == Throttled);
        }
        let validation = Error::Validation {
            action: "X",
            message: "m".to_owned(),
        };
        assert_eq!(validation.category(), Validation);
        assert!(!validation.is_retryable());
        let timeout = Error::Transport {
            action: "X",
            message: "m".to_owned(),
            timed_out: true,
        };
        assert_eq!(timeout.category(), Timeout);
        assert!(timeout.is_retryable());
    }

    #[test]
    fn labels_are_distinct_snake_case_and_comparable_with_strings() {
        let labels: std::collections::BTreeSet<&str> =
            ErrorCategory::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(labels.len(), ErrorCategory::ALL.len());
        for category in ErrorCategory::ALL {
            let label = category.as_str();
            assert!(
                label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{label}"
            );
            assert_eq!(category.to_string(), label);
            assert!(category == label);
        }
        assert!(ErrorCategory::NotFound != "not found");
    }
}
