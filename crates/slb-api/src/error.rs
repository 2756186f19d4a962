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
    /// is configuring, please retry later"), on `ProcessingSameRequest`, and on throttling.
    pub fn is_retryable(&self) -> bool {
        if self.is_throttled() || self.code == "ProcessingSameRequest" {
            return true;
        }
        if self.code == "ServiceUnavailable" {
            return !PERMANENT_SERVICE_UNAVAILABLE.contains(&self.message.as_str());
        }
        if self.code == "InternalError" {
            return self.message == TRANSIENT_INTERNAL_ERROR;
        }
        self.http_status >= 500
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

    fn is_conflict(&self) -> bool {
        matches!(
            self.code.as_str(),
            "ListenerAlreadyExists"
                | "CertificateAndPrivateKeyIsRefered"
                | "IdempotentParameterMismatch"
                | "IncorrectListenerAccessControlStatusStatus"
                | "ProcessingSameRequest"
                | "ActionNotAllowed"
        ) || self.message == "The specified loadbalancer name has been used."
            || self.message == "The resource already exists"
            || self.message == "The specified loadbalancer is configuring, please retry later"
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

    /// A stable, low-cardinality label for this error (see [`Error::category`]).
    pub fn category(&self) -> &'static str {
        if self.is_throttled() {
            "throttled"
        } else if self.is_not_found() {
            "not_found"
        } else if self.is_conflict() {
            "conflict"
        } else if self.is_auth() {
            "auth"
        } else if self.is_quota() {
            "quota"
        } else if self.is_retryable() {
            "server"
        } else {
            "invalid_request"
        }
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
        match self {
            Error::Api { error, .. } => error.is_retryable(),
            Error::Transport { .. } => true,
            // Only a 2xx answer can fail to decode (error statuses become `Api`); repeating it repeats that.
            Error::Decode { .. } | Error::Validation { .. } | Error::Config(_) => false,
        }
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

    /// A stable label for metrics and Kubernetes Event reasons: one of `throttled`, `not_found`, `conflict`,
    /// `auth`, `quota`, `server`, `invalid_request`, `transport`, `timeout`, `decode`, `validation`, `config`.
    pub fn category(&self) -> &'static str {
        match self {
            Error::Api { error, .. } => error.category(),
            Error::Transport {
                timed_out: true, ..
            } => "timeout",
            Error::Transport { .. } => "transport",
            Error::Decode { .. } => "decode",
            Error::Validation { .. } => "validation",
            Error::Config(_) => "config",
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

    #[test]
    fn retry_guidance() {
        assert!(
            api(
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
                503
            )
            .is_retryable()
        );
        assert!(
            api(
                "ServiceUnavailable",
                "The specified loadbalancer is configuring, please retry later",
                503
            )
            .is_retryable()
        );
        assert!(
            api(
                "ProcessingSameRequest",
                "The same request is being processed. Please try later.",
                400
            )
            .is_retryable()
        );
        assert!(
            api(
                "Throttling.User",
                "Request was denied due to user flow control.",
                400
            )
            .is_retryable()
        );
        assert!(api("InternalInvokeError", "x", 500).is_retryable());
        assert!(api("InternalError", TRANSIENT_INTERNAL_ERROR, 400).is_retryable());
        assert!(!api("InternalError", "Illegal sign", 400).is_retryable());
        assert!(
            !api(
                "ServiceUnavailable",
                "The specified loadbalancer name has been used.",
                503
            )
            .is_retryable()
        );
        assert!(!api("InvalidParameter", "The specified port is not valid.", 400).is_retryable());
        assert!(
            !api(
                "InvalidLoadBalancerId.NotFound",
                "LoadBalancerId does not exist.",
                404
            )
            .is_retryable()
        );
    }

    #[test]
    fn not_found() {
        assert!(
            api(
                "InvalidLoadBalancerId.NotFound",
                "LoadBalancerId does not exist.",
                404
            )
            .is_not_found()
        );
        assert!(
            api(
                "ListenerNotFound",
                "No Listener to the specified port of the Load Balancer.",
                404
            )
            .is_not_found()
        );
        assert!(
            api(
                "ServerCertificateId.NotFound",
                "Specified ServerCertificateId does not exist.",
                404
            )
            .is_not_found()
        );
        assert!(api("InvalidParameter", "RS Pool doesn’t exist.", 404).is_not_found());
        assert!(
            api(
                "InvalidParameter",
                "The specified resource does not exist",
                400
            )
            .is_not_found()
        );
        assert!(
            !api(
                "InvalidParameter",
                "The specified parameter key format is error.",
                404
            )
            .is_not_found()
        );
    }

    #[test]
    fn categories() {
        assert_eq!(api("Throttling", "x", 400).category(), "throttled");
        assert_eq!(api("ListenerNotFound", "x", 404).category(), "not_found");
        assert_eq!(
            api("ListenerAlreadyExists", "x", 400).category(),
            "conflict"
        );
        assert_eq!(
            api(
                "ServiceUnavailable",
                "The specified loadbalancer name has been used.",
                503
            )
            .category(),
            "conflict"
        );
        assert_eq!(api("Forbidden", "x", 403).category(), "auth");
        assert_eq!(api("InternalError", "Illegal sign", 400).category(), "auth");
        assert_eq!(api("TooManyBackendServers", "x", 400).category(), "quota");
        assert_eq!(
            api("ServiceUnavailable", "System exception", 503).category(),
            "server"
        );
        assert_eq!(
            api("InvalidParameter", "The specified port is not valid.", 400).category(),
            "invalid_request"
        );
        let validation = Error::Validation {
            action: "X",
            message: "m".to_owned(),
        };
        assert_eq!(validation.category(), "validation");
        assert!(!validation.is_retryable());
        let timeout = Error::Transport {
            action: "X",
            message: "m".to_owned(),
            timed_out: true,
        };
        assert_eq!(timeout.category(), "timeout");
        assert!(timeout.is_retryable());
    }
}
