use std::time::Duration;

use super::*;
use crate::crd::{
    AccessControl, AddressType, ForwardedHeaders, HealthCheckType, HttpCode, InternetChargeType,
    LoadBalancerSpec, Scheduler, StickySessionType,
};

fn config(manage_without_class: bool) -> Config {
    Config {
        cluster_id: "c1".into(),
        default_region: "cn-hangzhou".into(),
        resync_period: Duration::from_secs(600),
        concurrency: 1.into(),
        watch_namespaces: Vec::new(),
        service_load_balancer_class: "slb.operator.dev/slb".into(),
        manage_services_without_class: manage_without_class,
        allow_deleting_adopted: false,
        adoption_namespaces: None,
        certificate_expiry_warning: std::time::Duration::from_secs(14 * 24 * 3600),
    }
}

/// A Service `web` of type LoadBalancer with ports 80 (nodePort 30080) and 9000 (30900).
fn service(annotations: &[(&str, &str)]) -> Service {
    let annotations: BTreeMap<String, String> = annotations
        .iter()
        .map(|(k, v)| (format!("{ANNOTATION_PREFIX}{k}"), (*v).to_owned()))
        .collect();
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": "default", "annotations": annotations},
        "spec": {
            "type": "LoadBalancer",
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
                {"name": "grpc", "port": 9000, "protocol": "TCP", "nodePort": 30900},
            ]
        }
    }))
    .unwrap_or_else(|e| unreachable!("bad test Service: {e}"))
}

fn planned(service: &Service) -> Children {
    children(service).unwrap_or_else(|e| unreachable!("unexpected errors: {e:?}"))
}

fn problems(service: &Service) -> String {
    match children(service) {
        Ok(children) => unreachable!("expected errors, planned {children:?}"),
        Err(problems) => problems.join("\n"),
    }
}

/// `service` is refused, with problems that mention each of `expected`.
fn assert_refused(service: &Service, expected: &[&str]) {
    let message = problems(service);
    for expected in expected {
        assert!(message.contains(expected), "{expected:?} in:\n{message}");
    }
}

#[test]
fn only_load_balancer_services_of_our_class_or_none_are_served() {
    let mut svc = service(&[]);
    assert!(is_served(&svc, &config(true)));
    assert!(!is_served(&svc, &config(false)));
    if let Some(spec) = svc.spec.as_mut() {
        spec.load_balancer_class = Some("slb.operator.dev/slb".into());
    }
    assert!(is_served(&svc, &config(false)));
    if let Some(spec) = svc.spec.as_mut() {
        spec.load_balancer_class = Some("example.com/other".into());
    }
    assert!(!is_served(&svc, &config(true)));
    if let Some(spec) = svc.spec.as_mut() {
        spec.load_balancer_class = None;
        spec.type_ = Some("ClusterIP".into());
    }
    assert!(!is_served(&svc, &config(true)));
}

#[test]
fn each_port_gets_a_group_following_the_service_and_a_listener_on_its_node_port() {
    let children = planned(&service(&[]));
    assert_eq!(children.instance.load_balancer_id, None);
    assert_eq!(
        children.groups.keys().collect::<Vec<_>>(),
        ["web-80", "web-9000"]
    );
    let group = &children.groups["web-9000"];
    assert_eq!(group.instance_ref.name, "web");
    let service_ref = group.service_ref.as_ref();
    assert_eq!(
        service_ref.map(|s| (s.name.as_str(), s.port)),
        Some(("web", 9000))
    );
    let listener = &children.listeners["web-9000"];
    assert_eq!(listener.protocol, ListenerProtocol::Tcp);
    assert_eq!(listener.listener_port, 9000);
    assert_eq!(listener.backend_server_port, 30900);
    assert_eq!(
        listener
            .v_server_group_ref
            .as_ref()
            .map(|r| r.name.as_str()),
        Some("web-9000")
    );
    assert_eq!(listener.health_check, None);
    assert_eq!(listener.bandwidth, None);
}

