//! Every annotation of the cloud controller manager the operator supports, applied to Services on the
//! local control plane and checked in the in-process emulator's state (or, for what lives on the
//! Kubernetes side, in the Service or its children), in a table held to the operator's own
//! (`CCM_ANNOTATIONS`); every refused one checked by its Warning Event, one Warning per change of what
//! is ignored. `spec.loadBalancerSourceRanges` becomes each listener's white list and closes it when
//! removed; an invalid range changes nothing, also on a Service already served. `vgroup-port` (with
//! `id` and `force-override-listeners`) puts the nodes into an existing group of an adopted load
//! balancer and takes only them out again.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use operator_support::*;
use serde_json::{Value, json};
use slb_api::{
    CreateVServerGroupRequest, SlbApi, UploadServerCertificateRequest, VServerBackendServer,
};
use slb_emulator::RunningEmulator;
use slb_operator::controller::service::{CCM_ANNOTATIONS, Support};
use slb_operator::crd::{SlbInstance, SlbVServerGroup};

const TIMEOUT: Duration = Duration::from_secs(60);
const PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";
const CLASS: &str = "slb.operator.dev/slb";

/// What an annotation does, as seen from outside.
enum Expect {
    /// The JSON at this pointer in the Service's load balancer, in the emulator's state.
    Slb(String, Value),
    /// An element of the array at this pointer in the Service's load balancer.
    SlbHas(&'static str, Value),
    /// The backends (ECS instance, weight) of the group of the Service's port 80.
    Backends(&'static [(&'static str, i64)]),
    /// The JSON at this pointer in the Service's SlbVServerGroup of port 80: the annotation reached
    /// the group, not yet its effect on the nodes (see [`EXERCISED_ELSEWHERE`]).
    Group(String, Value),
    /// The hostname in the Service's ingress.
    Hostname(&'static str),
    /// Accepted, and nothing else to see: the only value API 2014-05-15 can create.
    Accepted,
    /// The load balancer stays when the Service is deleted.
    Kept,
    /// Not applied: a Warning Event and the Service's condition name it.
    Warned,
}

use Expect::*;

/// One row of the table: on Service `service`, `annotation: value` (`CERT` stands for the ID of a
/// certificate uploaded first) does `expect`.
struct Row {
    service: &'static str,
    annotation: &'static str,
    value: &'static str,
    expect: Expect,
}

const fn row(
    service: &'static str,
    annotation: &'static str,
    value: &'static str,
    expect: Expect,
) -> Row {
    Row {
        service,
        annotation,
        value,
        expect,
    }
}

/// A row of the Service `listeners`: `expected` at the listener attribute `attribute` of `port`.
fn on_listener(
    annotation: &'static str,
    value: &'static str,
    port: u16,
    attribute: &str,
    expected: Value,
) -> Row {
    let pointer = format!("/listeners/{port}/attributes/{attribute}");
    row("listeners", annotation, value, Slb(pointer, expected))
}

/// A row of the Service `sessions` (port 80 HTTP, 9000 TCP), as [`on_listener`]: values other than
/// the emulator's defaults, and the session by cookie that `listeners` does not show.
fn on_sessions(
    annotation: &'static str,
    value: &'static str,
    port: u16,
    attribute: &str,
    expected: Value,
) -> Row {
    Row {
        service: "sessions",
        ..on_listener(annotation, value, port, attribute, expected)
    }
}

/// A row of the Service `instance`: the value itself at `pointer` in its load balancer.
fn on_instance(annotation: &'static str, value: &'static str, pointer: &str) -> Row {
    row(
        "instance",
        annotation,
        value,
        Slb(pointer.into(), json!(value)),
    )
}

/// A row of the Service `backends`: `expected` at `field` of its group's `spec.serviceRef`.
fn on_group(annotation: &'static str, value: &'static str, field: &str, expected: Value) -> Row {
    let pointer = format!("/spec/serviceRef/{field}");
    row("backends", annotation, value, Group(pointer, expected))
}

