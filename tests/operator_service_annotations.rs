//! Every annotation of the cloud controller manager the operator supports, applied to Services on the
//! local control plane and checked in the in-process emulator's state (or, for what lives on the
//! Kubernetes side, in the Service or its children), one table row per annotation; every refused one
//! checked by its Warning Event. `spec.loadBalancerSourceRanges` becomes each listener's white list
//! and closes it when removed; an invalid range changes nothing. `vgroup-port` (with `id` and
//! `force-override-listeners`) puts the nodes into an existing group of an adopted load balancer and
//! takes only them out again.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use operator_support::*;
use serde_json::{Value, json};
use slb_api::{
    CreateLoadBalancerRequest, CreateVServerGroupRequest, SlbApi, UploadServerCertificateRequest,
    VServerBackendServer,
};
use slb_emulator::RunningEmulator;
use slb_operator::controller::service::LOAD_BALANCER_READY;
use slb_operator::crd::{SlbInstance, SlbVServerGroup};

const TIMEOUT: Duration = Duration::from_secs(60);
const PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";
const CLASS: &str = "slb.operator.dev/slb";

/// What an annotation does, as seen from outside.
enum Expect {
    /// The JSON at this pointer in the Service's load balancer, in the emulator's state.
    Slb(&'static str, Value),
    /// An element of the array at this pointer in the Service's load balancer.
    SlbHas(&'static str, Value),
    /// The backends (ECS instance, weight) of the group of the Service's port 80.
    Backends(&'static [(&'static str, i64)]),
    /// The JSON at this pointer in the Service's SlbVServerGroup of port 80 (what the operator does
    /// itself, such as the drain of leaving backends).
    Group(&'static str, Value),
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

fn rows() -> Vec<Row> {
    vec![
        // Listeners: port 80 HTTP, 443 HTTPS, 9000 TCP.
        row(
            "listeners",
            "protocol-port",
            "http:80,https:443",
            Slb("/listeners/443/protocol", json!("https")),
        ),
        row(
            "listeners",
            "cert-id",
            "CERT",
            Slb(
                "/listeners/443/attributes/ServerCertificateId",
                json!("CERT"),
            ),
        ),
        row(
            "listeners",
            "scheduler",
            "rr",
            Slb("/listeners/80/attributes/Scheduler", json!("wrr")),
        ),
        row(
            "listeners",
            "xforwardedfor-proto",
            "on",
            Slb("/listeners/80/attributes/XForwardedFor_proto", json!("on")),
        ),
        row(
            "listeners",
            "xforwardedfor-slbip",
            "on",
            Slb("/listeners/443/attributes/XForwardedFor_SLBIP", json!("on")),
        ),
        row(
            "listeners",
            "xforwardedfor-slbid",
            "on",
            Slb("/listeners/80/attributes/XForwardedFor_SLBID", json!("on")),
        ),
        row(
            "listeners",
            "established-timeout",
            "120",
            Slb("/listeners/9000/attributes/EstablishedTimeout", json!(120)),
        ),
        row(
            "listeners",
            "persistence-timeout",
            "30",
            Slb("/listeners/9000/attributes/PersistenceTimeout", json!(30)),
        ),
        row(
            "listeners",
            "health-check-flag",
            "on",
            Slb("/listeners/80/attributes/HealthCheck", json!("on")),
        ),
        row(
            "listeners",
            "health-check-switch",
            "on",
            Slb("/listeners/9000/status", json!("running")),
        ),
        row(
            "listeners",
            "health-check-type",
            "tcp",
            Slb("/listeners/9000/attributes/HealthCheckType", json!("tcp")),
        ),
        row(
            "listeners",
            "health-check-uri",
            "/healthz",
            Slb("/listeners/80/attributes/HealthCheckURI", json!("/healthz")),
        ),
        row(
            "listeners",
            "health-check-domain",
            "www.example.com",
            Slb(
                "/listeners/443/attributes/HealthCheckDomain",
                json!("www.example.com"),
            ),
        ),
        row(
            "listeners",
            "health-check-httpcode",
            "http_2xx,http_3xx",
            Slb(
                "/listeners/80/attributes/HealthCheckHttpCode",
                json!("http_2xx,http_3xx"),
            ),
        ),
        row(
            "listeners",
            "health-check-connect-port",
            "8080",
            Slb(
                "/listeners/9000/attributes/HealthCheckConnectPort",
                json!(8080),
            ),
        ),
        row(
            "listeners",
            "healthy-threshold",
            "4",
            Slb("/listeners/80/attributes/HealthyThreshold", json!(4)),
        ),
        row(
            "listeners",
            "unhealthy-threshold",
            "5",
            Slb("/listeners/9000/attributes/UnhealthyThreshold", json!(5)),
        ),
        row(
            "listeners",
            "health-check-interval",
            "3",
            Slb("/listeners/80/attributes/HealthCheckInterval", json!(3)),
        ),
        row(
            "listeners",
            "health-check-timeout",
            "6",
            Slb("/listeners/80/attributes/HealthCheckTimeout", json!(6)),
        ),
        row(
            "listeners",
            "health-check-connect-timeout",
            "7",
            Slb("/listeners/9000/attributes/HealthCheckTimeout", json!(7)),
        ),
        row(
            "listeners",
            "sticky-session",
            "on",
            Slb("/listeners/80/attributes/StickySession", json!("on")),
        ),
        row(
            "listeners",
            "sticky-session-type",
            "insert",
            Slb(
                "/listeners/443/attributes/StickySessionType",
                json!("insert"),
            ),
        ),
        row(
            "listeners",
            "cookie-timeout",
            "300",
            Slb("/listeners/80/attributes/CookieTimeout", json!(300)),
        ),
        row(
            "listeners",
            "acl-status",
            "on",
            Slb(
                "/listeners/9000/access_control_status",
                json!("open_white_list"),
            ),
        ),
        row(
            "listeners",
            "acl-type",
            "white",
            Slb(
                "/listeners/80/white_list",
                json!(["198.51.100.7/32", "203.0.113.0/24"]),
            ),
        ),
        // The load balancer.
        row(
            "instance",
            "name",
            "annotated-slb",
            Slb("/name", json!("annotated-slb")),
        ),
        row(
            "instance",
            "address-type",
            "intranet",
            Slb("/address_type", json!("intranet")),
        ),
        row(
            "instance",
            "spec",
            "slb.s2.small",
            Slb("/spec", json!("slb.s2.small")),
        ),
        row(
            "instance",
            "vswitch-id",
            "vsw-annotations",
            Slb("/vswitch_id", json!("vsw-annotations")),
        ),
        row(
            "instance",
            "network-type",
            "vpc",
            Slb("/network_type", json!("vpc")),
        ),
        row(
            "instance",
            "master-zoneid",
            "cn-hangzhou-b",
            Slb("/master_zone_id", json!("cn-hangzhou-b")),
        ),
        row(
            "instance",
            "slave-zoneid",
            "cn-hangzhou-c",
            Slb("/slave_zone_id", json!("cn-hangzhou-c")),
        ),
        row(
            "instance",
            "resource-group-id",
            "rg-annotations",
            Slb("/resource_group_id", json!("rg-annotations")),
        ),
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
        row(
            "backends",
            "default-weight",
            "80",
            Group("/spec/serviceRef/defaultWeight", json!(80)),
        ),
        row(
            "backends",
            "ignore-weight-update",
            "on",
            Group("/spec/serviceRef/keepWeights", json!(true)),
        ),
        row(
            "backends",
            "remove-unscheduled-backend",
            "on",
            Group("/spec/serviceRef/excludeUnschedulable", json!(true)),
        ),
        row(
            "backends",
            "connection-drain",
            "on",
            Group("/spec/serviceRef/drainSeconds", json!(45)),
        ),
        row(
            "backends",
            "connection-drain-timeout",
            "45",
            Group("/spec/serviceRef/drainSeconds", json!(45)),
        ),
        row(
            "backends",
            "charge-type",
            "paybybandwidth",
            Slb("/internet_charge_type", json!("paybybandwidth")),
        ),
        row("backends", "bandwidth", "20", Slb("/bandwidth", json!(20))),
        // Ignored, said aloud; the Service is served all the same.
        row("refused", "acl-id", "acl-1", Warned),
        row("refused", "http2-enabled", "on", Warned),
        row("refused", "delete-protection", "on", Warned),
        row("refused", "xforwardedfor-slbport", "on", Warned),
        row("refused", "no-such-annotation", "x", Warned),
    ]
}

/// The full name of an annotation: `backend-type` is the one outside the prefix.
fn full_name(annotation: &str) -> String {
    format!("{PREFIX}{annotation}")
}

/// The Service `name` of class ours with the rows' annotations and `extra` in its spec.
async fn create_service(
    client: &Client,
    namespace: &str,
    name: &str,
    rows: &[Row],
    cert: &str,
    extra: Value,
) {
    let mut annotations: serde_json::Map<String, Value> = rows
        .iter()
        .filter(|r| r.service == name)
        .map(|r| {
            (
                full_name(r.annotation),
                json!(r.value.replace("CERT", cert)),
            )
        })
        .collect();
    if name == "backends" {
        annotations.insert(
            "service.beta.kubernetes.io/backend-type".into(),
            json!("ecs"),
        );
    }
    let mut spec = json!({
        "type": "LoadBalancer",
        "loadBalancerClass": CLASS,
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
    });
    if name == "listeners" {
        spec["ports"] = json!([
            {"name": "http", "port": 80, "targetPort": 8080},
            {"name": "https", "port": 443, "targetPort": 8443},
            {"name": "tcp", "port": 9000, "targetPort": 9000},
        ]);
    }
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    operator_support::create_service(client, namespace, name, Value::Object(annotations), spec)
        .await;
}

/// The operator's condition on the Service: status, reason, message.
async fn condition(services: &Api<Service>, name: &str) -> Option<(String, String, String)> {
    let service = services.get(name).await.ok()?;
    let conditions = service.status?.conditions?;
    let condition = conditions
        .into_iter()
        .find(|c| c.type_ == LOAD_BALANCER_READY)?;
    Some((condition.status, condition.reason, condition.message))
}

/// The load balancer of the Service's SlbInstance, as the emulator holds it.
async fn load_balancer(
    client: &Client,
    namespace: &str,
    emulator: &RunningEmulator,
    service: &str,
) -> Option<Value> {
    let instances: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    let id = instances
        .get(service)
        .await
        .ok()?
        .status?
        .load_balancer_id?;
    load_balancer_by_id(emulator, &id)
}

fn load_balancer_by_id(emulator: &RunningEmulator, id: &str) -> Option<Value> {
    let state = emulator.state();
    state["accounts"]
        .as_object()?
        .values()
        .find_map(|account| account["load_balancers"].get(id).cloned())
}

async fn group(client: &Client, namespace: &str, service: &str) -> Option<SlbVServerGroup> {
    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), namespace);
    groups.get(&format!("{service}-80")).await.ok()
}