#[test]
fn instance_annotations_shape_the_slb_instance() {
    let children = planned(&service(&[
        ("address-type", "internet"),
        ("charge-type", "paybybandwidth"),
        ("bandwidth", "11"),
        ("spec", "slb.s2.small"),
        ("master-zoneid", "cn-hangzhou-b"),
        ("slave-zoneid", "cn-hangzhou-c"),
        ("name", "web-lb"),
        ("additional-resource-tags", "team=web, env=prod"),
    ]));
    let instance = &children.instance;
    assert_eq!(instance.address_type, Some(AddressType::Internet));
    assert_eq!(
        instance.internet_charge_type,
        Some(InternetChargeType::Paybybandwidth)
    );
    assert_eq!(instance.bandwidth, Some(11));
    assert_eq!(instance.load_balancer_spec, Some(LoadBalancerSpec::S2Small));
    assert_eq!(instance.master_zone_id.as_deref(), Some("cn-hangzhou-b"));
    assert_eq!(instance.slave_zone_id.as_deref(), Some("cn-hangzhou-c"));
    assert_eq!(instance.name.as_deref(), Some("web-lb"));
    let tags = instance.tags.clone().unwrap_or_default();
    assert_eq!(tags.get("team").map(String::as_str), Some("web"));
    assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
    // Two listeners share 11 Mbps: 5 each, so they never add up to more than the instance's.
    for listener in children.listeners.values() {
        assert_eq!(listener.bandwidth, Some(5));
    }
}

#[test]
fn protocol_port_cert_id_and_listener_settings_apply_where_the_protocol_takes_them() {
    let children = planned(&service(&[
        ("protocol-port", "https:80"),
        (
            "cert-id",
            "1231579085529123_17a1d1a0d53_-1795124416_1548101412",
        ),
        ("scheduler", "wlc"),
        ("persistence-timeout", "60"),
        ("health-check-flag", "on"),
        ("health-check-type", "tcp"),
        ("health-check-uri", "/healthz"),
        ("health-check-httpcode", "http_3xx,http_2xx"),
        ("health-check-connect-port", "8080"),
        ("healthy-threshold", "4"),
        ("unhealthy-threshold", "5"),
        ("health-check-interval", "3"),
        ("health-check-timeout", "7"),
        ("health-check-connect-timeout", "6"),
        ("sticky-session", "on"),
        ("sticky-session-type", "insert"),
        ("cookie-timeout", "1800"),
    ]));
    let https = &children.listeners["web-80"];
    assert_eq!(https.protocol, ListenerProtocol::Https);
    assert_eq!(https.scheduler, Some(Scheduler::Wlc));
    assert_eq!(
        https
            .server_certificate
            .as_ref()
            .and_then(|c| c.certificate_id.as_deref()),
        Some("1231579085529123_17a1d1a0d53_-1795124416_1548101412")
    );
    assert_eq!(https.persistence_timeout, None);
    let session = https.sticky_session.as_ref();
    assert_eq!(
        session.map(|s| s.session_type),
        Some(StickySessionType::Insert)
    );
    assert_eq!(session.and_then(|s| s.cookie_timeout), Some(1800));
    let check = https.health_check.clone().unwrap_or_default();
    assert_eq!(check.enabled, Some(true));
    assert_eq!(check.check_type, None);
    assert_eq!(check.uri.as_deref(), Some("/healthz"));
    assert_eq!(
        check.http_codes,
        Some(vec![HttpCode::Http2xx, HttpCode::Http3xx])
    );
    assert_eq!(check.timeout_seconds, Some(7));
    assert_eq!(check.connect_port, Some(8080));

    let tcp = &children.listeners["web-9000"];
    assert_eq!(tcp.protocol, ListenerProtocol::Tcp);
    assert_eq!(tcp.persistence_timeout, Some(60));
    assert_eq!(tcp.sticky_session, None);
    assert_eq!(tcp.server_certificate, None);
    let check = tcp.health_check.clone().unwrap_or_default();
    assert_eq!(check.enabled, None);
    assert_eq!(check.check_type, Some(HealthCheckType::Tcp));
    // A TCP check sends no HTTP request, so it takes no URI.
    assert_eq!(check.uri, None);
    assert_eq!(check.timeout_seconds, Some(6));
    assert_eq!(
        (
            check.healthy_threshold,
            check.unhealthy_threshold,
            check.interval_seconds
        ),
        (Some(4), Some(5), Some(3))
    );
}

#[test]
fn every_invalid_annotation_is_reported_and_nothing_is_planned() {
    assert_refused(
        &service(&[
            ("bandwidth", "lots"),
            ("scheduler", "fifo"),
            ("address-type", "public"),
            ("protocol-port", "https:80,ftp:21"),
            ("health-check-uri", "healthz"),
            ("sticky-session", "on"),
            ("additional-resource-tags", "aliyun-x=1,plain"),
        ]),
        &[
            "bandwidth: \"lots\"",
            "scheduler: \"fifo\" must be one of rr, wrr, wlc",
            "address-type: \"public\"",
            "\"ftp:21\"",
            "port 80 is https, which needs",
            "health-check-uri must start with /",
            "sticky-session: on needs",
            "\"plain\" is not of the form key=value",
            "tag \"aliyun-x=1\"",
        ],
    );
}

