use super::*;
use slb_api::{
    HealthCheckAttribute, HealthCheckHttpCode, HealthCheckType, HttpListenerAttribute,
    Layer4ListenerAttribute, Scheduler,
};

use super::super::settings::*;
use crate::crd::SlbListenerSpec;

const LB: &str = "lb-1";

fn spec(yaml: &str) -> SlbListenerSpec {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| unreachable!("bad test spec: {e}"))
}

fn desired_from(spec: &SlbListenerSpec, resolved: &Resolved) -> Desired {
    let backend_port = u16::try_from(spec.backend_server_port).unwrap_or(1);
    Desired {
        load_balancer_id: LB.into(),
        address: Address {
            port: u16::try_from(spec.listener_port).unwrap_or(1),
            protocol: spec.protocol,
        },
        settings: desired_settings(spec, backend_port, resolved),
        started: spec.started.unwrap_or(true),
        access_control: spec.access_control.as_ref().map(|ac| AccessControlState {
            enabled: ac.enabled,
            source_items: ac.source_items.clone(),
        }),
        x_forwarded_for: OnOff::from_bool(spec.x_forwarded_for.unwrap_or(true)),
        adopted_instance: false,
    }
}

fn desired(yaml: &str) -> Desired {
    desired_from(&spec(yaml), &Resolved::default())
}

const HTTP: &str =
    "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080}";
const TCP: &str =
    "{instanceRef: {name: web}, listenerPort: 443, protocol: TCP, backendServerPort: 8443}";
const UDP: &str =
    "{instanceRef: {name: web}, listenerPort: 53, protocol: UDP, backendServerPort: 5353}";

fn address(port: u16, protocol: ListenerProtocol) -> Address {
    Address { port, protocol }
}

fn http_address() -> Address {
    address(80, ListenerProtocol::Http)
}