fn rows() -> Vec<Row> {
    let white_list = json!(["198.51.100.7/32", "203.0.113.0/24"]);
    vec![
        // Listeners: port 80 HTTP, 443 HTTPS, 9000 TCP.
        on_listener("cert-id", "CERT", 443, "ServerCertificateId", json!("CERT")),
        on_listener(
            "xforwardedfor-proto",
            "on",
            80,
            "XForwardedFor_proto",
            json!("on"),
        ),
        on_listener(
            "xforwardedfor-slbip",
            "on",
            443,
            "XForwardedFor_SLBIP",
            json!("on"),
        ),
        on_listener(
            "xforwardedfor-slbid",
            "on",
            80,
            "XForwardedFor_SLBID",
            json!("on"),
        ),
        on_listener(
            "established-timeout",
            "120",
            9000,
            "EstablishedTimeout",
            json!(120),
        ),
        on_listener(
            "persistence-timeout",
            "30",
            9000,
            "PersistenceTimeout",
            json!(30),
        ),
        on_listener(
            "health-check-uri",
            "/healthz",
            80,
            "HealthCheckURI",
            json!("/healthz"),
        ),
        on_listener(
            "health-check-domain",
            "www.example.com",
            443,
            "HealthCheckDomain",
            json!("www.example.com"),
        ),
        on_listener(
            "health-check-httpcode",
            "http_2xx,http_3xx",
            80,
            "HealthCheckHttpCode",
            json!("http_2xx,http_3xx"),
        ),
        on_listener(
            "health-check-connect-port",
            "8080",
            9000,
            "HealthCheckConnectPort",
            json!(8080),
        ),
        on_listener("healthy-threshold", "4", 80, "HealthyThreshold", json!(4)),
        on_listener(
            "unhealthy-threshold",
            "5",
            9000,
            "UnhealthyThreshold",
            json!(5),
        ),
        on_listener(
            "health-check-interval",
            "3",
            80,
            "HealthCheckInterval",
            json!(3),
        ),
        on_listener(
            "health-check-timeout",
            "6",
            80,
            "HealthCheckTimeout",
            json!(6),
        ),
        on_listener(
            "health-check-connect-timeout",
            "7",
            9000,
            "HealthCheckTimeout",
            json!(7),
        ),
        on_listener("sticky-session", "on", 80, "StickySession", json!("on")),
        on_listener(
            "sticky-session-type",
            "insert",
            443,
            "StickySessionType",
            json!("insert"),
        ),
        on_listener("cookie-timeout", "300", 80, "CookieTimeout", json!(300)),
        row(
            "listeners",
            "protocol-port",
            "http:80,https:443",
            Slb("/listeners/443/protocol".into(), json!("https")),
        ),
        row(
            "listeners",
            "health-check-switch",
            "on",
            Slb("/listeners/9000/status".into(), json!("running")),
        ),
        row(
            "listeners",
            "acl-status",
            "on",
            Slb(
                "/listeners/9000/access_control_status".into(),
                json!("open_white_list"),
            ),
        ),
        row(
            "listeners",
            "acl-type",
            "white",
            Slb("/listeners/80/white_list".into(), white_list),
        ),
        // Ports 80 HTTP and 9000 TCP.
        row(
            "sessions",
            "protocol-port",
            "http:80",
            Slb("/listeners/80/protocol".into(), json!("http")),
        ),
        on_sessions("scheduler", "wlc", 9000, "Scheduler", json!("wlc")),
        on_sessions("health-check-flag", "off", 80, "HealthCheck", json!("off")),
        on_sessions(
            "health-check-type",
            "http",
            9000,
            "HealthCheckType",
            json!("http"),
        ),
        on_sessions("sticky-session", "on", 80, "StickySession", json!("on")),
        on_sessions(
            "sticky-session-type",
            "server",
            80,
            "StickySessionType",
            json!("server"),
        ),
        on_sessions("cookie", "SID", 80, "Cookie", json!("SID")),
        // The load balancer.
        on_instance("name", "annotated-slb", "/name"),
        on_instance("address-type", "intranet", "/address_type"),
        on_instance("spec", "slb.s2.small", "/spec"),
        on_instance("vswitch-id", "vsw-annotations", "/vswitch_id"),
        on_instance("network-type", "vpc", "/network_type"),
        on_instance("master-zoneid", "cn-hangzhou-b", "/master_zone_id"),
        on_instance("slave-zoneid", "cn-hangzhou-c", "/slave_zone_id"),
        on_instance("resource-group-id", "rg-annotations", "/resource_group_id"),
        row(
            "instance",
            "additional-resource-tags",
            "team=web",
            SlbHas("/tags", json!({"key": "team", "value": "web"})),
        ),
        row(
            "instance",
            "hostname",
            "web.example.com",
            Hostname("web.example.com"),
        ),
        row("instance", "ip-version", "ipv4", Accepted),
        row("instance", "instance-charge-type", "PayBySpec", Accepted),
        row("instance", "preserve-lb-on-delete", "true", Kept),
        // The backends (externalTrafficPolicy Cluster: every node, unless chosen otherwise).
        row(
            "backends",
            "backend-label",
            "kubernetes.io/hostname=kwok-node-2",
            Backends(&[("i-0002", 50)]),
        ),
        row("backends", "weight", "50", Backends(&[("i-0002", 50)])),
        row("backends", "backend-type", "ecs", Accepted),
        on_group("default-weight", "80", "defaultWeight", json!(80)),
        on_group("ignore-weight-update", "on", "keepWeights", json!(true)),
        on_group(
            "remove-unscheduled-backend",
            "on",
            "excludeUnschedulable",
            json!(true),
        ),
        on_group("connection-drain", "on", "drainSeconds", json!(45)),
        on_group("connection-drain-timeout", "45", "drainSeconds", json!(45)),
        row(
            "backends",
            "charge-type",
            "paybybandwidth",
            Slb("/internet_charge_type".into(), json!("paybybandwidth")),
        ),
        row(
            "backends",
            "bandwidth",
            "20",
            Slb("/bandwidth".into(), json!(20)),
        ),
        // Ignored, said aloud; the Service is served all the same. Spread over the Services, as a
        // Warning's note is cut at 1 kB.
        row("refused", "acl-id", "acl-1", Warned),
        row("refused", "http2-enabled", "on", Warned),
        row("refused", "delete-protection", "on", Warned),
        row("refused", "xforwardedfor-slbport", "on", Warned),
        row("refused", "no-such-annotation", "x", Warned),
        row(
            "instance",
            "modification-protection",
            "ConsoleProtection",
            Warned,
        ),
        row("instance", "ip", "192.168.0.10", Warned),
        row("instance", "external-ip-type", "eip", Warned),
        row("listeners", "health-check-method", "head", Warned),
        row(
            "listeners",
            "domain-extensions",
            "www.example.com:cert-1",
            Warned,
        ),
        row(
            "listeners",
            "tls-cipher-policy",
            "tls_cipher_policy_1_2",
            Warned,
        ),
        row("listeners", "forward-port", "80:443", Warned),
        row("listeners", "idle-timeout", "30", Warned),
        row("listeners", "request-timeout", "60", Warned),
        row("backends", "proxy-protocol", "on", Warned),
        row("backends", "xforwardedfor-clientsrcport", "on", Warned),
        row("backends", "backend-ip-version", "ipv6", Warned),
        // Implemented, but no listener of the Service (a TCP one) takes it.
        row("instance", "cookie", "SID", Warned),
    ]
}