#[test]
fn bandwidth_needs_billing_by_bandwidth_and_enough_for_every_listener() {
    assert_refused(&service(&[("bandwidth", "10")]), &["needs"]);
    assert_refused(
        &service(&[("charge-type", "paybybandwidth"), ("bandwidth", "1")]),
        &["cannot be shared by 2 listeners"],
    );
}

#[test]
fn an_adopted_load_balancer_is_used_as_it_is_and_gets_listeners_only_when_forced() {
    let adopted = planned(&service(&[("id", "lb-existing")]));
    assert_eq!(
        adopted.instance.load_balancer_id.as_deref(),
        Some("lb-existing")
    );
    assert_eq!(adopted.instance.tags, None);
    assert_eq!(adopted.groups.len(), 2);
    assert!(adopted.listeners.is_empty());

    let forced = planned(&service(&[
        ("id", "lb-existing"),
        ("force-override-listeners", "true"),
    ]));
    assert_eq!(forced.listeners.len(), 2);
    assert!(
        forced
            .listeners
            .values()
            .all(|l| l.deletion_policy == Some(DeletionPolicy::Delete)),
        "the forced listeners leave with the Service: {:?}",
        forced.listeners
    );
    let created = planned(&service(&[]));
    assert!(
        created
            .listeners
            .values()
            .all(|l| l.deletion_policy.is_none())
    );

    assert_refused(
        &service(&[("id", "lb-existing"), ("spec", "slb.s2.small")]),
        &["cannot be set with it"],
    );
}

#[test]
fn ports_that_slb_cannot_serve_are_reported() {
    let svc: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "dns", "annotations": {
            format!("{ANNOTATION_PREFIX}protocol-port"): "http:53"
        }},
        "spec": {
            "type": "LoadBalancer",
            "ports": [
                {"name": "udp", "port": 53, "protocol": "UDP", "nodePort": 30053},
                {"name": "tcp", "port": 53, "protocol": "TCP", "nodePort": 30054},
                {"name": "sctp", "port": 99, "protocol": "SCTP", "nodePort": 30099},
                {"name": "none", "port": 100, "protocol": "TCP"},
            ]
        }
    }))
    .unwrap_or_else(|e| unreachable!("bad test Service: {e}"));
    assert_refused(
        &svc,
        &[
            "port 53 is UDP, so its listener can only be udp",
            "port 53 appears twice",
            "protocol SCTP cannot be load balanced",
            "port 100 has no nodePort",
        ],
    );
}

#[test]
fn the_legacy_prefix_is_read_too() {
    let svc: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "annotations": {
            "service.beta.kubernetes.io/alicloud-loadbalancer-address-type": "intranet"
        }},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80, "nodePort": 30080}]}
    }))
    .unwrap_or_else(|e| unreachable!("bad test Service: {e}"));
    assert_eq!(
        planned(&svc).instance.address_type,
        Some(AddressType::Intranet)
    );
}

#[test]
fn the_example_service_is_valid() {
    use serde::Deserialize;

    let text = include_str!("../../../examples/service-loadbalancer.yaml");
    let mut services = serde_yaml::Deserializer::from_str(text)
        .filter_map(|document| serde_yaml::Value::deserialize(document).ok())
        .filter(|value| value["kind"].as_str() == Some("Service"))
        .filter_map(|value| serde_yaml::from_value::<Service>(value).ok());
    let Some(mut svc) = services.next() else {
        unreachable!("the example holds a Service");
    };
    // The apiserver allocates the NodePorts.
    for (port, node_port) in svc
        .spec
        .iter_mut()
        .flat_map(|spec| spec.ports.iter_mut().flatten())
        .zip(30000..)
    {
        port.node_port = Some(node_port);
    }
    assert!(is_served(&svc, &config(true)));
    let children = planned(&svc);
    assert_eq!(children.listeners.len(), 2);
    for listener in children.listeners.values() {
        assert_eq!(listener.bandwidth, Some(10));
    }
}

