//! Services of type LoadBalancer against the local control plane and an in-process slb-emulator
//! whose ECS inventory holds the kwok nodes (i-0001..i-0003, from their providerIDs
//! `cn-hangzhou.i-000N`): an annotated two-port Service gets an SLB with two listeners on the
//! nodes' NodePorts and its address in the Service status; annotation changes and scaling follow;
//! switching to ClusterIP or deleting the Service removes everything; invalid annotations and other
//! classes change nothing.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::ListParams;
use operator_support::*;
use serde_json::json;
use slb_api::{DescribeVServerGroupAttributeRequest, ListenerProtocol, Scheduler, SlbApi};
use slb_operator::crd::{SlbInstance, SlbListener, SlbVServerGroup};

const TIMEOUT: Duration = Duration::from_secs(60);
const PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";

/// The scene of these tests: the emulator knows the kwok nodes' ECS instances.
async fn start(prefix: &str) -> Scene {
    Scene::with_emulator(prefix, start_emulator_with_ecs(&ecs_inventory()).await).await
}

fn annotation(short_name: &str) -> String {
    format!("{PREFIX}{short_name}")
}

async fn create_service(
    scene: &Scene,
    name: &str,
    annotations: serde_json::Value,
    mut spec: serde_json::Value,
) -> Service {
    // Ours unless the case says otherwise (`null`: class-less, which the operator leaves alone).
    if spec.get("loadBalancerClass").is_none() {
        spec["loadBalancerClass"] = json!("slb.operator.dev/slb");
    }
    operator_support::create_service(&scene.client, scene.ns(), name, annotations, spec).await
}

fn node_ports(service: &Service) -> BTreeMap<i32, u16> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .unwrap()
        .iter()
        .map(|p| (p.port, u16::try_from(p.node_port.unwrap()).unwrap()))
        .collect()
}

/// The backends with traffic (weight above 0; nodes that lost their pods drain at 0 for a while).
async fn weighted_backends(slb: &dyn SlbApi, group_id: &str) -> BTreeSet<String> {
    slb.describe_vserver_group_attribute(&DescribeVServerGroupAttributeRequest {
        v_server_group_id: group_id.to_owned(),
    })
    .await
    .unwrap()
    .backend_servers
    .into_iter()
    .filter(|b| b.weight.unwrap_or(100) > 0)
    .map(|b| format!("{}:{}", b.server_id, b.port.unwrap()))
    .collect()
}

/// Waits until the group of each port holds, with weight, exactly the nodes of the `replicas` Ready pods.
async fn backends_follow(
    scene: &Scene,
    groups: &BTreeMap<i32, String>,
    node_ports: &BTreeMap<i32, u16>,
    replicas: usize,
) -> BTreeSet<String> {
    eventually(
        &format!("the backends to follow {replicas} pods"),
        Duration::from_secs(90),
        || async {
            let pods = ready_pods_per_instance(&scene.client, scene.ns()).await;
            if pods.values().sum::<u32>() as usize != replicas {
                return None;
            }
            let instances: BTreeSet<String> = pods.into_keys().collect();
            for (port, group_id) in groups {
                let node_port = node_ports[port];
                let expected: BTreeSet<String> = instances
                    .iter()
                    .map(|id| format!("{id}:{node_port}"))
                    .collect();
                if weighted_backends(scene.slb(), group_id).await != expected {
                    return None;
                }
            }
            Some(instances)
        },
    )
    .await
}

async fn group_ids(scene: &Scene, service: &str) -> BTreeMap<i32, String> {
    let api: Api<SlbVServerGroup> = scene.api();
    let mut ids = BTreeMap::new();
    for group in api.list(&ListParams::default()).await.unwrap() {
        let Some(service_ref) = group.spec.service_ref.as_ref() else {
            continue;
        };
        if service_ref.name != service {
            continue;
        }
        if let Some(id) = group.status.and_then(|s| s.v_server_group_id) {
            ids.insert(service_ref.port, id);
        }
    }
    ids
}

/// Waits until no SLB object and no child custom resource is left, and the Service is released.
async fn everything_gone(scene: &Scene) {
    eventually(
        "the SLB objects and children to be gone",
        TIMEOUT,
        || async {
            let instances: Api<SlbInstance> = scene.api();
            let groups: Api<SlbVServerGroup> = scene.api();
            let listeners: Api<SlbListener> = scene.api();
            let params = ListParams::default();
            let none_left = load_balancer_ids(scene.slb()).await.is_empty()
                && instances.list(&params).await.unwrap().items.is_empty()
                && groups.list(&params).await.unwrap().items.is_empty()
                && listeners.list(&params).await.unwrap().items.is_empty();
            none_left.then_some(())
        },
    )
    .await;
}

/// Waits until the Service `name` has an address, and returns it.
async fn ingress_address(services: &Api<Service>, name: &str) -> String {
    eventually("the Service's ingress address", TIMEOUT, || async {
        ingress_ip(&services.get(name).await.ok()?)
    })
    .await
}