/// What SLB reports for a running TCP or UDP listener created with the defaults on `backend_port`.
fn layer4_attribute(backend_port: u16) -> Layer4ListenerAttribute {
    Layer4ListenerAttribute {
        backend_server_port: Some(backend_port),
        bandwidth: Some(-1),
        status: Some(ListenerStatus::Running),
        scheduler: Some(Scheduler::WeightedRoundRobin),
        persistence_timeout: Some(0),
        health: HealthCheckAttribute {
            health_check: Some(OnOff::On),
            healthy_threshold: Some(3),
            unhealthy_threshold: Some(3),
            health_check_timeout: Some(5),
            health_check_connect_port: Some(i32::from(backend_port)),
            health_check_interval: Some(2),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// What SLB reports for a running HTTP listener created from [`HTTP`].
fn http_attribute() -> HttpListenerAttribute {
    HttpListenerAttribute {
        listener_port: Some(80),
        backend_server_port: Some(8080),
        bandwidth: Some(-1),
        status: Some(ListenerStatus::Running),
        x_forwarded_for: Some(OnOff::On),
        scheduler: Some(Scheduler::WeightedRoundRobin),
        sticky_session: Some(OnOff::Off),
        gzip: Some(OnOff::On),
        health: HealthCheckAttribute {
            health_check: Some(OnOff::On),
            health_check_domain: Some("$_ip".into()),
            health_check_uri: Some("/".into()),
            health_check_connect_port: Some(8080),
            healthy_threshold: Some(3),
            unhealthy_threshold: Some(3),
            health_check_timeout: Some(5),
            health_check_interval: Some(2),
            health_check_http_code: vec![HealthCheckHttpCode::Http2xx],
        },
        ..Default::default()
    }
}

/// Our listener as observed: in `status`, with `settings` and no whitelist.
fn listener_in(status: ListenerStatus, settings: Settings) -> Observed {
    Observed {
        claimed: Slot::Listener(Box::new(ObservedListener {
            status: Some(status),
            settings,
            access_control: None,
        })),
        target: None,
    }
}

fn running(settings: Settings) -> Observed {
    listener_in(ListenerStatus::Running, settings)
}

fn http_settings() -> Settings {
    observed_http(ListenerProtocol::Http, &http_attribute())
}

fn changes(plan: Plan) -> Vec<Change> {
    match plan {
        Plan::Changes(changes) => changes,
        other => unreachable!("expected changes, got {other:?}"),
    }
}

/// The plan for `desired` against the running HTTP listener on port 80 that SLB reports as
/// `attribute`.
fn plan_against_http(desired: &Desired, attribute: &HttpListenerAttribute) -> Plan {
    let observed = running(observed_http(ListenerProtocol::Http, attribute));
    plan(desired, Some(http_address()), &observed)
}

/// An HTTPS listener on port 443 whose server certificate resolved to `certificate_id`.
fn https_desired(certificate_id: &str) -> Desired {
    let https = spec(&format!(
        "{{instanceRef: {{name: web}}, listenerPort: 443, protocol: HTTPS, backendServerPort: 8080, \
         serverCertificate: {{certificateId: {certificate_id}}}}}"
    ));
    let resolved = Resolved {
        server_certificate_id: Some(certificate_id.into()),
        ..Resolved::default()
    };
    desired_from(&https, &resolved)
}

/// The changes for `desired` against the running HTTPS listener on port 443 that SLB reports as
/// `attribute`.
fn changes_against_https(desired: &Desired, attribute: &HttpListenerAttribute) -> Vec<Change> {
    let observed = running(observed_http(ListenerProtocol::Https, attribute));
    changes(plan(
        desired,
        Some(address(443, ListenerProtocol::Https)),
        &observed,
    ))
}

/// The spec `yaml` needs no call against the running HTTP listener that SLB reports as `attribute`.
fn assert_matches_http(yaml: &str, attribute: &HttpListenerAttribute) {
    assert_eq!(
        plan_against_http(&desired(yaml), attribute),
        Plan::Changes(vec![])
    );
}

/// The plan for the spec `yaml` against the running HTTP listener on port 80, checked to start by
/// deleting it for a reason that mentions `why`.
fn recreate_for(yaml: &str, why: &str) -> Vec<Change> {
    let planned = changes(plan_against_http(&desired(yaml), &http_attribute()));
    assert!(
        matches!(&planned[0], Change::Delete { reason, .. } if reason.contains(why)),
        "{planned:?}"
    );
    planned
}

fn create_first(planned: &[Change]) -> &Create {
    let Some(Change::Create(create)) = planned.first() else {
        unreachable!("expected a create first: {planned:?}");
    };
    create
}

fn only_set(planned: &[Change]) -> &Set {
    let [Change::Set(set)] = planned else {
        unreachable!("expected one set: {planned:?}");
    };
    set
}

fn http_set(planned: &[Change]) -> &SetLoadBalancerHTTPListenerAttributeRequest {
    let Set::Http(request) = only_set(planned) else {
        unreachable!("expected an HTTP set: {planned:?}");
    };
    request
}

fn tcp_set(planned: &[Change]) -> &SetLoadBalancerTCPListenerAttributeRequest {
    let Set::Tcp(request) = only_set(planned) else {
        unreachable!("expected a TCP set: {planned:?}");
    };
    request
}

#[test]
fn a_new_listener_is_created_then_its_whitelist_set_then_started() {
    let desired = desired(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, \
         accessControl: {enabled: true, sourceItems: [10.0.0.0/8]}}",
    );
    let observed = Observed {
        claimed: Slot::Free,
        target: Some(Slot::Free),
    };
    let planned = changes(plan(&desired, None, &observed));
    let Create::Http(request) = create_first(&planned) else {
        unreachable!("expected an HTTP create: {planned:?}");
    };
    assert_eq!(request.load_balancer_id, LB);
    assert_eq!(request.listener_port, 80);
    assert_eq!(request.backend_server_port, 8080);
    assert_eq!(request.settings.bandwidth, -1);
    assert_eq!(request.settings.health_check, OnOff::On);
    assert_eq!(request.settings.http_health_check.uri.as_deref(), Some("/"));
    assert_eq!(request.settings.health_check_connect_port, Some(8080));
    assert_eq!(
        request.settings.http_health_check.domain.as_deref(),
        Some("$_ip")
    );
    assert_eq!(request.settings.sticky_session, StickySession::default());
    assert_eq!(
        planned[1..],
        [
            Change::AddSourceItems(vec!["10.0.0.0/8".into()]),
            Change::SetAccessControl(true),
            Change::Start,
        ]
    );
}

#[test]
fn a_running_listener_gets_one_change_per_reconcile_as_each_reconfigures_it() {
    let desired = desired(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, scheduler: wlc, \
         started: false, accessControl: {enabled: true, sourceItems: [10.0.0.0/8]}}",
    );
    let settings = http_settings();
    let listener = |status| {
        Slot::Listener(Box::new(ObservedListener {
            status: Some(status),
            settings: settings.clone(),
            access_control: Some(AccessControlState::default()),
        }))
    };
    let running = Observed {
        claimed: listener(ListenerStatus::Running),
        target: None,
    };
    let planned = changes(plan(&desired, Some(http_address()), &running));
    assert!(
        matches!(planned.as_slice(), [Change::Set(_)]),
        "{planned:?}"
    );
    let stopped = Observed {
        claimed: listener(ListenerStatus::Stopped),
        target: None,
    };
    let planned = changes(plan(&desired, Some(http_address()), &stopped));
    assert_eq!(
        planned.len(),
        3,
        "a stopped listener takes them all: {planned:?}"
    );
}

#[test]
fn a_matching_listener_needs_no_call() {
    assert_matches_http(HTTP, &http_attribute());
}

#[test]
fn x_forwarded_for_is_not_compared_as_the_api_forces_it_on() {
    assert_matches_http(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, xForwardedFor: false}",
        &http_attribute(),
    );
}