/// The implemented annotations whose effect another test shows, and that test.
const EXERCISED_ELSEWHERE: [(&str, &str); 8] = [
    // They need a load balancer made beforehand.
    ("id", VGROUP_PORT_TEST),
    ("force-override-listeners", VGROUP_PORT_TEST),
    ("vgroup-port", VGROUP_PORT_TEST),
    // Their effect is on the nodes over time (weights kept, cordons, drains), which the group's spec
    // rows here do not show.
    ("remove-unscheduled-backend", NODES_TESTS),
    ("default-weight", NODES_TESTS),
    ("ignore-weight-update", NODES_TESTS),
    ("connection-drain", NODES_TESTS),
    ("connection-drain-timeout", NODES_TESTS),
];

const VGROUP_PORT_TEST: &str =
    "vgroup_port_puts_the_nodes_into_an_existing_group_of_an_adopted_load_balancer";
const NODES_TESTS: &str = "tests/operator_service_nodes.rs";

/// The table follows the operator's: every implemented annotation has a row that shows its effect
/// (or is exercised elsewhere), every refused one a Warned row.
fn assert_every_annotation_has_its_row(rows: &[Row]) {
    for (name, support) in CCM_ANNOTATIONS {
        let shown = rows.iter().any(|r| {
            r.annotation == name
                && match support {
                    Support::Implemented => !matches!(r.expect, Warned | Group(..)),
                    Support::Refused(_) => matches!(r.expect, Warned),
                }
        });
        let elsewhere =
            support == Support::Implemented && EXERCISED_ELSEWHERE.iter().any(|(n, _)| *n == name);
        assert!(shown || elsewhere, "{name} ({support:?}) has no row");
    }
    for (name, test) in EXERCISED_ELSEWHERE {
        assert!(
            CCM_ANNOTATIONS.contains(&(name, Support::Implemented)),
            "{name}, said to be shown by {test}, is not an implemented annotation"
        );
    }
}

