//! The pure part of the SlbListener reconcile: the settings the spec asks for, in the same canonical
//! form as what SLB reports, and the calls that close the difference.

use sha2::{Digest, Sha256};
use slb_api::{
    CreateLoadBalancerHTTPListenerRequest, CreateLoadBalancerHTTPSListenerRequest,
    CreateLoadBalancerTCPListenerRequest, CreateLoadBalancerUDPListenerRequest,
    HealthCheckHttpCode, HealthCheckTiming, HealthCheckType, HttpHealthCheck,
    HttpListenerAttribute, Layer4ListenerAttribute, ListenerStatus, OnOff, Scheduler,
    ServerGroupIds, ServerGroupSwitches, SetLoadBalancerHTTPListenerAttributeRequest,
    SetLoadBalancerHTTPSListenerAttributeRequest, SetLoadBalancerTCPListenerAttributeRequest,
    SetLoadBalancerUDPListenerAttributeRequest, StickySession, StickySessionType, XForwardedFor,
};

use crate::crd::{
    self, CertificateKind, HttpCode, ListenerProtocol, SlbListenerSpec, UploadedCertificate,
};

/// Names of uploaded certificates start with this, then the owner's uid and the fingerprint.
pub const CERTIFICATE_NAME_PREFIX: &str = "slb-operator";
/// Hex digits of the SHA-256 fingerprint kept in a certificate name (the API allows 80 characters).
const FINGERPRINT_DIGITS: usize = 16;

const DEFAULT_BANDWIDTH: i32 = -1;
const DEFAULT_THRESHOLD: u32 = 3;
const DEFAULT_TIMEOUT_SECONDS: u32 = 5;
const DEFAULT_INTERVAL_SECONDS: u32 = 2;
const DEFAULT_URI: &str = "/";
/// The API's spelling of "the backend's private IP" as the Host of HTTP health checks.
const BACKEND_IP_DOMAIN: &str = "$_ip";

/// A listener's identity: changing either part means deleting the listener and creating another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address {
    pub port: u16,
    pub protocol: ListenerProtocol,
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, protocol_name(self.protocol))
    }
}

fn protocol_name(protocol: ListenerProtocol) -> &'static str {
    match protocol {
        ListenerProtocol::Http => "HTTP",
        ListenerProtocol::Https => "HTTPS",
        ListenerProtocol::Tcp => "TCP",
        ListenerProtocol::Udp => "UDP",
    }
}

fn is_layer7(protocol: ListenerProtocol) -> bool {
    matches!(protocol, ListenerProtocol::Http | ListenerProtocol::Https)
}

/// What the spec's references resolved to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
    pub server_certificate_id: Option<String>,
    pub ca_certificate_id: Option<String>,
}

/// Session persistence, as compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stickiness {
    Off,
    Insert { cookie_timeout: Option<u32> },
    Server { cookie: Option<String> },
}

/// Health check settings, as compared. When `enabled` is false every other field is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HealthSettings {
    pub enabled: bool,
    /// TCP only.
    pub check_type: Option<HealthCheckType>,
    /// `None` stands for the backend's IP (`$_ip`).
    pub domain: Option<String>,
    pub uri: Option<String>,
    pub connect_port: Option<i32>,
    pub healthy_threshold: Option<u32>,
    pub unhealthy_threshold: Option<u32>,
    pub timeout: Option<u32>,
    pub interval: Option<u32>,
    pub http_codes: Vec<HealthCheckHttpCode>,
}

/// The settings of a listener in one canonical form, built from the spec or from a describe, so
/// that `==` means "no call needed". X-Forwarded-For is left out: the API forces it on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `None` when the describe does not report it; it cannot be changed in place.
    pub backend_port: Option<u16>,
    pub bandwidth: Option<i32>,
    pub scheduler: Option<Scheduler>,
    /// TCP and UDP.
    pub persistence_timeout: Option<u32>,
    /// HTTP and HTTPS.
    pub stickiness: Option<Stickiness>,
    /// HTTP and HTTPS.
    pub gzip: Option<OnOff>,
    pub health: HealthSettings,
    pub v_server_group_id: Option<String>,
    pub master_slave_server_group_id: Option<String>,
    pub server_certificate_id: Option<String>,
    pub ca_certificate_id: Option<String>,
}