fn with_source_ranges(mut service: Service, ranges: &[&str]) -> Service {
    if let Some(spec) = service.spec.as_mut() {
        spec.load_balancer_source_ranges = Some(ranges.iter().map(|r| (*r).to_owned()).collect());
    }
    service
}

fn white_list(children: &Children) -> AccessControl {
    let lists: BTreeSet<String> = children
        .listeners
        .values()
        .map(|l| format!("{:?}", l.access_control))
        .collect();
    assert_eq!(
        lists.len(),
        1,
        "every listener has the same list: {lists:?}"
    );
    children.listeners["web-80"]
        .access_control
        .clone()
        .unwrap_or_else(|| unreachable!("the white list is always declared"))
}

#[test]
fn source_ranges_become_every_listeners_white_list_and_their_absence_closes_it() {
    let open = white_list(&planned(&with_source_ranges(
        service(&[("acl-status", "on"), ("acl-type", "white")]),
        &["203.0.113.0/24", "198.51.100.7", "203.0.113.0/24"],
    )));
    assert_eq!(
        open,
        AccessControl {
            enabled: true,
            source_items: vec!["198.51.100.7".into(), "203.0.113.0/24".into()],
        }
    );
    let closed = AccessControl {
        enabled: false,
        source_items: Vec::new(),
    };
    assert_eq!(white_list(&planned(&service(&[]))), closed);
    let everyone = with_source_ranges(service(&[]), &["203.0.113.0/24", "0.0.0.0/0"]);
    assert_eq!(
        white_list(&planned(&everyone)),
        closed,
        "0.0.0.0/0 means no restriction"
    );
}

#[test]
fn an_invalid_source_range_or_an_acl_the_api_cannot_express_changes_nothing() {
    let message = problems(&with_source_ranges(
        service(&[]),
        &["203.0.113.0/33", "office", "2001:db8::/32"],
    ));
    for range in ["203.0.113.0/33", "office", "2001:db8::/32"] {
        assert!(
            message.contains(&format!("{range:?} is not an IPv4")),
            "{range} in {message}"
        );
    }
    assert_refused(&service(&[("acl-type", "black")]), &["white lists only"]);
    assert_refused(&service(&[("acl-status", "on")]), &["needs the white list"]);
    assert_refused(
        &with_source_ranges(service(&[("acl-status", "off")]), &["203.0.113.0/24"]),
        &["contradicts"],
    );
}

#[test]
fn round_robin_is_weighted_round_robin() {
    let children = planned(&service(&[("scheduler", "rr")]));
    assert!(
        children
            .listeners
            .values()
            .all(|l| l.scheduler == Some(Scheduler::Wrr))
    );
}

#[test]
fn listener_annotations_reach_the_listeners_whose_protocol_takes_them() {
    let children = planned(&service(&[
        ("protocol-port", "http:80"),
        ("established-timeout", "120"),
        ("xforwardedfor-proto", "on"),
        ("xforwardedfor-slbip", "on"),
        ("xforwardedfor-slbid", "off"),
        ("health-check-switch", "on"),
    ]));
    let (http, tcp) = (
        &children.listeners["web-80"],
        &children.listeners["web-9000"],
    );
    assert_eq!(
        http.forwarded_headers,
        Some(ForwardedHeaders {
            slb_ip: Some(true),
            slb_id: Some(false),
            proto: Some(true),
        })
    );
    assert_eq!(http.established_timeout, None);
    assert_eq!(tcp.established_timeout, Some(120));
    assert_eq!(tcp.forwarded_headers, None);
    assert_refused(
        &service(&[("established-timeout", "5"), ("health-check-switch", "off")]),
        &[
            "established-timeout: \"5\" must be a whole number from 10 to 900",
            "always health-check",
        ],
    );
}

#[test]
fn backend_annotations_shape_the_groups() {
    let children = planned(&service(&[
        ("backend-label", "pool=web, zone=b"),
        ("remove-unscheduled-backend", "on"),
        ("weight", "40"),
        ("connection-drain", "on"),
        ("connection-drain-timeout", "120"),
    ]));
    let reference = children.groups["web-80"]
        .service_ref
        .clone()
        .unwrap_or_else(|| unreachable!("a Service's group follows it"));
    assert_eq!(
        reference.node_selector,
        Some(BTreeMap::from([
            ("pool".to_owned(), "web".to_owned()),
            ("zone".to_owned(), "b".to_owned())
        ]))
    );
    assert_eq!(reference.exclude_unschedulable, Some(true));
    assert_eq!(reference.total_weight, Some(40));
    assert_eq!(reference.drain_seconds, Some(120));
    let off = planned(&service(&[("connection-drain", "off")]));
    let off = off.groups["web-80"]
        .service_ref
        .as_ref()
        .and_then(|r| r.drain_seconds);
    assert_eq!(off, Some(0), "no drain: removed at once");
    assert_refused(
        &service(&[("connection-drain", "on"), ("weight", "0")]),
        &["needs", "weight: \"0\""],
    );
    let mut eni = service(&[]);
    eni.metadata
        .annotations
        .get_or_insert_default()
        .insert(BACKEND_TYPE_ANNOTATION.into(), "eni".into());
    assert_refused(&eni, &["(eni)"]);
}