/// The full name of an annotation: `backend-type` is the one outside the prefix.
fn full_name(annotation: &str) -> String {
    match annotation {
        "backend-type" => "service.beta.kubernetes.io/backend-type".to_owned(),
        _ => format!("{PREFIX}{annotation}"),
    }
}

/// The spec of a Service of class ours on port 80, with `extra` added.
fn service_spec(extra: &Value) -> Value {
    let mut spec = json!({
        "type": "LoadBalancer",
        "loadBalancerClass": CLASS,
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    spec
}

/// The Service `name` of class ours with the rows' annotations and `extra` in its spec.
async fn create_annotated_service(
    scene: &Scene,
    name: &str,
    rows: &[Row],
    cert: &str,
    extra: Value,
) {
    let annotations: serde_json::Map<String, Value> = rows
        .iter()
        .filter(|r| r.service == name)
        .map(|r| {
            (
                full_name(r.annotation),
                json!(r.value.replace("CERT", cert)),
            )
        })
        .collect();
    let mut spec = service_spec(&extra);
    spec["selector"] = json!({"app": "web"});
    let http = json!({"name": "http", "port": 80, "targetPort": 8080});
    let tcp = json!({"name": "tcp", "port": 9000, "targetPort": 9000});
    match name {
        "listeners" => {
            let https = json!({"name": "https", "port": 443, "targetPort": 8443});
            spec["ports"] = json!([http, https, tcp]);
        }
        "sessions" => spec["ports"] = json!([http, tcp]),
        _ => {}
    }
    let annotations = Value::Object(annotations);
    create_service(&scene.client, scene.ns(), name, annotations, spec).await;
}

/// The operator's condition on the Service: status, reason, message.
async fn condition(services: &Api<Service>, name: &str) -> Option<(String, String, String)> {
    load_balancer_ready(&services.get(name).await.ok()?)
}

/// The load balancer of the Service's SlbInstance, as the emulator holds it.
async fn service_load_balancer(scene: &Scene, service: &str) -> Option<Value> {
    let instances: Api<SlbInstance> = scene.api();
    let id = instances
        .get(service)
        .await
        .ok()?
        .status?
        .load_balancer_id?;
    load_balancer_by_id(&scene.emulator, &id)
}

fn load_balancer_by_id(emulator: &RunningEmulator, id: &str) -> Option<Value> {
    emulator.load_balancers().remove(id)
}

async fn group(scene: &Scene, service: &str) -> Option<SlbVServerGroup> {
    let groups: Api<SlbVServerGroup> = scene.api();
    groups.get(&format!("{service}-80")).await.ok()
}

/// The Warnings about ignored annotations on `service`.
async fn ignored_warnings(scene: &Scene, service: &str) -> Vec<Event> {
    events_about(&scene.client, scene.ns(), "UnsupportedAnnotation", service).await
}

/// The servers of the group `group_id` of the load balancer `lb` (as the emulator holds it), each
/// as `label` makes it, with its weight.
fn servers(
    lb: &Value,
    group_id: &str,
    label: impl Fn(&Value) -> String,
) -> Option<Vec<(String, i64)>> {
    let servers = lb["vserver_groups"][group_id]["servers"].as_array()?;
    Some(
        servers
            .iter()
            .map(|s| (label(s), s["weight"].as_i64().unwrap_or(-1)))
            .collect(),
    )
}

/// Whether `row` shows, as far as it can be seen before the Service is deleted.
async fn shows(scene: &Scene, row: &Row, cert: &str) -> Option<()> {
    let services: Api<Service> = scene.api();
    let seen = match &row.expect {
        Slb(pointer, expected) => {
            let lb = service_load_balancer(scene, row.service).await?;
            let expected =
                serde_json::from_str::<Value>(&expected.to_string().replace("CERT", cert)).ok()?;
            lb.pointer(pointer) == Some(&expected)
        }
        SlbHas(pointer, expected) => {
            let lb = service_load_balancer(scene, row.service).await?;
            lb.pointer(pointer)?.as_array()?.contains(expected)
        }
        Backends(expected) => {
            let lb = service_load_balancer(scene, row.service).await?;
            let group_id = group(scene, row.service).await?.status?.v_server_group_id?;
            let servers = servers(&lb, &group_id, |s| {
                s["server_id"].as_str().unwrap_or_default().to_owned()
            })?;
            let expected: Vec<(String, i64)> = expected
                .iter()
                .map(|(id, w)| ((*id).to_owned(), *w))
                .collect();
            servers == expected
        }
        Group(pointer, expected) => {
            let group = serde_json::to_value(group(scene, row.service).await?).ok()?;
            group.pointer(pointer) == Some(expected)
        }
        Hostname(expected) => {
            let ingress = services
                .get(row.service)
                .await
                .ok()?
                .status?
                .load_balancer?
                .ingress?;
            ingress.first()?.hostname.as_deref() == Some(expected)
        }
        Accepted | Kept => condition(&services, row.service).await?.0 == "True",
        Warned => {
            let name = full_name(row.annotation);
            let warned = ignored_warnings(scene, row.service)
                .await
                .iter()
                .any(|e| e.note.as_deref().is_some_and(|n| n.contains(&name)));
            let (_, _, message) = condition(&services, row.service).await?;
            warned && message.contains(&name)
        }
    };
    seen.then_some(())
}

async fn upload_certificate(slb: &dyn SlbApi) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (certificate, key) = self_signed(dir.path(), "annotations.example.com");
    slb.upload_server_certificate(&UploadServerCertificateRequest {
        server_certificate: certificate,
        private_key: key,
        server_certificate_name: Some("annotations".into()),
        ali_cloud_certificate_id: None,
        ali_cloud_certificate_name: None,
        resource_group_id: None,
    })
    .await
    .unwrap()
    .server_certificate_id
}

#[tokio::test]
async fn every_supported_annotation_shows_in_slb_and_every_refused_one_in_a_warning() {
    let kwok_nodes: Vec<String> = (1..=3).map(|i| format!("i-{i:04}")).collect();
    let scene =
        Scene::with_emulator("op-svc-ann", start_emulator_with_ecs(&kwok_nodes).await).await;
    let cert = upload_certificate(scene.slb()).await;
    let rows = rows();
    assert_every_annotation_has_its_row(&rows);

    let ranges = json!({"loadBalancerSourceRanges": ["203.0.113.0/24", "198.51.100.7/32"]});
    create_annotated_service(&scene, "listeners", &rows, &cert, ranges).await;
    for name in ["sessions", "instance", "backends", "refused"] {
        create_annotated_service(&scene, name, &rows, &cert, json!({})).await;
    }
    let services: Api<Service> = scene.api();
    let names = ["listeners", "sessions", "instance", "backends", "refused"];
    for name in names {
        eventually(
            &format!("Service {name} to be Ready"),
            Duration::from_secs(90),
            || async { (condition(&services, name).await?.0 == "True").then_some(()) },
        )
        .await;
    }
    for row in &rows {
        eventually(
            &format!("{} on Service {}", row.annotation, row.service),
            TIMEOUT,
            || shows(&scene, row, &cert),
        )
        .await;
    }
    // Every listener of the Service has the white list, HTTPS's too.
    let lb = service_load_balancer(&scene, "listeners").await.unwrap();
    for port in ["80", "443", "9000"] {
        assert_eq!(
            lb["listeners"][port]["access_control_status"], "open_white_list",
            "{port}"
        );
        assert_eq!(
            lb["listeners"][port]["white_list"],
            json!(["198.51.100.7/32", "203.0.113.0/24"]),
            "{port}"
        );
    }

    // rr is the weighted round robin of API 2014-05-15: shown on listeners that had wlc.
    patch_annotations(&services, "sessions", json!({full_name("scheduler"): "rr"})).await;
    eventually("rr as wrr on the sessions' listeners", TIMEOUT, || async {
        let lb = service_load_balancer(&scene, "sessions").await?;
        ["80", "9000"]
            .iter()
            .all(|p| lb["listeners"][p]["attributes"]["Scheduler"] == "wrr")
            .then_some(())
    })
    .await;

    // One Warning for the ignored annotations, not one per reconcile: another change of the Service
    // (a new name) is applied without a second one.
    rename_refused_slb(&scene, "renamed").await;
    let warnings = ignored_warnings(&scene, "refused").await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].series.is_none(), "{warnings:?}");
    // One more for each change of what is ignored: a refused annotation added, then the last-named
    // one removed (whose shorter list reads as part of the longer); none for another change. The
    // condition names the list as it is.
    let idle_timeout = full_name("idle-timeout");
    patch_annotations(&services, "refused", json!({&idle_timeout: "30"})).await;
    ignored_warnings_told(&scene, 2).await;
    rename_refused_slb(&scene, "renamed-again").await;
    assert_eq!(told(&ignored_warnings(&scene, "refused").await), 2);
    let slbport = full_name("xforwardedfor-slbport");
    patch_annotations(&services, "refused", json!({&slbport: null})).await;
    ignored_warnings_told(&scene, 3).await;
    // The Warning goes out before the Service's status is written.
    let message = eventually(
        "the condition to leave the removed one out",
        TIMEOUT,
        || async {
            let (_, _, message) = condition(&services, "refused").await?;
            (!message.contains(&slbport)).then_some(message)
        },
    )
    .await;
    assert!(message.contains(&idle_timeout), "{message}");
    // Each list is an Event of its own, so the newest names what is ignored now.
    let warnings = ignored_warnings(&scene, "refused").await;
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    let newest = warnings
        .iter()
        .max_by_key(|e| e.event_time.clone().map(|t| t.0));
    let note = newest.and_then(|e| e.note.clone()).unwrap_or_default();
    assert!(
        note.contains(&idle_timeout) && !note.contains(&slbport),
        "{note}"
    );

    // Source ranges removed: every list closed and emptied; 0.0.0.0/0 is no restriction either.
    for ranges in [Value::Null, json!(["0.0.0.0/0"])] {
        let patch = json!({"metadata": {"annotations": {full_name("acl-status"): null}}, "spec": {"loadBalancerSourceRanges": ranges}});
        merge_patch(&services, "listeners", patch).await;
        eventually(
            &format!("the white lists closed with ranges {ranges}"),
            TIMEOUT,
            || async {
                let lb = service_load_balancer(&scene, "listeners").await?;
                ["80", "443", "9000"]
                    .iter()
                    .all(|p| {
                        lb["listeners"][p]["access_control_status"] == "close"
                            && lb["listeners"][p]["white_list"] == json!([])
                    })
                    .then_some(())
            },
        )
        .await;
    }

    // preserve-lb-on-delete: that load balancer outlives its Service; the others go with theirs.
    let instances: Api<SlbInstance> = scene.api();
    let kept = instances
        .get("instance")
        .await
        .unwrap()
        .status
        .unwrap()
        .load_balancer_id
        .unwrap();
    delete_services(&services, &names, Duration::from_secs(90)).await;
    assert_eq!(load_balancer_ids(scene.slb()).await, vec![kept.clone()]);
    assert!(load_balancer_by_id(&scene.emulator, &kept).is_some());

    scene.end().await;
}