#[tokio::test]
async fn an_annotated_service_gets_an_slb_that_follows_annotations_and_scaling_and_goes_with_cluster_ip()
 {
    let scene = start("op-svc").await;
    let slb = scene.slb();
    create_deployment(&scene.client, scene.ns(), 3).await;
    let service = create_service(
        &scene,
        "web",
        json!({
            annotation("protocol-port"): "http:80",
            annotation("charge-type"): "paybybandwidth",
            annotation("bandwidth"): "10",
            annotation("spec"): "slb.s2.small",
            annotation("scheduler"): "wrr",
            annotation("health-check-uri"): "/healthz",
            annotation("persistence-timeout"): "60",
            annotation("additional-resource-tags"): "team=web,env=test",
        }),
        json!({
            "type": "LoadBalancer",
            // Only the nodes hosting pods are backends, so scaling shows.
            "externalTrafficPolicy": "Local",
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080},
                {"name": "grpc", "port": 9000, "targetPort": 9000},
            ]
        }),
    )
    .await;
    let node_ports = node_ports(&service);
    let services: Api<Service> = scene.api();

    // One SLB, two listeners, the address in the Service status.
    let address = ingress_address(&services, "web").await;
    let ids = load_balancer_ids(slb).await;
    assert_eq!(ids.len(), 1, "one load balancer: {ids:?}");
    eventually(
        "the Service's LoadBalancerReady condition",
        TIMEOUT,
        || async {
            let (status, reason, message) = load_balancer_ready(&services.get("web").await.ok()?)?;
            (status == "True" && reason == "Available" && message.contains(&address)).then_some(())
        },
    )
    .await;
    let lb_id = ids[0].clone();
    let lb = eventually("both listeners", TIMEOUT, || async {
        let lb = attribute(slb, &lb_id).await;
        (listeners(&lb).len() == 2).then_some(lb)
    })
    .await;
    assert_eq!(lb.address, address);
    assert_eq!(
        listeners(&lb),
        BTreeMap::from([(80, ListenerProtocol::Http), (9000, ListenerProtocol::Tcp)])
    );
    assert_eq!(lb.bandwidth, Some(10));
    let tcp = tcp_listener(slb, &lb_id, 9000).await.unwrap();
    assert_eq!(tcp.persistence_timeout, Some(60));
    assert_eq!(tcp.backend_server_port, Some(node_ports[&9000]));

    // The backends are the kwok nodes of the pods, on the NodePorts.
    let groups = eventually("both groups", TIMEOUT, || async {
        let ids = group_ids(&scene, "web").await;
        (ids.len() == 2).then_some(ids)
    })
    .await;
    let three = backends_follow(&scene, &groups, &node_ports, 3).await;
    assert!(
        three
            .iter()
            .all(|id| ["i-0001", "i-0002", "i-0003"].contains(&id.as_str())),
        "kwok nodes: {three:?}"
    );

    // Annotations change: the SLB follows.
    let changed = json!({annotation("bandwidth"): "20", annotation("scheduler"): "wlc"});
    patch_annotations(&services, "web", changed).await;
    eventually("the new bandwidth and scheduler", TIMEOUT, || async {
        let lb = attribute(slb, &lb_id).await;
        let tcp = tcp_listener(slb, &lb_id, 9000).await?;
        (lb.bandwidth == Some(20) && tcp.scheduler == Some(Scheduler::WeightedLeastConnections))
            .then_some(())
    })
    .await;

    // Scaled: the backends follow.
    scale(&scene.client, scene.ns(), 1).await;
    let one = backends_follow(&scene, &groups, &node_ports, 1).await;
    assert_eq!(one.len(), 1);

    // A port removed: its listener and group go, the other port keeps its bandwidth share and more.
    let http_only =
        json!([{"name": "http", "port": 80, "targetPort": 8080, "nodePort": node_ports[&80]}]);
    patch_spec(&services, "web", json!({"ports": http_only})).await;
    eventually("only the listener of port 80", TIMEOUT, || async {
        let lb = attribute(slb, &lb_id).await;
        let groups = group_ids(&scene, "web").await;
        (listeners(&lb) == BTreeMap::from([(80, ListenerProtocol::Http)])
            && groups.keys().eq([&80]))
        .then_some(())
    })
    .await;

    // ClusterIP: everything goes, and the Service is released.
    let cluster_ip = json!({"type": "ClusterIP", "externalTrafficPolicy": null});
    patch_spec(&services, "web", cluster_ip).await;
    everything_gone(&scene).await;
    let released = eventually("the Service to be released", TIMEOUT, || async {
        let service = services.get("web").await.ok()?;
        let finalizers = service.metadata.finalizers.clone().unwrap_or_default();
        (finalizers.is_empty() && ingress_ip(&service).is_none()).then_some(service)
    })
    .await;
    assert_eq!(
        load_balancer_ready(&released),
        None,
        "the condition goes too"
    );
    assert_eq!(
        released.spec.and_then(|s| s.type_).as_deref(),
        Some("ClusterIP")
    );
    scene
        .assert_events(&["EnsuredLoadBalancer", "DeletedLoadBalancer"])
        .await;

    scene.end().await;
}