#[test]
fn instance_annotations_within_what_the_api_can_create() {
    let children = planned(&service(&[
        ("preserve-lb-on-delete", "true"),
        ("resource-group-id", "rg-acfm"),
        ("hostname", "web.example.com"),
        ("ip-version", "ipv4"),
        ("instance-charge-type", "PayBySpec"),
        ("network-type", "vpc"),
        ("vswitch-id", "vsw-1"),
    ]));
    assert_eq!(
        children.instance.deletion_policy,
        Some(DeletionPolicy::Orphan)
    );
    assert_eq!(
        children.instance.resource_group_id.as_deref(),
        Some("rg-acfm")
    );
    assert_eq!(children.hostname.as_deref(), Some("web.example.com"));
    assert_eq!(planned(&service(&[])).instance.deletion_policy, None);
    assert_refused(
        &service(&[
            ("ip-version", "ipv6"),
            ("instance-charge-type", "PayByCLCU"),
            ("network-type", "vpc"),
        ]),
        &["IPv4 load balancers only", "PayBySpec", "vpc needs"],
    );
}

#[test]
fn vgroup_port_names_existing_groups_of_an_adopted_load_balancer() {
    let children = planned(&service(&[("id", "lb-1"), ("vgroup-port", "rsp-1:80")]));
    assert_eq!(
        children.groups["web-80"].v_server_group_id.as_deref(),
        Some("rsp-1")
    );
    assert_eq!(children.groups["web-9000"].v_server_group_id, None);
    assert_refused(&service(&[("vgroup-port", "rsp-1:80")]), &["needs"]);
    assert_refused(
        &service(&[("id", "lb-1"), ("vgroup-port", "rsp-1:81,rsp 2:80,rsp-3")]),
        &[
            "no port 81",
            "\"rsp 2:80\" is not of the form",
            "\"rsp-3\" is not of the form",
        ],
    );
}

/// The other annotations one needs to be read.
type Needs = &'static [(&'static str, &'static str)];

/// An invalid value of every implemented annotation, with what it needs besides to be read.
const INVALID: [(&str, &str, Needs); 50] = [
    ("id", "lb 1", &[]),
    ("force-override-listeners", "yes", &[]),
    ("name", "web slb", &[]),
    ("address-type", "public", &[]),
    ("charge-type", "free", &[]),
    ("bandwidth", "0", &[("charge-type", "paybybandwidth")]),
    ("spec", "slb.s9.huge", &[]),
    ("instance-charge-type", "PayByCLCU", &[]),
    ("network-type", "overlay", &[]),
    ("vswitch-id", "vsw 1", &[]),
    ("master-zoneid", "zone b", &[]),
    ("slave-zoneid", "zone c", &[]),
    ("ip-version", "ipv6", &[]),
    ("resource-group-id", "rg 1", &[]),
    ("additional-resource-tags", "plain", &[]),
    ("hostname", "Web_Host", &[]),
    ("preserve-lb-on-delete", "yes", &[]),
    ("protocol-port", "ftp:21", &[]),
    ("cert-id", "cert 1", &[("protocol-port", "https:80")]),
    ("scheduler", "fifo", &[]),
    ("persistence-timeout", "3601", &[]),
    ("established-timeout", "5", &[]),
    ("acl-status", "yes", &[]),
    ("acl-type", "black", &[]),
    ("health-check-flag", "yes", &[]),
    ("health-check-switch", "off", &[]),
    ("health-check-type", "udp", &[]),
    ("health-check-connect-port", "0", &[]),
    ("healthy-threshold", "11", &[]),
    ("unhealthy-threshold", "0", &[]),
    ("health-check-interval", "6", &[]),
    ("health-check-connect-timeout", "51", &[]),
    ("health-check-timeout", "0", &[]),
    ("health-check-uri", "healthz", &[]),
    ("health-check-domain", "www example", &[]),
    ("health-check-httpcode", "http_6xx", &[]),
    ("sticky-session", "yes", &[]),
    ("sticky-session-type", "rewrite", &[]),
    ("cookie-timeout", "0", &[]),
    ("cookie", "SID;x", &[]),
    ("xforwardedfor-proto", "yes", &[]),
    ("connection-drain", "yes", &[]),
    (
        "connection-drain-timeout",
        "5",
        &[("connection-drain", "on")],
    ),
    ("vgroup-port", "rsp-1", &[("id", "lb-1")]),
    ("backend-type", "eni", &[]),
    ("backend-label", "pool", &[]),
    ("remove-unscheduled-backend", "yes", &[]),
    ("weight", "0", &[]),
    ("default-weight", "101", &[]),
    ("ignore-weight-update", "yes", &[]),
];