/// Sets the `name` of the Service `refused` and waits for its SLB to carry it.
async fn rename_refused_slb(scene: &Scene, name: &str) {
    let services: Api<Service> = scene.api();
    patch_annotations(&services, "refused", json!({full_name("name"): name})).await;
    eventually(
        &format!("the refused Service's SLB named {name}"),
        TIMEOUT,
        || async {
            let lb = service_load_balancer(scene, "refused").await?;
            (lb["name"] == name).then_some(())
        },
    )
    .await;
}

/// How many times `events` were published: each Event once, and again for each repeat counted in
/// its series.
fn told(events: &[Event]) -> i32 {
    events
        .iter()
        .map(|e| e.series.as_ref().map_or(1, |s| s.count))
        .sum()
}

/// Waits until the Warnings about ignored annotations on `refused` were published `count` times.
async fn ignored_warnings_told(scene: &Scene, count: i32) {
    eventually(
        &format!("{count} Warnings about ignored annotations"),
        TIMEOUT,
        || async { (told(&ignored_warnings(scene, "refused").await) == count).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_invalid_source_range_or_acl_changes_nothing_and_says_why() {
    let emulator = start_emulator_with_ecs(&ecs_inventory()).await;
    let scene = Scene::with_emulator("op-svc-acl", emulator).await;
    let services: Api<Service> = scene.api();
    // Served with a valid range first: the invalid one comes as a change.
    let valid = json!(["203.0.113.0/24"]);
    let spec = service_spec(&json!({"loadBalancerSourceRanges": valid}));
    create_service(&scene.client, scene.ns(), "served", json!({}), spec).await;
    let served_ingress = eventually("served with its white list", TIMEOUT, || async {
        let service = services.get("served").await.ok()?;
        let lb = service_load_balancer(&scene, "served").await?;
        let ready = load_balancer_ready(&service)?.0 == "True";
        (ready && lb["listeners"]["80"]["white_list"] == valid)
            .then_some(service.status?.load_balancer?.ingress?)
    })
    .await;

    let cases = [
        (
            "bad-range",
            json!({}),
            json!({"loadBalancerSourceRanges": ["2001:db8::/64"]}),
            "\"2001:db8::/64\" is not an IPv4",
        ),
        (
            "black-list",
            json!({full_name("acl-type"): "black"}),
            json!({}),
            "white lists only",
        ),
        (
            "acl-without-ranges",
            json!({full_name("acl-status"): "on"}),
            json!({}),
            "needs the white list",
        ),
    ];
    for (name, annotations, extra, _) in &cases {
        let spec = service_spec(extra);
        create_service(&scene.client, scene.ns(), name, annotations.clone(), spec).await;
    }
    // The apiserver refuses what is not a CIDR at all; an IPv6 range gets through to the operator.
    let invalid =
        json!({"spec": {"loadBalancerSourceRanges": ["203.0.113.0/24", "2001:db8:1::/48"]}});
    merge_patch(&services, "served", invalid).await;
    let refused = cases
        .iter()
        .map(|(name, _, _, expected)| (*name, *expected))
        .chain([("served", "\"2001:db8:1::/48\" is not an IPv4")]);
    for (name, expected) in refused {
        let message = eventually(&format!("{name} refused"), TIMEOUT, || async {
            let (status, reason, message) = condition(&services, name).await?;
            (status == "False" && reason == "InvalidAnnotation").then_some(message)
        })
        .await;
        assert!(message.contains(expected), "{name}: {message}");
        let warned = events_about(&scene.client, scene.ns(), "InvalidAnnotation", name)
            .await
            .into_iter()
            .any(|e| e.note.as_deref().is_some_and(|n| n.contains(expected)));
        assert!(warned, "{name}: a Warning Event says why");
    }
    // The served Service keeps its white list and its address; the others got no load balancer.
    let served = services.get("served").await.unwrap();
    let ingress = served.status.and_then(|s| s.load_balancer?.ingress);
    assert_eq!(ingress, Some(served_ingress));
    let lb = service_load_balancer(&scene, "served").await.unwrap();
    assert_eq!(lb["listeners"]["80"]["white_list"], valid);
    assert_eq!(
        lb["listeners"]["80"]["access_control_status"],
        "open_white_list"
    );
    assert_eq!(names(&scene.api::<SlbInstance>()).await, ["served"]);
    assert_eq!(load_balancer_ids(scene.slb()).await.len(), 1);
    let mut names = cases.map(|(name, _, _, _)| name).to_vec();
    names.push("served");
    delete_services(&services, &names, TIMEOUT).await;
    scene.end().await;
}

#[tokio::test]
async fn vgroup_port_puts_the_nodes_into_an_existing_group_of_an_adopted_load_balancer() {
    let inventory: Vec<String> = ["i-0001", "i-0002", "i-0003", "i-0099"]
        .map(String::from)
        .to_vec();
    let scene = Scene::with_emulator("op-svc-vgp", start_emulator_with_ecs(&inventory).await).await;
    let slb = scene.slb();
    let existing = made_by_hand(slb, "made-elsewhere").await.load_balancer_id;
    // The group someone else made, with a backend of their own.
    let their_group = slb
        .create_vserver_group(&CreateVServerGroupRequest {
            load_balancer_id: existing.clone(),
            v_server_group_name: "theirs".into(),
            backend_servers: vec![VServerBackendServer {
                server_id: "i-0099".into(),
                port: Some(8080),
                weight: Some(100),
            }],
        })
        .await
        .unwrap()
        .v_server_group_id;
    let annotations = json!({
        full_name("id"): existing,
        full_name("force-override-listeners"): "true",
        full_name("vgroup-port"): format!("{their_group}:80"),
    });
    let spec = json!({"type": "LoadBalancer", "loadBalancerClass": CLASS, "ports": [{"port": 80, "targetPort": 8080}]});
    let service = create_service(&scene.client, scene.ns(), "web", annotations, spec).await;
    let node_port = service.spec.unwrap().ports.unwrap()[0].node_port.unwrap();
    let their_servers = |lb: &Value| -> Vec<(String, i64)> {
        servers(lb, &their_group, |s| {
            format!("{}:{}", s["server_id"].as_str().unwrap(), s["port"])
        })
        .unwrap_or_default()
    };
    let with_nodes: Vec<(String, i64)> = ["i-0099:8080".to_owned()]
        .into_iter()
        .chain((1..=3).map(|i| format!("i-{i:04}:{node_port}")))
        .map(|s| (s, 100))
        .collect();
    let mut expected = with_nodes.clone();
    expected.sort();
    eventually(
        "the nodes in their group, and the listener on it",
        TIMEOUT,
        || async {
            let lb = load_balancer_by_id(&scene.emulator, &existing)?;
            let mut found = their_servers(&lb);
            found.sort();
            let listener_group = lb["listeners"]["80"]["attributes"]["VServerGroupId"]
                .as_str()?
                .to_owned();
            (found == expected && listener_group == their_group).then_some(())
        },
    )
    .await;
    assert_eq!(
        lb_groups(&scene.emulator, &existing),
        vec![their_group.clone()],
        "no group of its own for the port"
    );

    // The Service goes: the listener and the nodes leave; the group, its own backend and the load
    // balancer stay.
    let services: Api<Service> = scene.api();
    delete_and_wait(&services, "web", TIMEOUT).await;
    let lb =
        load_balancer_by_id(&scene.emulator, &existing).expect("the adopted load balancer stays");
    assert_eq!(their_servers(&lb), vec![("i-0099:8080".to_owned(), 100)]);
    assert!(
        lb["listeners"].as_object().unwrap().is_empty(),
        "{}",
        lb["listeners"]
    );
    // The release is announced.
    scene.assert_events(&["Released"]).await;

    scene.end().await;
}

fn lb_groups(emulator: &RunningEmulator, id: &str) -> Vec<String> {
    load_balancer_by_id(emulator, id)
        .and_then(|lb| {
            lb["vserver_groups"]
                .as_object()
                .map(|g| g.keys().cloned().collect())
        })
        .unwrap_or_default()
}
