use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DeletionPolicy, LocalObjectReference, conditions_schema};

/// A listener (frontend port) of an SlbInstance.
///
/// Which fields a listener takes depends on its protocol (the matrix in the API reference); the
/// schema rejects the others. Changing listenerPort or protocol deletes the listener and creates
/// a new one.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "slb.operator.dev",
    version = "v1alpha1",
    kind = "SlbListener",
    namespaced,
    selectable = ".spec.instanceRef.name",
    selectable = ".spec.vServerGroupRef.name",
    doc = "A listener (frontend port) of an SlbInstance.",
    status = "SlbListenerStatus",
    shortname = "slbl",
    category = "slb",
    printcolumn(
        name = "Instance",
        type_ = "string",
        json_path = ".spec.instanceRef.name"
    ),
    printcolumn(name = "Protocol", type_ = "string", json_path = ".spec.protocol"),
    printcolumn(name = "Port", type_ = "integer", json_path = ".spec.listenerPort"),
    printcolumn(name = "State", type_ = "string", json_path = ".status.listenerState"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.protocol != 'HTTPS' || has(self.serverCertificate)")
        .message("serverCertificate is required when protocol is HTTPS"),
    validation = Rule::new("self.protocol == 'HTTPS' || (!has(self.serverCertificate) && !has(self.caCertificate))")
        .message("serverCertificate and caCertificate are only allowed when protocol is HTTPS"),
    validation = Rule::new("self.protocol in ['HTTP', 'HTTPS'] || (!has(self.stickySession) && !has(self.xForwardedFor) && !has(self.forwardedHeaders) && !has(self.gzip))")
        .message("stickySession, xForwardedFor, forwardedHeaders and gzip are only allowed when protocol is HTTP or HTTPS"),
    validation = Rule::new("self.protocol == 'TCP' || !has(self.establishedTimeout)")
        .message("establishedTimeout is only allowed when protocol is TCP"),
    validation = Rule::new("self.protocol in ['TCP', 'UDP'] || (!has(self.persistenceTimeout) && !has(self.masterSlaveServerGroupRef))")
        .message("persistenceTimeout and masterSlaveServerGroupRef are only allowed when protocol is TCP or UDP"),
    validation = Rule::new("!(has(self.vServerGroupRef) && has(self.masterSlaveServerGroupRef))")
        .message("set at most one of vServerGroupRef and masterSlaveServerGroupRef"),
    validation = Rule::new("!has(self.healthCheck) || !has(self.healthCheck.enabled) || self.protocol in ['HTTP', 'HTTPS']")
        .message("healthCheck.enabled is only allowed for HTTP and HTTPS; TCP and UDP listeners always health-check"),
    validation = Rule::new("!has(self.healthCheck) || !has(self.healthCheck.type) || self.protocol == 'TCP'")
        .message("healthCheck.type is only allowed when protocol is TCP"),
    validation = Rule::new("!has(self.healthCheck) || self.protocol != 'UDP' || (!has(self.healthCheck.domain) && !has(self.healthCheck.uri) && !has(self.healthCheck.httpCodes))")
        .message("healthCheck.domain, healthCheck.uri and healthCheck.httpCodes are not allowed when protocol is UDP"),
    validation = Rule::new("!has(self.healthCheck) || self.protocol != 'TCP' || (has(self.healthCheck.type) && self.healthCheck.type == 'http') || (!has(self.healthCheck.domain) && !has(self.healthCheck.uri) && !has(self.healthCheck.httpCodes))")
        .message("healthCheck.domain, healthCheck.uri and healthCheck.httpCodes need healthCheck.type http on a TCP listener"),
)]
pub struct SlbListenerSpec {
    /// The SlbInstance this listener belongs to, in the same namespace. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("instanceRef is immutable"))]
    pub instance_ref: LocalObjectReference,

    /// Frontend port, 1–65535. A change deletes the listener and creates a new one.
    #[schemars(range(min = 1, max = 65535))]
    pub listener_port: i32,

    /// HTTP, HTTPS, TCP or UDP. A change deletes the listener and creates a new one.
    pub protocol: ListenerProtocol,