impl Settings {
    /// Applies the protocol's rules, so that values the API ignores or defaults compare equal.
    fn canonical(mut self, protocol: ListenerProtocol) -> Self {
        let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
        self.v_server_group_id = non_empty(self.v_server_group_id);
        self.master_slave_server_group_id = non_empty(self.master_slave_server_group_id);
        self.server_certificate_id = non_empty(self.server_certificate_id);
        self.ca_certificate_id = non_empty(self.ca_certificate_id);
        if protocol != ListenerProtocol::Https {
            self.server_certificate_id = None;
            self.ca_certificate_id = None;
        }
        let health = &mut self.health;
        health.domain = health
            .domain
            .take()
            .filter(|d| !d.is_empty() && d != BACKEND_IP_DOMAIN);
        if is_layer7(protocol) {
            self.persistence_timeout = None;
            self.master_slave_server_group_id = None;
            self.stickiness = Some(self.stickiness.unwrap_or(Stickiness::Off));
            self.gzip = Some(self.gzip.unwrap_or(OnOff::On));
            health.check_type = None;
        } else {
            self.stickiness = None;
            self.gzip = None;
            self.persistence_timeout = Some(self.persistence_timeout.unwrap_or(0));
            // TCP and UDP listeners always health-check.
            health.enabled = true;
            health.check_type = match protocol {
                ListenerProtocol::Tcp => Some(health.check_type.unwrap_or(HealthCheckType::Tcp)),
                _ => None,
            };
        }
        let http_check = match protocol {
            ListenerProtocol::Http | ListenerProtocol::Https => true,
            ListenerProtocol::Tcp => health.check_type == Some(HealthCheckType::Http),
            ListenerProtocol::Udp => false,
        };
        if !http_check {
            health.domain = None;
            health.uri = None;
            health.http_codes.clear();
        } else if health.http_codes.is_empty() {
            health.http_codes.push(HealthCheckHttpCode::Http2xx);
        }
        health.http_codes.sort_by_key(|code| code.as_str());
        health.http_codes.dedup();
        if !health.enabled {
            *health = HealthSettings::default();
        }
        self
    }
}

/// The settings the spec asks for, with the operator's defaults for what it leaves out.
pub fn desired_settings(
    spec: &SlbListenerSpec,
    backend_port: u16,
    resolved: &Resolved,
) -> Settings {
    let protocol = spec.protocol;
    let check = spec.health_check.clone().unwrap_or_default();
    let enabled = !is_layer7(protocol) || check.enabled.unwrap_or(true);
    let http_codes = check
        .http_codes
        .unwrap_or_default()
        .into_iter()
        .map(to_api_http_code)
        .collect();
    let health = HealthSettings {
        enabled,
        check_type: check.check_type.map(|t| match t {
            crd::HealthCheckType::Tcp => HealthCheckType::Tcp,
            crd::HealthCheckType::Http => HealthCheckType::Http,
        }),
        domain: check.domain,
        uri: Some(check.uri.unwrap_or_else(|| DEFAULT_URI.to_owned())),
        connect_port: Some(check.connect_port.unwrap_or(i32::from(backend_port))),
        healthy_threshold: Some(to_u32(check.healthy_threshold, DEFAULT_THRESHOLD)),
        unhealthy_threshold: Some(to_u32(check.unhealthy_threshold, DEFAULT_THRESHOLD)),
        timeout: Some(to_u32(check.timeout_seconds, DEFAULT_TIMEOUT_SECONDS)),
        interval: Some(to_u32(check.interval_seconds, DEFAULT_INTERVAL_SECONDS)),
        http_codes,
    };
    Settings {
        backend_port: Some(backend_port),
        bandwidth: Some(spec.bandwidth.unwrap_or(DEFAULT_BANDWIDTH)),
        scheduler: Some(match spec.scheduler {
            Some(crd::Scheduler::Wlc) => Scheduler::WeightedLeastConnections,
            Some(crd::Scheduler::Wrr) | None => Scheduler::WeightedRoundRobin,
        }),
        persistence_timeout: spec.persistence_timeout.and_then(|t| u32::try_from(t).ok()),
        stickiness: spec.sticky_session.as_ref().map(stickiness),
        gzip: Some(OnOff::from_bool(spec.gzip.unwrap_or(true))),
        health,
        v_server_group_id: resolved.v_server_group_id.clone(),
        master_slave_server_group_id: resolved.master_slave_server_group_id.clone(),
        server_certificate_id: resolved.server_certificate_id.clone(),
        ca_certificate_id: resolved.ca_certificate_id.clone(),
    }
    .canonical(protocol)
}

