//! The reconcile error: a short message, the source chain kept, and a stable `category()` used as
//! metric label, Event reason and requeue decision.

use std::time::Duration;

use slb_api::ErrorCategory;

/// Everything a reconcile can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the Kubernetes API failed.
    #[error("Kubernetes API call failed")]
    Kube(#[from] kube::Error),

    /// A call to the SLB API failed.
    #[error("SLB API call failed")]
    Slb(#[from] slb_api::Error),

    /// A referenced object does not exist; its watch reconciles us again when it appears.
    #[error("{kind} {name:?} not found")]
    ReferenceNotFound { kind: &'static str, name: String },

    /// A referenced object exists but is not ready; its watch reconciles us again when it is.
    #[error("{kind} {name:?} is not ready")]
    ReferenceNotReady { kind: &'static str, name: String },

    /// An SLB object the spec points at is not ours, so we refuse to change or delete it.
    #[error("refusing to change {what}, which this object does not own")]
    NotOwned { what: String },

    /// Another object adopted the load balancer first.
    #[error("{0}")]
    AdoptionConflict(String),

    /// Other objects still use the SLB object, so it is not deleted yet.
    #[error("waiting for dependents to be deleted first: {0}")]
    DependentsExist(String),

    /// The spec cannot be applied as written (beyond what the schema can check).
    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    /// A certificate Secret is missing a key or holds something that is not PEM.
    #[error("invalid certificate Secret {name:?}: {reason}")]
    InvalidCertificate { name: String, reason: String },

    /// The object lacks a field the apiserver always sets (name, namespace, uid).
    #[error("object has no {0}")]
    MissingObjectKey(&'static str),

    /// A watch the reconcile reads from has not listed its objects yet: the apiserver is slow to
    /// answer, or the operator may not watch them (its RBAC).
    #[error("the watch of {0} has not listed them yet; is the operator allowed to watch them?")]
    WatchNotReady(&'static str),

    /// A status or event body could not be serialized.
    #[error("serialization failed")]
    Serialization(#[from] serde_json::Error),
}

impl Error {
    /// A stable, low-cardinality label: the metric label, the Event reason and the requeue class.
    pub fn category(&self) -> &'static str {
        match self {
            Error::Kube(_) => "KubeApi",
            Error::Slb(error) => match error.category() {
                ErrorCategory::Throttled => "SlbThrottled",
                ErrorCategory::Busy => "SlbBusy",
                ErrorCategory::NotFound => "SlbNotFound",
                ErrorCategory::Conflict => "SlbConflict",
                ErrorCategory::Auth => "SlbAuth",
                ErrorCategory::Quota => "SlbQuota",
                ErrorCategory::Server => "SlbServer",
                ErrorCategory::Transport | ErrorCategory::Timeout => "SlbUnreachable",
                ErrorCategory::InvalidRequest | ErrorCategory::Validation => "SlbInvalidRequest",
                ErrorCategory::Decode | ErrorCategory::Config => "SlbOther",
            },
            Error::ReferenceNotFound { .. } => "ReferenceNotFound",
            Error::ReferenceNotReady { .. } => "ReferenceNotReady",
            Error::NotOwned { .. } => "NotOwned",
            Error::AdoptionConflict(_) => "Conflict",
            Error::DependentsExist(_) => "DependentsExist",
            Error::InvalidSpec(_) => "InvalidSpec",
            Error::InvalidCertificate { .. } => "InvalidCertificate",
            Error::MissingObjectKey(_) => "MissingObjectKey",
            Error::Serialization(_) => "Serialization",
            Error::WatchNotReady(_) => "WatchNotReady",
        }
    }

    /// How long to wait before trying again (the base of the per-object backoff), or `None` when
    /// only a change to the object itself can fix the error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            // Throttling is retryable too, so it must be tested first.
            Error::Slb(error) if error.is_throttled() => Some(Duration::from_secs(15)),
            Error::Slb(error) if error.is_retryable() => Some(Duration::from_secs(5)),
            Error::Slb(_) | Error::Kube(_) | Error::WatchNotReady(_) => {
                Some(Duration::from_secs(30))
            }
            Error::DependentsExist(_) => Some(Duration::from_secs(5)),
            // The reference's watch brings the object back at once; the slow retry is the safety
            // net for a wake-up that never comes (a saturated controller, a watch re-list).
            Error::ReferenceNotFound { .. } | Error::ReferenceNotReady { .. } => {
                Some(Duration::from_secs(30))
            }
            Error::NotOwned { .. }
            | Error::AdoptionConflict(_)
            | Error::InvalidSpec(_)
            | Error::InvalidCertificate { .. }
            | Error::MissingObjectKey(_)
            | Error::Serialization(_) => None,
        }
    }

    /// Whether the failure is a moment of SLB or Kubernetes unavailability, which says nothing
    /// about the object itself.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Kube(_) | Error::WatchNotReady(_) => true,
            Error::Slb(error) => error.is_retryable(),
            _ => false,
        }
    }

    /// The message with its whole source chain, as a person reading an Event needs it.
    pub fn chain(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        message
    }
}

/// Flattens the finalizer wrapper back into the domain error, so metrics and Events show the real category.
impl From<kube::runtime::finalizer::Error<Error>> for Error {
    fn from(error: kube::runtime::finalizer::Error<Error>) -> Self {
        use kube::runtime::finalizer::Error as FinalizerError;
        match error {
            FinalizerError::ApplyFailed(error) | FinalizerError::CleanupFailed(error) => error,
            FinalizerError::AddFinalizer(error) | FinalizerError::RemoveFinalizer(error) => {
                Error::Kube(error)
            }
            FinalizerError::UnnamedObject => Error::MissingObjectKey("metadata.name"),
            FinalizerError::InvalidFinalizer => Error::MissingObjectKey("a valid finalizer name"),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_errors_wait_for_a_watch_event_and_slowly_try_again() {
        let error = Error::ReferenceNotFound {
            kind: "SlbInstance",
            name: "web".into(),
        };
        assert_eq!(error.category(), "ReferenceNotFound");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(error.to_string(), "SlbInstance \"web\" not found");
    }

    #[test]
    fn transient_slb_errors_are_retried_soon() {
        let error = Error::Slb(slb_api::Error::Transport {
            action: "DescribeLoadBalancers",
            message: "connection refused".into(),
            timed_out: false,
        });
        assert_eq!(error.category(), "SlbUnreachable");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(5)));
        assert!(error.chain().contains("connection refused"));
    }

    #[test]
    fn throttling_waits_longer_than_other_transient_errors() {
        let error = Error::Slb(slb_api::Error::Api {
            action: "DescribeLoadBalancers",
            error: slb_api::ApiError {
                code: "Throttling.User".into(),
                message: "Request was denied due to user flow control.".into(),
                request_id: "r".into(),
                host_id: "h".into(),
                http_status: 400,
            },
        });
        assert_eq!(error.category(), "SlbThrottled");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(15)));
    }

    #[test]
    fn invalid_requests_are_not_retried_blindly() {
        let error = Error::Slb(slb_api::Error::Validation {
            action: "CreateLoadBalancer",
            message: "Bandwidth must be 1-1000".into(),
        });
        assert_eq!(error.category(), "SlbInvalidRequest");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    }
}
