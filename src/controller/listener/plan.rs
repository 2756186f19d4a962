//! The pure part of the SlbListener reconcile: the calls that close the difference between the
//! settings the spec asks for and what SLB reports (both in the canonical form of `settings`).

use sha2::{Digest, Sha256};
use slb_api::{
    CreateLoadBalancerHTTPListenerRequest, CreateLoadBalancerHTTPSListenerRequest,
    CreateLoadBalancerTCPListenerRequest, CreateLoadBalancerUDPListenerRequest, HealthCheckTiming,
    HttpHealthCheck, HttpListenerSettings, ListenerStatus, OnOff, ServerGroupIds,
    ServerGroupSwitches, SetLoadBalancerHTTPListenerAttributeRequest,
    SetLoadBalancerHTTPSListenerAttributeRequest, SetLoadBalancerTCPListenerAttributeRequest,
    SetLoadBalancerUDPListenerAttributeRequest, StickySession, StickySessionType, XForwardedFor,
};

use super::settings::{BACKEND_IP_DOMAIN, DEFAULT_BANDWIDTH, HealthSettings, Settings, Stickiness};
use crate::crd::{CertificateKind, ListenerProtocol, UploadedCertificate};

/// Names of uploaded certificates start with this, then the owner's uid and the fingerprint.
pub const CERTIFICATE_NAME_PREFIX: &str = "slb-operator";
/// Hex digits of the SHA-256 fingerprint kept in a certificate name (the API allows 80 characters).
const FINGERPRINT_DIGITS: usize = 16;

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

/// Whether a failed create certainly made no listener, so that the port recorded ahead of it is
/// released. Only an answer SLB gave (as the client judges it: an error document, or a 4xx) or a
/// request never sent is certain; a timeout, a lost answer, a 5xx from something in between or a
/// success that could not be read may hide a listener made, and the claim then stays.
pub fn create_refused(error: &slb_api::Error) -> bool {
    match error {
        slb_api::Error::Api { error, .. } => {
            !error.request_id.is_empty() || error.http_status < 500
        }
        slb_api::Error::Validation { .. } | slb_api::Error::Config(_) => true,
        slb_api::Error::Transport { .. } | slb_api::Error::Decode { .. } => false,
    }
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
    // What a describe does not report cannot be seen to drift; it is sent with every set.
    let mut observed = listener.settings.clone();
    if observed.forwarded_headers.is_none() {
        observed
            .forwarded_headers
            .clone_from(&desired.settings.forwarded_headers);
    }
    if observed.established_timeout.is_none() {
        observed.established_timeout = desired.settings.established_timeout;
    }
    if observed != desired.settings {
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

/// What HTTP and HTTPS listeners are configured with, in Create and Set alike; `with_extras` as in
/// [`x_forwarded_for`].
fn http_settings(desired: &Desired, with_extras: bool) -> HttpListenerSettings {
    let s = &desired.settings;
    HttpListenerSettings {
        bandwidth: s.bandwidth.unwrap_or(DEFAULT_BANDWIDTH),
        x_forwarded_for: x_forwarded_for(desired, with_extras),
        scheduler: s.scheduler,
        sticky_session: sticky_session(s.stickiness.as_ref()),
        health_check: OnOff::from_bool(s.health.enabled),
        http_health_check: http_health_check(&s.health),
        health_check_connect_port: s.health.connect_port,
        health_check_timing: health_check_timing(&s.health),
        gzip: s.gzip,
    }
}

/// The X-Forwarded-For switches of HTTP and HTTPS listeners. CreateLoadBalancerHTTPSListener
/// takes only the header itself (`with_extras` false); the set that follows adds the others.
fn x_forwarded_for(desired: &Desired, with_extras: bool) -> XForwardedFor {
    let extras = desired
        .settings
        .forwarded_headers
        .as_ref()
        .filter(|_| with_extras);
    XForwardedFor {
        enabled: Some(desired.x_forwarded_for),
        slb_ip: extras.map(|h| OnOff::from_bool(h.slb_ip)),
        slb_id: extras.map(|h| OnOff::from_bool(h.slb_id)),
        proto: extras.map(|h| OnOff::from_bool(h.proto)),
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
    let health_check_connect_port = s.health.connect_port;
    match desired.address.protocol {
        ListenerProtocol::Http => Create::Http(CreateLoadBalancerHTTPListenerRequest {
            load_balancer_id,
            listener_port,
            backend_server_port,
            v_server_group_id: s.v_server_group_id.clone(),
            settings: http_settings(desired, true),
        }),
        ListenerProtocol::Https => Create::Https(CreateLoadBalancerHTTPSListenerRequest {
            load_balancer_id,
            listener_port,
            backend_server_port,
            server_certificate_id: s.server_certificate_id.clone().unwrap_or_default(),
            ca_certificate_id: s.ca_certificate_id.clone(),
            v_server_group_id: s.v_server_group_id.clone(),
            settings: http_settings(desired, false),
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
            established_timeout: s.established_timeout,
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
    let health_check_connect_port = s.health.connect_port;
    let (v_server_group, v_server_group_id) = group_switch(&s.v_server_group_id);
    match desired.address.protocol {
        ListenerProtocol::Http => Set::Http(SetLoadBalancerHTTPListenerAttributeRequest {
            load_balancer_id,
            listener_port,
            v_server_group,
            v_server_group_id,
            settings: http_settings(desired, true),
        }),
        ListenerProtocol::Https => Set::Https(SetLoadBalancerHTTPSListenerAttributeRequest {
            load_balancer_id,
            listener_port,
            server_certificate_id: s.server_certificate_id.clone().unwrap_or_default(),
            ca_certificate_id: s.ca_certificate_id.clone(),
            v_server_group,
            v_server_group_id,
            settings: http_settings(desired, true),
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
            established_timeout: s.established_timeout,
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

/// Whether SLB's `name` of a certificate is one [`certificate_name`] gave for the owner `uid`: only
/// those are deleted, whatever ID the status records.
pub fn named_for(uid: &str, name: &str) -> bool {
    !uid.is_empty()
        && name
            .strip_prefix(CERTIFICATE_NAME_PREFIX)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_prefix(uid))
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|fingerprint| {
                fingerprint.len() == FINGERPRINT_DIGITS
                    && fingerprint.chars().all(|c| c.is_ascii_hexdigit())
            })
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