fn to_u32(value: Option<i32>, default: u32) -> u32 {
    value.and_then(|v| u32::try_from(v).ok()).unwrap_or(default)
}

fn stickiness(sticky: &crd::StickySession) -> Stickiness {
    match sticky.session_type {
        crd::StickySessionType::Insert => Stickiness::Insert {
            cookie_timeout: sticky.cookie_timeout.and_then(|t| u32::try_from(t).ok()),
        },
        crd::StickySessionType::Server => Stickiness::Server {
            cookie: sticky.cookie.clone(),
        },
    }
}

fn to_api_http_code(code: HttpCode) -> HealthCheckHttpCode {
    match code {
        HttpCode::Http2xx => HealthCheckHttpCode::Http2xx,
        HttpCode::Http3xx => HealthCheckHttpCode::Http3xx,
        HttpCode::Http4xx => HealthCheckHttpCode::Http4xx,
        HttpCode::Http5xx => HealthCheckHttpCode::Http5xx,
    }
}

/// What an HTTP or HTTPS describe reports, in canonical form.
pub fn observed_http(protocol: ListenerProtocol, attribute: &HttpListenerAttribute) -> Settings {
    let stickiness = match (attribute.sticky_session, attribute.sticky_session_type) {
        (Some(OnOff::On), Some(StickySessionType::Insert)) => Stickiness::Insert {
            cookie_timeout: attribute.cookie_timeout,
        },
        (Some(OnOff::On), Some(StickySessionType::Server)) => Stickiness::Server {
            cookie: attribute.cookie.clone(),
        },
        _ => Stickiness::Off,
    };
    Settings {
        backend_port: attribute.backend_server_port,
        bandwidth: attribute.bandwidth,
        scheduler: attribute.scheduler,
        persistence_timeout: None,
        stickiness: Some(stickiness),
        gzip: attribute.gzip,
        health: HealthSettings {
            enabled: attribute.health_check == Some(OnOff::On),
            check_type: None,
            domain: attribute.health_check_domain.clone(),
            uri: attribute.health_check_uri.clone(),
            connect_port: attribute.health_check_connect_port,
            healthy_threshold: attribute.healthy_threshold,
            unhealthy_threshold: attribute.unhealthy_threshold,
            timeout: attribute.health_check_timeout,
            interval: attribute.health_check_interval,
            http_codes: attribute.health_check_http_code.clone(),
        },
        v_server_group_id: attribute.v_server_group_id.clone(),
        master_slave_server_group_id: None,
        server_certificate_id: attribute.server_certificate_id.clone(),
        ca_certificate_id: attribute.ca_certificate_id.clone(),
    }
    .canonical(protocol)
}

/// What a TCP or UDP describe reports, in canonical form.
pub fn observed_layer4(
    protocol: ListenerProtocol,
    attribute: &Layer4ListenerAttribute,
) -> Settings {
    Settings {
        backend_port: attribute.backend_server_port,
        bandwidth: attribute.bandwidth,
        scheduler: attribute.scheduler,
        persistence_timeout: attribute.persistence_timeout,
        stickiness: None,
        gzip: None,
        health: HealthSettings {
            enabled: true,
            check_type: attribute.health_check_type,
            domain: attribute.health_check_domain.clone(),
            uri: attribute.health_check_uri.clone(),
            connect_port: attribute.health_check_connect_port,
            healthy_threshold: attribute.healthy_threshold,
            unhealthy_threshold: attribute.unhealthy_threshold,
            timeout: attribute.health_check_timeout,
            interval: attribute.health_check_interval,
            http_codes: attribute.health_check_http_code.clone(),
        },
        v_server_group_id: attribute.v_server_group_id.clone(),
        master_slave_server_group_id: attribute.master_slave_server_group_id.clone(),
        server_certificate_id: None,
        ca_certificate_id: None,
    }
    .canonical(protocol)
}