#[tokio::test]
async fn a_deleted_service_leaves_no_slb_and_invalid_or_foreign_services_change_nothing() {
    let scene = start("op-svc-del").await;
    create_deployment(&scene.client, scene.ns(), 2).await;
    let spec = json!({
        "type": "LoadBalancer",
        "selector": {"app": "web"},
        "ports": [{"port": 80, "targetPort": 8080}]
    });

    // Invalid annotations: a Warning, and nothing is created.
    let invalid = json!({annotation("bandwidth"): "lots", annotation("scheduler"): "fifo"});
    create_service(&scene, "invalid", invalid, spec.clone()).await;
    // Another class: left to whoever serves it.
    let mut foreign_spec = spec.clone();
    foreign_spec["loadBalancerClass"] = json!("example.com/other");
    create_service(&scene, "foreign", json!({}), foreign_spec).await;
    // No class: the cloud controller manager's, unless --manage-services-without-class.
    let mut classless_spec = spec.clone();
    classless_spec["loadBalancerClass"] = serde_json::Value::Null;
    create_service(&scene, "classless", json!({}), classless_spec).await;
    let note = eventually("an InvalidAnnotation warning", TIMEOUT, || async {
        let warnings =
            events_about(&scene.client, scene.ns(), "InvalidAnnotation", "invalid").await;
        warnings
            .into_iter()
            .next()
            .map(|e| e.note.unwrap_or_default())
    })
    .await;
    assert!(
        note.contains(&annotation("bandwidth")) && note.contains("scheduler"),
        "{note}"
    );
    let services: Api<Service> = scene.api();
    let (status, reason, message) =
        eventually("the condition of the refused Service", TIMEOUT, || async {
            load_balancer_ready(&services.get("invalid").await.ok()?)
        })
        .await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "InvalidAnnotation")
    );
    assert_eq!(message, note);
    let foreign = services.get("foreign").await.unwrap();
    assert_eq!(
        load_balancer_ready(&foreign),
        None,
        "another class's Service is left alone"
    );

    // A served Service: an SLB with its address, then nothing left after the Service is deleted.
    create_service(&scene, "web", json!({}), spec).await;
    ingress_address(&services, "web").await;
    assert_eq!(
        names(&scene.api::<SlbInstance>()).await,
        ["web"],
        "only the served Service has an SLB"
    );
    assert_eq!(load_balancer_ids(scene.slb()).await.len(), 1);
    for name in ["invalid", "foreign", "classless"] {
        let service = services.get(name).await.unwrap();
        assert!(ingress_ip(&service).is_none(), "{name} has no address");
    }
    for name in ["foreign", "classless"] {
        let service = services.get(name).await.unwrap();
        assert_eq!(load_balancer_ready(&service), None, "{name} is left alone");
        assert!(
            service.metadata.finalizers.unwrap_or_default().is_empty(),
            "{name}: a Service the operator does not serve carries no finalizer"
        );
    }

    // Deleted while the operator runs, so that no finalizer outlives it.
    for name in ["web", "invalid"] {
        delete_and_wait(&services, name, TIMEOUT).await;
    }
    everything_gone(&scene).await;

    scene.end().await;
}

#[tokio::test]
async fn an_adopted_load_balancer_gets_the_services_listeners_and_loses_only_them() {
    let scene = start("op-svc-id").await;
    let slb = scene.slb();
    let existing = made_by_hand(slb, "made-elsewhere").await;
    create_deployment(&scene.client, scene.ns(), 1).await;
    create_service(
        &scene,
        "web",
        json!({
            annotation("id"): existing.load_balancer_id,
            annotation("force-override-listeners"): "true",
        }),
        json!({
            "type": "LoadBalancer",
            "selector": {"app": "web"},
            "ports": [{"port": 80, "targetPort": 8080}]
        }),
    )
    .await;
    let services: Api<Service> = scene.api();
    let address = ingress_address(&services, "web").await;
    assert_eq!(address, existing.address);
    eventually("the listener on the adopted SLB", TIMEOUT, || async {
        let lb = attribute(slb, &existing.load_balancer_id).await;
        (listeners(&lb) == BTreeMap::from([(80, ListenerProtocol::Tcp)])).then_some(())
    })
    .await;

    delete_and_wait(&services, "web", TIMEOUT).await;
    // The load balancer stays, without what the Service added to it.
    let lb = attribute(slb, &existing.load_balancer_id).await;
    assert!(listeners(&lb).is_empty(), "{lb:?}");
    let groups = vserver_groups(slb, &existing.load_balancer_id).await;
    assert!(groups.is_empty(), "{groups:?}");
    let notes: Vec<(String, String)> = events(&scene.client, scene.ns())
        .await
        .into_iter()
        .filter_map(|event| Some((event.reason?, event.note.unwrap_or_default())))
        .collect();
    assert!(
        notes
            .iter()
            .any(|(r, note)| r == "Deleted" && note.starts_with("Deleted listener"))
            && !notes
                .iter()
                .any(|(r, note)| r == "Orphaned" && note.contains("listener")),
        "the listener the Service forced onto the SLB was deleted, not orphaned: {notes:?}"
    );

    scene.end().await;
}