#[test]
fn a_changed_setting_sends_the_whole_configuration() {
    let desired = desired(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, scheduler: wlc, \
         stickySession: {type: insert, cookieTimeout: 300}, healthCheck: {uri: /healthz, healthyThreshold: 5}}",
    );
    let planned = changes(plan_against_http(&desired, &http_attribute()));
    let request = http_set(&planned);
    assert_eq!(
        request.settings.scheduler,
        Some(Scheduler::WeightedLeastConnections)
    );
    assert_eq!(
        request.settings.sticky_session,
        StickySession {
            enabled: OnOff::On,
            session_type: Some(StickySessionType::Insert),
            cookie_timeout: Some(300),
            cookie: None,
        }
    );
    assert_eq!(
        request.settings.http_health_check.uri.as_deref(),
        Some("/healthz")
    );
    assert_eq!(
        request.settings.health_check_timing.healthy_threshold,
        Some(5)
    );
    assert_eq!(
        request.settings.health_check_timing.unhealthy_threshold,
        Some(3)
    );
    assert_eq!(request.v_server_group, Some(OnOff::Off));
}

#[test]
fn a_disabled_health_check_ignores_what_slb_keeps_of_it() {
    let mut attribute = http_attribute();
    attribute.health.health_check = Some(OnOff::Off);
    attribute.health.health_check_uri = Some("/old".into());
    assert_matches_http(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, healthCheck: {enabled: false}}",
        &attribute,
    );
}

#[test]
fn started_false_stops_a_running_listener_and_true_starts_a_stopped_one() {
    let stop = desired(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, started: false}",
    );
    assert_eq!(
        changes(plan_against_http(&stop, &http_attribute())),
        [Change::Stop]
    );
    let stopped = listener_in(ListenerStatus::Stopped, http_settings());
    assert_eq!(
        changes(plan(&desired(HTTP), Some(http_address()), &stopped)),
        [Change::Start]
    );
}

#[test]
fn a_listener_between_states_is_left_to_settle() {
    let configuring = listener_in(ListenerStatus::Configuring, http_settings());
    let changed = desired(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, scheduler: wlc}",
    );
    assert_eq!(
        plan(&changed, Some(http_address()), &configuring),
        Plan::Wait(ListenerStatus::Configuring)
    );
}

#[test]
fn a_port_change_deletes_the_old_listener_then_creates_the_new_one() {
    let desired = desired(
        "{instanceRef: {name: web}, listenerPort: 8080, protocol: HTTP, backendServerPort: 8080}",
    );
    let mut observed = running(http_settings());
    observed.target = Some(Slot::Free);
    let planned = changes(plan(&desired, Some(http_address()), &observed));
    assert!(
        matches!(&planned[0], Change::Delete { address, reason } if *address == http_address() && reason.contains("port")),
        "{planned:?}"
    );
    assert!(
        matches!(&planned[1], Change::Create(create) if matches!(create.as_ref(), Create::Http(r) if r.listener_port == 8080)),
        "{planned:?}"
    );
    assert_eq!(planned[2..], [Change::Start]);
}