    /// Backend port, 1–65535.
    #[schemars(range(min = 1, max = 65535))]
    pub backend_server_port: i32,

    /// Peak bandwidth in Mbps: 1–1000, or -1 for unlimited (the default; not allowed on a load
    /// balancer billed by bandwidth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == -1 || (self >= 1 && self <= 1000)")
        .message("bandwidth must be -1 (unlimited) or between 1 and 1000 Mbps"))]
    pub bandwidth: Option<i32>,

    /// Scheduling algorithm: `wrr` (weighted round robin, the default) or `wlc` (weighted least connections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Scheduler>,

    /// TCP and UDP only: connection persistence in seconds, 0–3600; 0 (the default) disables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub persistence_timeout: Option<i32>,

    /// TCP only: seconds an idle connection stays open, 10–900 (default 900).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 900))]
    pub established_timeout: Option<i32>,

    /// Health check settings; the operator's defaults apply to what is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,

    /// HTTP and HTTPS only: session persistence by cookie. Absent means off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_session: Option<StickySession>,

    /// HTTP and HTTPS only: add the X-Forwarded-For header (the API forces it on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_forwarded_for: Option<bool>,

    /// HTTP and HTTPS only: the headers that tell the backends about the load balancer. All off by
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_headers: Option<ForwardedHeaders>,

    /// HTTP and HTTPS only: compress responses (on by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gzip: Option<bool>,

    /// HTTPS only, required there: the server certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificate: Option<CertificateSource>,

    /// HTTPS only: a CA certificate, which turns on mutual TLS. From a Secret it is read from `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<CertificateSource>,

    /// The SlbVServerGroup that receives the traffic, in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v_server_group_ref: Option<LocalObjectReference>,

    /// TCP and UDP only: the SlbMasterSlaveServerGroup that receives the traffic, in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_slave_server_group_ref: Option<LocalObjectReference>,

    /// Source address whitelist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control: Option<AccessControl>,

    /// Whether the listener runs (the default) or is stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,

    /// Delete removes the SLB listener with this object; Orphan leaves it in place. Defaults to
    /// the instance's deletionPolicy, so an adopted load balancer keeps its listeners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
}

/// The protocol of a listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ListenerProtocol {
    Http,
    Https,
    Tcp,
    Udp,
}

impl ListenerProtocol {
    /// HTTP and HTTPS: the protocols whose listeners take URL health checks, stickiness, rules.
    pub fn is_layer7(self) -> bool {
        matches!(self, ListenerProtocol::Http | ListenerProtocol::Https)
    }
}

/// A scheduling algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scheduler {
    Wrr,
    Wlc,
}

/// Health check settings of a listener.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// HTTP and HTTPS only: whether health checks run (the default) or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// TCP only: check with a TCP connect (`tcp`, the default) or an HTTP request (`http`).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub check_type: Option<HealthCheckType>,
    /// Host header of HTTP checks: `$_ip` (the backend's private IP, the default) or a domain of
    /// 1–80 letters, digits, `-` and `.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^(\$_ip|[A-Za-z0-9\-.]+)$"))]
    pub domain: Option<String>,
    /// Path of HTTP checks: starts with `/`, 1–80 of letters, digits and `-/.%?#&`. Defaults to `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 80), pattern(r"^/[A-Za-z0-9\-/.%?#&]*$"))]
    pub uri: Option<String>,
    /// Port to check, 1–65535. Defaults to the backend port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub connect_port: Option<i32>,
    /// Consecutive successes before a backend counts as healthy, 1–10 (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub healthy_threshold: Option<i32>,
    /// Consecutive failures before a backend counts as unhealthy, 1–10 (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10))]
    pub unhealthy_threshold: Option<i32>,
    /// Timeout of one check in seconds, 1–50 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 50))]
    pub timeout_seconds: Option<i32>,
    /// Interval between checks in seconds, 1–5 (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5))]
    pub interval_seconds: Option<i32>,
    /// HTTP status classes that count as healthy (default `http_2xx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4))]
    pub http_codes: Option<Vec<HttpCode>>,
}

/// How a TCP listener checks its backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthCheckType {
    Tcp,
    Http,
}