/// A source whitelist, as compared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessControlState {
    pub enabled: bool,
    pub source_items: Vec<String>,
}

/// A listener SLB reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedListener {
    pub status: Option<ListenerStatus>,
    pub settings: Settings,
    /// Read only when the spec declares access control; `None` otherwise.
    pub access_control: Option<AccessControlState>,
}

/// What holds a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    Free,
    Listener(Box<ObservedListener>),
    /// A listener of another protocol.
    OtherProtocol,
}

/// What SLB reported for the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// At the address the status records (the listener this object created or took over).
    pub claimed: Slot,
    /// At the spec's port, when that is not the claimed port; `None` when not looked at.
    pub target: Option<Slot>,
}

/// Everything the plan needs besides what SLB reported.
#[derive(Clone, Debug)]
pub struct Desired {
    pub load_balancer_id: String,
    pub address: Address,
    pub settings: Settings,
    pub started: bool,
    /// `None`: the whitelist is not managed (left as it is).
    pub access_control: Option<AccessControlState>,
    /// Spec fields not compared but sent (X-Forwarded-For).
    pub x_forwarded_for: OnOff,
    /// Whether listeners that exist before the object may be taken over (an adopted instance).
    pub adopted_instance: bool,
}

/// A create call of one of the four protocols.
#[derive(Clone, Debug, PartialEq)]
pub enum Create {
    Http(CreateLoadBalancerHTTPListenerRequest),
    Https(CreateLoadBalancerHTTPSListenerRequest),
    Tcp(CreateLoadBalancerTCPListenerRequest),
    Udp(CreateLoadBalancerUDPListenerRequest),
}

/// A set-attribute call of one of the four protocols.
#[derive(Clone, Debug, PartialEq)]
pub enum Set {
    Http(SetLoadBalancerHTTPListenerAttributeRequest),
    Https(SetLoadBalancerHTTPSListenerAttributeRequest),
    Tcp(SetLoadBalancerTCPListenerAttributeRequest),
    Udp(SetLoadBalancerUDPListenerAttributeRequest),
}

/// A call that brings SLB closer to the spec.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Removes the listener at `address` so another can be created; `reason` goes into an Event.
    Delete {
        address: Address,
        reason: String,
    },
    Create(Box<Create>),
    Set(Box<Set>),
    AddSourceItems(Vec<String>),
    RemoveSourceItems(Vec<String>),
    SetAccessControl(bool),
    Start,
    Stop,
}

/// The outcome of planning.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// The listener is starting, configuring or stopping; the API refuses changes until it settles.
    Wait(ListenerStatus),
    /// A listener this object did not create holds the spec's port; it is never touched.
    Occupied(Address),
    /// An existing listener on an adopted instance is declared by the object; it is recorded in the
    /// status and changed from the next reconcile on.
    Adopt,
    /// Calls to make, in order; none when SLB matches the spec.
    Changes(Vec<Change>),
}

/// Plans the calls. `claimed` is the address the status records, if any.
pub fn plan(desired: &Desired, claimed: Option<Address>, observed: &Observed) -> Plan {
    let mut changes = Vec::new();
    let existing = match &observed.claimed {
        Slot::Listener(listener) => Some(listener.as_ref()),
        Slot::Free | Slot::OtherProtocol => None,
    };
    if let (Some(listener), Some(claimed)) = (existing, claimed) {
        if let Some(status) = listener.status.filter(|s| is_transitional(*s)) {
            return Plan::Wait(status);
        }
        match recreate_reason(desired, claimed, &listener.settings) {
            Some(reason) => changes.push(Change::Delete {
                address: claimed,
                reason,
            }),
            None => {
                changes.extend(update(desired, listener));
                return Plan::Changes(changes);
            }
        }
    }
    let same_port = claimed.is_some_and(|c| c.port == desired.address.port);
    // Our port now holds a listener of another protocol, made outside: it is not ours to delete.
    if same_port && observed.claimed == Slot::OtherProtocol {
        return Plan::Occupied(desired.address);
    }
    if !same_port {
        match &observed.target {
            Some(Slot::Listener(_)) if desired.adopted_instance && existing.is_none() => {
                return Plan::Adopt;
            }
            Some(Slot::Listener(_)) | Some(Slot::OtherProtocol) => {
                return Plan::Occupied(desired.address);
            }
            Some(Slot::Free) | None => {}
        }
    }
    changes.push(Change::Create(Box::new(create_request(desired))));
    let access_control = desired.access_control.as_ref();
    changes.extend(access_control_changes(
        access_control,
        Some(&AccessControlState::default()),
    ));
    if desired.started {
        changes.push(Change::Start);
    }
    Plan::Changes(changes)
}