#[test]
fn a_protocol_change_on_the_same_port_deletes_then_creates() {
    let planned = recreate_for(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: TCP, backendServerPort: 8080}",
        "protocol",
    );
    assert!(
        matches!(&planned[1], Change::Create(create) if matches!(create.as_ref(), Create::Tcp(_))),
        "{planned:?}"
    );
}

#[test]
fn a_backend_port_change_recreates_as_the_api_cannot_set_it() {
    recreate_for(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 9090}",
        "backend port",
    );
}

#[test]
fn a_port_held_by_a_listener_of_someone_else_is_left_alone() {
    let desired = desired(HTTP);
    let held = running(http_settings()).claimed;
    let observed = Observed {
        claimed: Slot::Free,
        target: Some(held.clone()),
    };
    assert_eq!(
        plan(&desired, None, &observed),
        Plan::Occupied(http_address())
    );
    let other_protocol = Observed {
        claimed: Slot::Free,
        target: Some(Slot::OtherProtocol),
    };
    assert_eq!(
        plan(&desired, None, &other_protocol),
        Plan::Occupied(http_address())
    );
    // Our own port taken over by a listener of another protocol.
    let replaced = Observed {
        claimed: Slot::OtherProtocol,
        target: None,
    };
    assert_eq!(
        plan(&desired, Some(http_address()), &replaced),
        Plan::Occupied(http_address())
    );
    // A port change never deletes ours when the new port is taken.
    let mut moving = running(http_settings());
    moving.target = Some(held.clone());
    let elsewhere = Desired {
        address: address(81, ListenerProtocol::Http),
        ..desired.clone()
    };
    assert!(matches!(
        plan(&elsewhere, Some(http_address()), &moving),
        Plan::Occupied(_)
    ));
    // On an adopted instance, the declared listener is taken over.
    let adopted = Desired {
        adopted_instance: true,
        ..desired
    };
    assert_eq!(plan(&adopted, None, &observed), Plan::Adopt);
}

#[test]
fn a_listener_deleted_outside_is_created_again() {
    let observed = Observed {
        claimed: Slot::Free,
        target: None,
    };
    let planned = changes(plan(&desired(HTTP), Some(http_address()), &observed));
    assert!(matches!(planned[0], Change::Create(_)), "{planned:?}");
}

#[test]
fn only_a_create_that_certainly_made_nothing_releases_its_port() {
    let api = |code: &str, request_id: &str, http_status: u16| slb_api::Error::Api {
        action: "CreateLoadBalancerHTTPListener",
        error: slb_api::ApiError {
            code: code.into(),
            message: String::new(),
            request_id: request_id.into(),
            host_id: String::new(),
            http_status,
        },
    };
    // SLB's own refusals, whatever the status; and a request never sent.
    assert!(create_refused(&api("InvalidParameter", "r-1", 400)));
    assert!(create_refused(&api("ListenerAlreadyExists", "r-2", 400)));
    assert!(create_refused(&api("ServiceUnavailable", "r-3", 503)));
    assert!(create_refused(&slb_api::Error::Validation {
        action: "CreateLoadBalancerHTTPListener",
        message: "bandwidth".into(),
    }));
    // Answers that may hide a listener made.
    assert!(!create_refused(&api("Http502", "", 502)));
    assert!(!create_refused(&slb_api::Error::Transport {
        action: "CreateLoadBalancerHTTPListener",
        message: "timed out".into(),
        timed_out: true,
    }));
    assert!(!create_refused(&slb_api::Error::Decode {
        action: "CreateLoadBalancerHTTPListener",
        http_status: 200,
        message: "invalid JSON".into(),
    }));
}