/// An HTTP status class.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum HttpCode {
    #[serde(rename = "http_2xx")]
    Http2xx,
    #[serde(rename = "http_3xx")]
    Http3xx,
    #[serde(rename = "http_4xx")]
    Http4xx,
    #[serde(rename = "http_5xx")]
    Http5xx,
}

/// Headers an HTTP or HTTPS listener adds to the requests it forwards, besides X-Forwarded-For.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardedHeaders {
    /// `SLB-IP`: the load balancer's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slb_ip: Option<bool>,
    /// `SLB-ID`: the load balancer's ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slb_id: Option<bool>,
    /// `X-Forwarded-Proto`: the listener's protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<bool>,
}

/// Session persistence by cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("self.type != 'insert' || (has(self.cookieTimeout) && !has(self.cookie))")
        .message("stickySession type insert needs cookieTimeout and does not take cookie"),
    validation = Rule::new("self.type != 'server' || (has(self.cookie) && !has(self.cookieTimeout))")
        .message("stickySession type server needs cookie and does not take cookieTimeout"),
)]
pub struct StickySession {
    /// `insert`: the load balancer inserts a cookie; `server`: it learns the cookie the backend sets.
    #[serde(rename = "type")]
    pub session_type: StickySessionType,
    /// For `insert`: cookie lifetime in seconds, 1–86400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 86400))]
    pub cookie_timeout: Option<i32>,
    /// For `server`: the name of the backend's cookie, 1–200 ASCII letters and digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200), pattern(r"^[A-Za-z0-9]+$"))]
    pub cookie: Option<String>,
}

/// How sticky sessions get their cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StickySessionType {
    Insert,
    Server,
}

/// Where a certificate comes from: a Secret the operator uploads, or a certificate already in SLB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.secretRef) != has(self.certificateId)")
    .message("set exactly one of secretRef and certificateId"))]
pub struct CertificateSource {
    /// A `kubernetes.io/tls` Secret in the same namespace. It is uploaded again when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// The ID of a certificate already uploaded to SLB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub certificate_id: Option<String>,
}

/// A source address whitelist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessControl {
    /// Whether only the listed sources may connect.
    pub enabled: bool,
    /// IPv4 addresses or CIDR ranges, for example `10.0.0.0/8` (not `0.0.0.0`).
    #[serde(default)]
    #[schemars(length(max = 300), inner(length(min = 7, max = 18)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[x_kube(validation = Rule::new("self.all(s, (isIP(s) && ip(s).family() == 4 && s != '0.0.0.0') || (isCIDR(s) && cidr(s).ip().family() == 4 && !s.startsWith('0.0.0.0')))")
        .message("sourceItems must be IPv4 addresses or CIDR ranges such as 192.168.0.0/16, and not 0.0.0.0"))]
    pub source_items: Vec<String>,
}

/// The observed state of an SlbListener.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlbListenerStatus {
    /// The load balancer the listener was created on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_id: Option<String>,
    /// The region of that load balancer, where the uploaded certificates live too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<String>,
    /// The port the listener was created with (differs from spec while a port change is applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_port: Option<i32>,
    /// The protocol the listener was created with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ListenerProtocol>,
    /// `starting`, `running`, `configuring`, `stopping` or `stopped`, as the API reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_state: Option<String>,
    /// The server certificate in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificate_id: Option<String>,
    /// The CA certificate in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate_id: Option<String>,
    /// Certificates the operator uploaded from Secrets for this listener. Each is deleted once the
    /// listener no longer uses it, and all of them after the listener is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploaded_certificates: Vec<UploadedCertificate>,
    /// Ready (and Synced) conditions.
    #[serde(default)]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,
    /// The metadata.generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A certificate the operator uploaded from a Secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadedCertificate {
    /// Server (certificate and key) or CA.
    pub kind: CertificateKind,
    /// The certificate's ID in SLB.
    pub id: String,
    /// The name it was uploaded under: derived from the owner's uid and the certificate's fingerprint.
    pub name: String,
    /// When the certificate expires (RFC 3339), as read from its Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
}

/// The two kinds of certificate an HTTPS listener uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CertificateKind {
    Server,
    #[serde(rename = "CA")]
    Ca,
}