#[test]
fn every_implemented_annotation_reads_its_value_and_names_itself_when_invalid() {
    use super::super::annotations::{CCM_ANNOTATIONS, Support};

    for (name, support) in CCM_ANNOTATIONS {
        if support != Support::Implemented {
            continue;
        }
        let Some((_, value, needs)) = INVALID.iter().find(|(n, _, _)| *n == name) else {
            unreachable!("{name} is implemented: give INVALID a value it refuses");
        };
        let mut svc = service(needs);
        let full_name = if name == "backend-type" {
            BACKEND_TYPE_ANNOTATION.to_owned()
        } else {
            format!("{ANNOTATION_PREFIX}{name}")
        };
        svc.metadata
            .annotations
            .get_or_insert_default()
            .insert(full_name.clone(), (*value).to_owned());
        let problems = match children(&svc) {
            Ok(_) => unreachable!("{name}: {value:?} was accepted"),
            Err(problems) => problems,
        };
        // Followed by ':' or ' ', so that `cookie` is not found in `cookie-timeout`'s problem.
        assert!(
            problems
                .iter()
                .any(|p| p.contains(&format!("{full_name}:"))
                    || p.contains(&format!("{full_name} "))),
            "{name}: {value:?} gave {problems:?}"
        );
    }
}

#[test]
fn listener_annotations_no_listener_takes_are_named_with_why() {
    let names = |children: Children| -> Vec<(String, &str)> {
        children
            .not_taken
            .into_iter()
            .map(|i| (i.annotation.replace(ANNOTATION_PREFIX, ""), i.why))
            .collect()
    };
    // Both ports HTTP: no TCP listener, and no sticky session for the cookie.
    let http_only = planned(&service(&[
        ("protocol-port", "http:80,http:9000"),
        ("established-timeout", "120"),
        ("cookie", "SID"),
        ("cookie-timeout", "300"),
        ("health-check-flag", "off"),
    ]));
    assert_eq!(
        names(http_only),
        [
            (
                "cookie-timeout".to_owned(),
                "no HTTP or HTTPS listener with sticky-session: on takes it"
            ),
            (
                "cookie".to_owned(),
                "no HTTP or HTTPS listener with sticky-session: on takes it"
            ),
            ("established-timeout".to_owned(), "no TCP listener takes it"),
        ]
    );
    // Taken: a TCP port for established-timeout, a sticky HTTP one for the cookie.
    let taken = planned(&service(&[
        ("protocol-port", "http:80"),
        ("established-timeout", "120"),
        ("sticky-session", "on"),
        ("sticky-session-type", "server"),
        ("cookie", "SID"),
    ]));
    assert_eq!(names(taken), []);
    // Only TCP ports: the HTTP settings and the certificate.
    let tcp_only = planned(&service(&[
        ("cert-id", "cert-1"),
        ("health-check-uri", "/healthz"),
        ("xforwardedfor-proto", "on"),
    ]));
    assert_eq!(
        names(tcp_only),
        [
            ("cert-id".to_owned(), "no HTTPS listener takes it"),
            (
                "xforwardedfor-proto".to_owned(),
                "no HTTP or HTTPS listener takes it"
            ),
            (
                "health-check-uri".to_owned(),
                "no listener checks health over HTTP"
            ),
        ]
    );
    // An adopted load balancer keeps its listeners: none of the Service's settings reaches one.
    let adopted = planned(&service(&[("id", "lb-1"), ("scheduler", "wlc")]));
    assert_eq!(
        names(adopted),
        [("scheduler".to_owned(), "the Service has no listener")]
    );
}