#[test]
fn the_whitelist_is_diffed_item_by_item() {
    let desired = desired(
        "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, \
         started: false, accessControl: {enabled: false, sourceItems: [10.0.0.0/8, 192.168.1.1]}}",
    );
    let observed = Observed {
        claimed: Slot::Listener(Box::new(ObservedListener {
            status: Some(ListenerStatus::Stopped),
            settings: http_settings(),
            access_control: Some(AccessControlState {
                enabled: true,
                source_items: vec!["10.0.0.0/8".into(), "172.16.0.0/12".into()],
            }),
        })),
        target: None,
    };
    assert_eq!(
        changes(plan(&desired, Some(http_address()), &observed)),
        [
            Change::AddSourceItems(vec!["192.168.1.1".into()]),
            Change::RemoveSourceItems(vec!["172.16.0.0/12".into()]),
            Change::SetAccessControl(false),
        ]
    );
}

#[test]
fn a_tcp_check_ignores_http_check_fields_and_groups_are_switched() {
    let resolved = Resolved {
        master_slave_server_group_id: Some("rsp-ms".into()),
        ..Resolved::default()
    };
    let desired = desired_from(&spec(TCP), &resolved);
    let attribute = Layer4ListenerAttribute {
        health_check_type: Some(HealthCheckType::Tcp),
        health: HealthCheckAttribute {
            health_check_uri: Some("/left-over".into()),
            health_check_http_code: vec![HealthCheckHttpCode::Http2xx],
            ..layer4_attribute(8443).health
        },
        ..layer4_attribute(8443)
    };
    let address = address(443, ListenerProtocol::Tcp);
    let mut observed = running(observed_layer4(ListenerProtocol::Tcp, &attribute));
    let planned = changes(plan(&desired, Some(address), &observed));
    let request = tcp_set(&planned);
    assert_eq!(
        request.server_groups,
        ServerGroupSwitches {
            v_server_group: Some(OnOff::Off),
            v_server_group_id: None,
            master_slave_server_group: Some(OnOff::On),
            master_slave_server_group_id: Some("rsp-ms".into()),
        }
    );
    assert_eq!(request.http_health_check.uri, None);

    let mut with_group = attribute;
    with_group.master_slave_server_group_id = Some("rsp-ms".into());
    observed = running(observed_layer4(ListenerProtocol::Tcp, &with_group));
    assert_eq!(
        plan(&desired, Some(address), &observed),
        Plan::Changes(vec![])
    );
}

#[test]
fn a_udp_listener_matches_what_slb_reports() {
    let desired = desired(UDP);
    let observed = running(observed_layer4(
        ListenerProtocol::Udp,
        &layer4_attribute(5353),
    ));
    assert_eq!(
        plan(
            &desired,
            Some(address(53, ListenerProtocol::Udp)),
            &observed
        ),
        Plan::Changes(vec![])
    );
}

#[test]
fn an_https_listener_swaps_its_certificate_in_place_but_recreates_to_drop_the_ca() {
    let desired = https_desired("new");
    let mut attribute = http_attribute();
    attribute.server_certificate_id = Some("old".into());
    let planned = changes_against_https(&desired, &attribute);
    assert!(
        matches!(only_set(&planned), Set::Https(r) if r.server_certificate_id == "new"),
        "{planned:?}"
    );
    attribute.server_certificate_id = Some("new".into());
    attribute.ca_certificate_id = Some("ca".into());
    let planned = changes_against_https(&desired, &attribute);
    assert!(
        matches!(&planned[0], Change::Delete { reason, .. } if reason.contains("CA certificate")),
        "{planned:?}"
    );
}

#[test]
fn an_https_listener_leaves_its_vserver_group_in_place() {
    let mut attribute = http_attribute();
    attribute.server_certificate_id = Some("cert".into());
    attribute.v_server_group_id = Some("rsp-old".into());
    let planned = changes_against_https(&https_desired("cert"), &attribute);
    assert!(
        matches!(only_set(&planned),
            Set::Https(r) if r.v_server_group == Some(OnOff::Off) && r.v_server_group_id.is_none()),
        "{planned:?}"
    );
}