fn is_transitional(status: ListenerStatus) -> bool {
    matches!(
        status,
        ListenerStatus::Starting | ListenerStatus::Configuring | ListenerStatus::Stopping
    )
}

/// Why the claimed listener must be deleted and created again, if it must.
fn recreate_reason(desired: &Desired, claimed: Address, observed: &Settings) -> Option<String> {
    let wanted = desired.address;
    if claimed.port != wanted.port && claimed.protocol != wanted.protocol {
        return Some(format!("the port and protocol changed to {wanted}"));
    }
    if claimed.port != wanted.port {
        return Some(format!("the port changed to {}", wanted.port));
    }
    if claimed.protocol != wanted.protocol {
        return Some(format!(
            "the protocol changed to {}",
            protocol_name(wanted.protocol)
        ));
    }
    let settings = &desired.settings;
    if observed
        .backend_port
        .is_some_and(|port| Some(port) != settings.backend_port)
    {
        return Some("the backend port changed, which the API cannot change in place".to_owned());
    }
    // SetLoadBalancerHTTPSListenerAttribute can replace the CA certificate but not remove it.
    if wanted.protocol == ListenerProtocol::Https
        && observed.ca_certificate_id.is_some()
        && settings.ca_certificate_id.is_none()
    {
        return Some(
            "the CA certificate was removed, which an HTTPS listener cannot do in place".to_owned(),
        );
    }
    None
}

/// The calls that bring an existing listener at the right address to the spec.
fn update(desired: &Desired, listener: &ObservedListener) -> Vec<Change> {
    let mut changes = Vec::new();
    if listener.settings != desired.settings {
        changes.push(Change::Set(Box::new(set_request(desired))));
    }
    changes.extend(access_control_changes(
        desired.access_control.as_ref(),
        listener.access_control.as_ref(),
    ));
    match (desired.started, listener.status) {
        (true, Some(ListenerStatus::Stopped)) => changes.push(Change::Start),
        (false, Some(ListenerStatus::Running)) => changes.push(Change::Stop),
        _ => {}
    }
    // Each change puts a running listener in `configuring`, where the API refuses the next one
    // until it settles: one change per reconcile, the rest after it has settled.
    if listener.status == Some(ListenerStatus::Running) {
        changes.truncate(1);
    }
    changes
}

/// Whitelist calls: items first, so that a list switched on is already complete.
fn access_control_changes(
    desired: Option<&AccessControlState>,
    observed: Option<&AccessControlState>,
) -> Vec<Change> {
    let (Some(desired), Some(observed)) = (desired, observed) else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    let missing: Vec<String> = desired
        .source_items
        .iter()
        .filter(|item| !observed.source_items.contains(item))
        .cloned()
        .collect();
    let extra: Vec<String> = observed
        .source_items
        .iter()
        .filter(|item| !desired.source_items.contains(item))
        .cloned()
        .collect();
    if !missing.is_empty() {
        changes.push(Change::AddSourceItems(missing));
    }
    if !extra.is_empty() {
        changes.push(Change::RemoveSourceItems(extra));
    }
    if desired.enabled != observed.enabled {
        changes.push(Change::SetAccessControl(desired.enabled));
    }
    changes
}

/// The X-Forwarded-For switches of HTTP and HTTPS listeners; the spec declares only the header itself.
fn x_forwarded_for(desired: &Desired) -> XForwardedFor {
    XForwardedFor {
        enabled: Some(desired.x_forwarded_for),
        ..Default::default()
    }
}

