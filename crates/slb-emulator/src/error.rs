//! API errors: code, English message and HTTP status, verbatim from the reference's error table (appendix G.1)
//! unless docs/api-decisions.md says otherwise.

use std::borrow::Cow;

/// One error response of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: Cow<'static, str>,
    pub status: u16,
}

impl ApiError {
    pub const fn new(code: &'static str, message: &'static str, status: u16) -> Self {
        Self {
            code,
            message: Cow::Borrowed(message),
            status,
        }
    }

    /// `MissingParameter` with the table's message pattern (rows 62–65), generalised to any parameter name.
    pub fn missing(name: &str) -> Self {
        Self {
            code: "MissingParameter",
            message: Cow::Owned(format!(
                "The input parameter {name} that is mandatory for processing this request is not supplied."
            )),
            status: 400,
        }
    }
}

macro_rules! errors {
    ($($name:ident = ($code:literal, $message:literal, $status:literal);)*) => {
        $(pub const $name: ApiError = ApiError::new($code, $message, $status);)*
    };
}

errors! {
    // Authentication (rows 108–113).
    ILLEGAL_SIGN = ("InternalError", "Illegal sign", 400);
    ILLEGAL_TIMESTAMP = ("InternalError", "Illegal timestamp", 400);
    ILLEGAL_FORMAT = ("InternalError", "Illegal format", 400);
    ILLEGAL_USER = ("InternalError", "Illegal user", 400);
    ILLEGAL_SIGN_TYPE = ("InternalError", "Illegal sign type", 400);
    // Generic.
    UNSUPPORTED_ACTION = ("UnsupportedOperation", "The specified action is not supported.", 400);
    UNSUPPORTED_FUNCTION = ("UnsupportedOperation", "The Loadbalancer doesn\u{2019}t support this function.", 400);
    INVALID_PARAMETER = ("InvalidParameter", "Specified parameter is not valid.", 400);
    PARAMETER_COMBINATION = ("MissingParameter", "The combination of some parameters violates the spec.", 400);
    RESOURCE_NOT_FOUND = ("InvalidParameter", "The specified resource does not exist", 400);
    RESOURCE_EXISTS = ("InvalidParameter", "The resource already exists", 400);
    ACTION_NOT_ALLOWED = ("ActionNotAllowed", "The action is not allowed.", 400);
    REGION_NOT_FOUND = ("InvalidRegionId.NotFound", "Specified region does not exist.", 404);
    // Faults.
    INTERNAL_FAILURE = ("InternalInvokeError", "The request processing has failed due to some unknown error, exception or failure.", 500);
    SERVICE_UNAVAILABLE = ("ServiceUnavailable", "The request has failed due to a temporary failure of the server.", 503);
    PROCESSING_SAME_REQUEST = ("ProcessingSameRequest", "The same request is being processed. Please try later.", 400);
    THROTTLING = ("Throttling", "Request was denied due to request throttling.", 400);
    // Idempotency (not in the table; see docs/api-decisions.md).
    IDEMPOTENT_MISMATCH = ("IdempotentParameterMismatch", "The request uses the same client token as a previous, but non-identical request.", 400);
    // Load balancers.
    LOAD_BALANCER_NOT_FOUND = ("InvalidLoadBalancerId.NotFound", "LoadBalancerId does not exist.", 404);
    INVALID_LB_NAME = ("InvalidParameter", "The Lb Name is Not supported.", 400);
    INVALID_LB_SPEC = ("InvalidParameter", "The specified parameter lb_type is not valid.", 400);
    LB_CONFIGURING = ("ServiceUnavailable", "The specified loadbalancer is configuring, please retry later", 503);
    // Listeners.
    LISTENER_EXISTS = ("ListenerAlreadyExists", "There is already a listener bound to the port on the specified load balancer.", 400);
    LISTENER_NOT_FOUND = ("ListenerNotFound", "No Listener to the specified port of the Load Balancer.", 404);
    TOO_MANY_LISTENERS = ("VipTooManyListeners", "The total number of input listeners exceeds max supported number: 50", 400);
    WRONG_PROTOCOL = ("UnsupportedOperationonfixedprotocalport", "The specified port has been assigned one type of protocal, and this protocal doesn\u{2019}t support this operation.", 400);
    PORT_NOT_INTEGER = ("InvalidParameter", "Port is not Integer.", 400);
    INVALID_PORT = ("InvalidParameter", "The specified port is not valid.", 400);
    INVALID_BANDWIDTH = ("InvalidParameter", "The specified bandwidth is not valid.", 400);
    INVALID_LISTENER_BANDWIDTH = ("InvalidParameter", "The specified parameter bandwidth is not valid.", 400);
    BANDWIDTH_OVER_TOTAL = ("InvalidParameter", "The specified parameter bandwidth is not valid, out of the instance total bandwidth.", 400);
    INVALID_HTTP_CODE = ("InvalidParameter", "The specified parameter HealthCheckHttpCode is not valid.", 400);
    INVALID_HEALTH_CHECK = ("InvalidParameter", "The specified parameter HealthCheck is not valid.", 400);
    INVALID_DOMAIN = ("InvalidParameter", "The specified parameter Domain is not valid.", 400);
    INVALID_URI = ("InvalidParameter", "The specified parameter URI is not valid.", 400);
    INVALID_SCHEDULER = ("InvalidParameter", "The specified parameter Scheduler is not valid.", 400);
    INVALID_PERSISTENCE_TIMEOUT = ("InvalidParameter", "The specified parameter PersistenceTimeout is not valid.", 400);
    INVALID_CONNECT_PORT = ("InvalidParameter", "The specified parameter ConnectPort is not valid.", 400);
    INVALID_CONNECT_TIMEOUT = ("InvalidParameter", "The specified parameter ConnectTimeou is not valid.", 400);
    INVALID_STICKY_SESSION_TYPE = ("InvalidParameter", "The specified parameter StickySessionType is not valid.", 400);
    INVALID_HEALTHY_THRESHOLD = ("InvalidParameter", "The specified parameter HealthyThreshold is not valid.", 400);
    INVALID_UNHEALTHY_THRESHOLD = ("InvalidParameter", "The specified parameter UnhealthyThreshold is not valid.", 400);
    INVALID_INTERVAL = ("InvalidParameter", "The specified parameter Interva is not valid.", 400);
    INVALID_X_FORWARDED_FOR = ("InvalidParameter", "The specified parameter XForwardedFor is not valid.", 400);
    INVALID_ACCESS_CONTROL_STATUS = ("InvalidParameter", "The specified parameter AccessControlStatus is not valid.", 400);
    INVALID_SOURCE_ITEMS = ("InvalidParameter", "The specified parameter SourceItems is not valid.", 400);
    SOURCE_LIST_OVER_LIMIT = ("SourceListOverLimit", "The sourceList is over the quato.", 400);
    // Backends and groups.
    INVALID_BACKEND_SERVERS = ("InvalidParameter", "The specified parameter BackendServers is not valid.", 404);
    TOO_MANY_BACKEND_SERVERS = ("TooManyBackendServers", "The total number of input real servers exceeds max supported number: 20", 400);
    SERVER_NOT_FOUND = ("InvalidServerId.NotFound", "The specified server is not found.", 400);
    SERVER_NOT_RUNNING = ("ServiceUnavailable", "Obtain Ip Fail, please make sure the ECS exists and the status is running.", 503);
    INVALID_WEIGHT = ("InvalidWeight.Malformed", "A specified weight is not valid.", 400);
    GROUP_NOT_FOUND = ("InvalidParameter", "RS Pool doesn\u{2019}t exist.", 404);
    GROUP_NAME_EMPTY = ("InvalidParameter", "RS Pool is empty.", 400);
    // Certificates.
    CERTIFICATE_NOT_FOUND = ("ServerCertificateId.NotFound", "Specified ServerCertificateId does not exist.", 404);
    CERTIFICATE_IN_USE = ("CertificateAndPrivateKeyIsRefered", "Certificate and PrivateKey Is Refered.", 400);
    CERTIFICATE_FORMAT = ("InvalidParameter", "The specified parameter ServerCertificate format is error.", 404);
    KEY_FORMAT = ("InvalidParameter", "The specified parameter key format is error.", 404);
    CERTIFICATE_OR_KEY_EMPTY = ("InvalidParameter", "The specified parameter ServerCertificate or Key is empty.", 404);
    KEY_ENCRYPTED = ("PrivateKeyEncryption", "Key has Encrypted .", 400);
    CERTIFICATE_KEY_MISMATCH = ("CertificateNotMatchPrivateKey", "Certificate and key does not match.", 400);
}