#[test]
fn certificate_names_follow_the_owner_and_the_content() {
    let uid = "0b9d3a4e-6f1c-4a57-9a63-1d2f5c7e8a90";
    let first = certificate_name(
        uid,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    assert_eq!(
        first,
        certificate_name(
            uid,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
        )
    );
    assert_ne!(
        first,
        certificate_name(
            uid,
            "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----"
        )
    );
    assert!(first.starts_with(&format!("{CERTIFICATE_NAME_PREFIX}-{uid}-")));
    assert!(first.len() <= 80, "{first}");
    assert!(
        first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/._".contains(c)),
        "{first}"
    );
}

#[test]
fn only_certificates_named_for_this_object_are_taken_as_its_own() {
    let uid = "0b9d3a4e-6f1c-4a57-9a63-1d2f5c7e8a90";
    let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    assert!(named_for(uid, &certificate_name(uid, pem)));
    let other = "7c1e0f2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    for name in [
        certificate_name(other, pem),
        "bought-in-the-console".to_owned(),
        format!("{CERTIFICATE_NAME_PREFIX}-{uid}"),
        format!("{CERTIFICATE_NAME_PREFIX}-{uid}-not-a-fingerprint"),
        format!("{CERTIFICATE_NAME_PREFIX}-{uid}-0123456789abcdef-copy"),
    ] {
        assert!(!named_for(uid, &name), "{name}");
    }
    // An object without a uid owns nothing.
    assert!(!named_for("", &certificate_name("", pem)));
}

#[test]
fn only_certificates_no_longer_in_use_are_deleted() {
    let uploaded = |kind, id: &str| UploadedCertificate {
        kind,
        id: id.into(),
        name: format!("name-{id}"),
        not_after: None,
    };
    let all = [
        uploaded(CertificateKind::Server, "old"),
        uploaded(CertificateKind::Server, "new"),
        uploaded(CertificateKind::Ca, "ca"),
    ];
    assert_eq!(
        unused_certificates(&all, Some("new"), Some("ca")),
        [uploaded(CertificateKind::Server, "old")]
    );
    assert_eq!(unused_certificates(&all, None, None).len(), 3);
}

#[test]
fn forwarded_headers_are_compared_when_slb_reports_them_and_sent_with_every_set() {
    let yaml = "{instanceRef: {name: web}, listenerPort: 80, protocol: HTTP, backendServerPort: 8080, \
         forwardedHeaders: {slbIp: true, proto: true}}";
    // A describe without them (the reference's) cannot show drift.
    assert_matches_http(yaml, &http_attribute());
    let mut reported = http_attribute();
    reported.x_forwarded_for_slb_ip = Some(OnOff::Off);
    reported.x_forwarded_for_slb_id = Some(OnOff::Off);
    reported.x_forwarded_for_proto = Some(OnOff::Off);
    let planned = changes(plan_against_http(&desired(yaml), &reported));
    let request = http_set(&planned);
    assert_eq!(
        request.settings.x_forwarded_for,
        XForwardedFor {
            enabled: Some(OnOff::On),
            slb_ip: Some(OnOff::On),
            slb_id: Some(OnOff::Off),
            proto: Some(OnOff::On),
        }
    );
}

#[test]
fn the_established_timeout_of_a_tcp_listener_is_created_and_set() {
    let desired = desired(
        "{instanceRef: {name: web}, listenerPort: 443, protocol: TCP, backendServerPort: 8443, establishedTimeout: 120}",
    );
    let planned = changes(plan(
        &desired,
        None,
        &Observed {
            claimed: Slot::Free,
            target: None,
        },
    ));
    let Create::Tcp(request) = create_first(&planned) else {
        unreachable!("expected a TCP create: {planned:?}");
    };
    assert_eq!(request.established_timeout, Some(120));
    let attribute = Layer4ListenerAttribute {
        established_timeout: Some(900),
        health_check_type: Some(HealthCheckType::Tcp),
        health: HealthCheckAttribute {
            health_check: None,
            ..layer4_attribute(8443).health
        },
        ..layer4_attribute(8443)
    };
    let observed = running(observed_layer4(ListenerProtocol::Tcp, &attribute));
    let address = address(443, ListenerProtocol::Tcp);
    let planned = changes(plan(&desired, Some(address), &observed));
    let request = tcp_set(&planned);
    assert_eq!(request.established_timeout, Some(120));
}