fn sticky_session(stickiness: Option<&Stickiness>) -> StickySession {
    match stickiness {
        Some(Stickiness::Insert { cookie_timeout }) => StickySession {
            enabled: OnOff::On,
            session_type: Some(StickySessionType::Insert),
            cookie_timeout: *cookie_timeout,
            cookie: None,
        },
        Some(Stickiness::Server { cookie }) => StickySession {
            enabled: OnOff::On,
            session_type: Some(StickySessionType::Server),
            cookie_timeout: None,
            cookie: cookie.clone(),
        },
        Some(Stickiness::Off) | None => StickySession::default(),
    }
}

fn http_health_check(health: &HealthSettings) -> HttpHealthCheck {
    let http_check = health.uri.is_some();
    HttpHealthCheck {
        // Sent explicitly, so that a domain removed from the spec does not stay in SLB.
        domain: http_check.then(|| {
            health
                .domain
                .clone()
                .unwrap_or_else(|| BACKEND_IP_DOMAIN.to_owned())
        }),
        uri: health.uri.clone(),
        http_codes: health.http_codes.clone(),
    }
}

fn health_check_timing(health: &HealthSettings) -> HealthCheckTiming {
    HealthCheckTiming {
        healthy_threshold: health.healthy_threshold,
        unhealthy_threshold: health.unhealthy_threshold,
        timeout: health.timeout,
        interval: health.interval,
    }
}

/// On/off switch and ID of a server group in the set requests.
fn group_switch(id: &Option<String>) -> (Option<OnOff>, Option<String>) {
    (Some(OnOff::from_bool(id.is_some())), id.clone())
}

fn server_group_ids(settings: &Settings) -> ServerGroupIds {
    ServerGroupIds {
        v_server_group_id: settings.v_server_group_id.clone(),
        master_slave_server_group_id: settings.master_slave_server_group_id.clone(),
    }
}

fn server_group_switches(settings: &Settings) -> ServerGroupSwitches {
    let (v_server_group, v_server_group_id) = group_switch(&settings.v_server_group_id);
    let (master_slave_server_group, master_slave_server_group_id) =
        group_switch(&settings.master_slave_server_group_id);
    ServerGroupSwitches {
        v_server_group,
        v_server_group_id,
        master_slave_server_group,
        master_slave_server_group_id,
    }
}

fn create_request(desired: &Desired) -> Create {
    let s = &desired.settings;
    let load_balancer_id = desired.load_balancer_id.clone();
    let listener_port = desired.address.port;
    let backend_server_port = s.backend_port.unwrap_or(listener_port);
    let bandwidth = s.bandwidth.unwrap_or(DEFAULT_BANDWIDTH);
    let health_check = OnOff::from_bool(s.health.enabled);
    let health_check_connect_port = s.health.connect_port;
    match desired.address.protocol {
        ListenerProtocol::Http => Create::Http(CreateLoadBalancerHTTPListenerRequest {
            load_balancer_id,
            listener_port,
            backend_server_port,
            bandwidth,
            x_forwarded_for: x_forwarded_for(desired),
            scheduler: s.scheduler,
            sticky_session: sticky_session(s.stickiness.as_ref()),
            health_check,
            http_health_check: http_health_check(&s.health),
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            v_server_group_id: s.v_server_group_id.clone(),
            gzip: s.gzip,
        }),
        ListenerProtocol::Https => Create::Https(CreateLoadBalancerHTTPSListenerRequest {
            load_balancer_id,
            listener_port,
            backend_server_port,
            bandwidth,
            x_forwarded_for: x_forwarded_for(desired),
            scheduler: s.scheduler,
            sticky_session: sticky_session(s.stickiness.as_ref()),
            health_check,
            http_health_check: http_health_check(&s.health),
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            server_certificate_id: s.server_certificate_id.clone().unwrap_or_default(),
            ca_certificate_id: s.ca_certificate_id.clone(),
            v_server_group_id: s.v_server_group_id.clone(),
            gzip: s.gzip,
        }),
        ListenerProtocol::Tcp => Create::Tcp(CreateLoadBalancerTCPListenerRequest {
            load_balancer_id,
            listener_port,
            backend_server_port,
            bandwidth,
            scheduler: s.scheduler,
            persistence_timeout: s.persistence_timeout,
            health_check_type: s.health.check_type,
            http_health_check: http_health_check(&s.health),
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            server_groups: server_group_ids(s),
            established_timeout: None,
        }),
        ListenerProtocol::Udp => Create::Udp(CreateLoadBalancerUDPListenerRequest {
            load_balancer_id,
            listener_port,
            backend_server_port,
            bandwidth: Some(bandwidth),
            scheduler: s.scheduler,
            persistence_timeout: s.persistence_timeout,
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            server_groups: server_group_ids(s),
            health_check_req: None,
            health_check_exp: None,
        }),
    }
}