/// The Warnings about ignored annotations on `service`.
async fn ignored_warnings(client: &Client, namespace: &str, service: &str) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some("UnsupportedAnnotation")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(service)
        })
        .collect()
}

/// Whether `row` shows, as far as it can be seen before the Service is deleted.
async fn shows(
    client: &Client,
    namespace: &str,
    emulator: &RunningEmulator,
    row: &Row,
    cert: &str,
) -> Option<()> {
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    let seen = match &row.expect {
        Slb(pointer, expected) => {
            let lb = load_balancer(client, namespace, emulator, row.service).await?;
            let expected =
                serde_json::from_str::<Value>(&expected.to_string().replace("CERT", cert)).ok()?;
            lb.pointer(pointer) == Some(&expected)
        }
        SlbHas(pointer, expected) => {
            let lb = load_balancer(client, namespace, emulator, row.service).await?;
            lb.pointer(pointer)?.as_array()?.contains(expected)
        }
        Backends(expected) => {
            let lb = load_balancer(client, namespace, emulator, row.service).await?;
            let group_id = group(client, namespace, row.service)
                .await?
                .status?
                .v_server_group_id?;
            let servers: Vec<(String, i64)> = lb["vserver_groups"][&group_id]["servers"]
                .as_array()?
                .iter()
                .map(|s| {
                    (
                        s["server_id"].as_str().unwrap_or_default().to_owned(),
                        s["weight"].as_i64().unwrap_or(-1),
                    )
                })
                .collect();
            let expected: Vec<(String, i64)> = expected
                .iter()
                .map(|(id, w)| ((*id).to_owned(), *w))
                .collect();
            servers == expected
        }
        Group(pointer, expected) => {
            let group = serde_json::to_value(group(client, namespace, row.service).await?).ok()?;
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
            let warned = ignored_warnings(client, namespace, row.service)
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
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-svc-ann").await;
    let emulator =
        start_emulator_with_ecs(&(1..=3).map(|i| format!("i-{i:04}")).collect::<Vec<_>>()).await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let cert = upload_certificate(slb.as_ref()).await;
    let rows = rows();
    let ns = namespace.name.as_str();

    let ranges = json!({"loadBalancerSourceRanges": ["203.0.113.0/24", "198.51.100.7/32"]});
    create_service(&client, ns, "listeners", &rows, &cert, ranges).await;
    for name in ["instance", "backends", "refused"] {
        create_service(&client, ns, name, &rows, &cert, json!({})).await;
    }
    let services: Api<Service> = Api::namespaced(client.clone(), ns);
    for name in ["listeners", "instance", "backends", "refused"] {
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
            || shows(&client, ns, &emulator, row, &cert),
        )
        .await;
    }
    // Every listener of the Service has the white list, HTTPS's too.
    let lb = load_balancer(&client, ns, &emulator, "listeners")
        .await
        .unwrap();
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

    // One Warning for the ignored annotations, not one per reconcile: another change of the Service
    // (a new name) is applied without a second one.
    let patch = json!({"metadata": {"annotations": {full_name("name"): "renamed"}}});
    services
        .patch("refused", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    eventually(
        "the new name of the refused Service's SLB",
        TIMEOUT,
        || async {
            let lb = load_balancer(&client, ns, &emulator, "refused").await?;
            (lb["name"] == "renamed").then_some(())
        },
    )
    .await;
    let warnings = ignored_warnings(&client, ns, "refused").await;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].series.is_none(), "{warnings:?}");

    // Source ranges removed: every list closed and emptied; 0.0.0.0/0 is no restriction either.
    for ranges in [Value::Null, json!(["0.0.0.0/0"])] {
        let patch = json!({"metadata": {"annotations": {full_name("acl-status"): null}}, "spec": {"loadBalancerSourceRanges": ranges}});
        services
            .patch("listeners", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
        eventually(
            &format!("the white lists closed with ranges {ranges}"),
            TIMEOUT,
            || async {
                let lb = load_balancer(&client, ns, &emulator, "listeners").await?;
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
    let instances: Api<SlbInstance> = Api::namespaced(client.clone(), ns);
    let kept = instances
        .get("instance")
        .await
        .unwrap()
        .status
        .unwrap()
        .load_balancer_id
        .unwrap();
    for name in ["listeners", "instance", "backends", "refused"] {
        services
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    eventually(
        "the Services to be gone",
        Duration::from_secs(90),
        || async {
            services
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .is_empty()
                .then_some(())
        },
    )
    .await;
    assert_eq!(load_balancer_ids(slb.as_ref()).await, vec![kept.clone()]);
    assert!(load_balancer_by_id(&emulator, &kept).is_some());

    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn an_invalid_source_range_or_acl_changes_nothing_and_says_why() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-svc-acl").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let ns = namespace.name.as_str();
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
    let services: Api<Service> = Api::namespaced(client.clone(), ns);
    for (name, annotations, extra, _) in &cases {
        let mut spec = json!({
            "type": "LoadBalancer",
            "loadBalancerClass": CLASS,
            "ports": [{"port": 80, "targetPort": 8080}],
        });
        if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        let service = json!({"metadata": {"name": name, "annotations": annotations}, "spec": spec});
        services
            .create(
                &PostParams::default(),
                &serde_json::from_value(service).unwrap(),
            )
            .await
            .unwrap();
    }
    for (name, _, _, expected) in &cases {
        let (status, reason, message) = eventually(&format!("{name} refused"), TIMEOUT, || async {
            condition(&services, name).await
        })
        .await;
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "InvalidAnnotation"),
            "{name}"
        );
        assert!(message.contains(expected), "{name}: {message}");
        let events: Api<Event> = Api::namespaced(client.clone(), ns);
        let warned = events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .any(|e| {
                e.reason.as_deref() == Some("InvalidAnnotation")
                    && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(*name)
                    && e.note.as_deref().is_some_and(|n| n.contains(expected))
            });
        assert!(warned, "{name}: a Warning Event says why");
    }
    let instances: Api<SlbInstance> = Api::namespaced(client.clone(), ns);
    assert!(
        instances
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(load_balancer_ids(slb.as_ref()).await.is_empty());
    for (name, _, _, _) in &cases {
        services
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
    }
    eventually("the Services to be gone", TIMEOUT, || async {
        services
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .is_empty()
            .then_some(())
    })
    .await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn vgroup_port_puts_the_nodes_into_an_existing_group_of_an_adopted_load_balancer() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-svc-vgp").await;
    let inventory: Vec<String> = ["i-0001", "i-0002", "i-0003", "i-0099"]
        .map(String::from)
        .to_vec();
    let emulator = start_emulator_with_ecs(&inventory).await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let ns = namespace.name.as_str();
    let existing = slb
        .create_load_balancer(&CreateLoadBalancerRequest {
            load_balancer_name: Some("made-elsewhere".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .load_balancer_id;
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
    let services: Api<Service> = Api::namespaced(client.clone(), ns);
    let service = services
        .create(
            &PostParams::default(),
            &serde_json::from_value(
                json!({"metadata": {"name": "web", "annotations": annotations}, "spec": spec}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let node_port = service.spec.unwrap().ports.unwrap()[0].node_port.unwrap();
    let servers = |lb: &Value| -> Vec<(String, i64)> {
        lb["vserver_groups"][&their_group]["servers"]
            .as_array()
            .map(|servers| {
                servers
                    .iter()
                    .map(|s| {
                        (
                            format!("{}:{}", s["server_id"].as_str().unwrap(), s["port"]),
                            s["weight"].as_i64().unwrap(),
                        )
                    })
                    .collect()
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
            let lb = load_balancer_by_id(&emulator, &existing)?;
            let mut found = servers(&lb);
            found.sort();
            let listener_group = lb["listeners"]["80"]["attributes"]["VServerGroupId"]
                .as_str()?
                .to_owned();
            (found == expected && listener_group == their_group).then_some(())
        },
    )
    .await;
    assert_eq!(
        lb_groups(&emulator, &existing),
        vec![their_group.clone()],
        "no group of its own for the port"
    );

    // The Service goes: the listener and the nodes leave; the group, its own backend and the load
    // balancer stay.
    services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the Service to be gone", TIMEOUT, || async {
        services.get_opt("web").await.ok()?.is_none().then_some(())
    })
    .await;
    let lb = load_balancer_by_id(&emulator, &existing).expect("the adopted load balancer stays");
    assert_eq!(servers(&lb), vec![("i-0099:8080".to_owned(), 100)]);
    assert!(
        lb["listeners"].as_object().unwrap().is_empty(),
        "{}",
        lb["listeners"]
    );
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let released = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .any(|e| e.reason.as_deref() == Some("Released"));
    assert!(released, "the release is announced");

    operator.stop().await;
    namespace.delete().await;
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