/// The whole desired configuration: the Set actions keep what they are not sent, so everything is.
fn set_request(desired: &Desired) -> Set {
    let s = &desired.settings;
    let load_balancer_id = desired.load_balancer_id.clone();
    let listener_port = desired.address.port;
    let bandwidth = s.bandwidth.unwrap_or(DEFAULT_BANDWIDTH);
    let health_check = OnOff::from_bool(s.health.enabled);
    let health_check_connect_port = s.health.connect_port;
    let (v_server_group, v_server_group_id) = group_switch(&s.v_server_group_id);
    match desired.address.protocol {
        ListenerProtocol::Http => Set::Http(SetLoadBalancerHTTPListenerAttributeRequest {
            load_balancer_id,
            listener_port,
            bandwidth,
            x_forwarded_for: x_forwarded_for(desired),
            scheduler: s.scheduler,
            sticky_session: sticky_session(s.stickiness.as_ref()),
            health_check,
            http_health_check: http_health_check(&s.health),
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            v_server_group,
            v_server_group_id,
            gzip: s.gzip,
        }),
        ListenerProtocol::Https => Set::Https(SetLoadBalancerHTTPSListenerAttributeRequest {
            load_balancer_id,
            listener_port,
            bandwidth,
            x_forwarded_for: x_forwarded_for(desired),
            scheduler: s.scheduler,
            sticky_session: sticky_session(s.stickiness.as_ref()),
            health_check,
            http_health_check: http_health_check(&s.health),
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            server_certificate_id: s.server_certificate_id.clone().unwrap_or_default(),
            ca_certificate_id: s.ca_certificate_id.clone(),
            v_server_group,
            v_server_group_id,
            gzip: s.gzip,
        }),
        ListenerProtocol::Tcp => Set::Tcp(SetLoadBalancerTCPListenerAttributeRequest {
            load_balancer_id,
            listener_port,
            bandwidth,
            scheduler: s.scheduler,
            persistence_timeout: s.persistence_timeout,
            health_check_type: s.health.check_type,
            http_health_check: http_health_check(&s.health),
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            server_groups: server_group_switches(s),
            ..Default::default()
        }),
        ListenerProtocol::Udp => Set::Udp(SetLoadBalancerUDPListenerAttributeRequest {
            load_balancer_id,
            listener_port,
            bandwidth,
            scheduler: s.scheduler,
            persistence_timeout: s.persistence_timeout,
            health_check_connect_port,
            health_check_timing: health_check_timing(&s.health),
            server_groups: server_group_switches(s),
        }),
    }
}

/// The name a certificate from a Secret is uploaded under: stable for the same owner and content,
/// new when either changes (a renewal), and recognisable after a crash before the status write.
pub fn certificate_name(uid: &str, pem: &str) -> String {
    let digest = Sha256::digest(pem.trim().as_bytes());
    let fingerprint: String = digest
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<String>()
        .chars()
        .take(FINGERPRINT_DIGITS)
        .collect();
    format!("{CERTIFICATE_NAME_PREFIX}-{uid}-{fingerprint}")
}

/// Uploaded certificates the listener no longer uses: neither the server nor the CA certificate in
/// `in_use`. They are deleted after the listener has switched away from them.
pub fn unused_certificates(
    uploaded: &[UploadedCertificate],
    server_in_use: Option<&str>,
    ca_in_use: Option<&str>,
) -> Vec<UploadedCertificate> {
    uploaded
        .iter()
        .filter(|certificate| {
            let in_use = match certificate.kind {
                CertificateKind::Server => server_in_use,
                CertificateKind::Ca => ca_in_use,
            };
            in_use != Some(certificate.id.as_str())
        })
        .cloned()
        .collect()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
