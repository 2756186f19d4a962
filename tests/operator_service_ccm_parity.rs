//! What users of the Alibaba Cloud controller manager (CCM) expect of a Service, against the local
//! control plane and an in-process slb-emulator: the HTTPS certificate from a TLS Secret
//! (`slb.operator.dev/tls-secret`), taking over the load balancer the CCM made for a Service
//! (`slb.operator.dev/migrate-from-ccm`), and pod readiness gates that wait for SLB's health checks.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use operator_support::*;
use serde_json::json;
use slb_api::{
    AddTagsRequest, CreateLoadBalancerRequest, CreateLoadBalancerTCPListenerRequest,
    CreateVServerGroupRequest, ListenerProtocol, ServerGroupIds, SlbApi, Tag,
};
use slb_emulator::HealthOverride;
use slb_operator::controller::readiness_gate::gate_condition_type;
use slb_operator::controller::service::{MIGRATE_FROM_CCM_ANNOTATION, TLS_SECRET_ANNOTATION};
use slb_operator::crd::{DeletionPolicy, SlbInstance, SlbListener};

const TIMEOUT: Duration = Duration::from_secs(60);
const PREFIX: &str = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-";

async fn https_certificate(slb: &dyn SlbApi, lb: &str, port: u16) -> Option<String> {
    https_listener(slb, lb, port).await?.server_certificate_id
}

/// The scene of these tests: the emulator knows the kwok nodes' ECS instances.
async fn start(prefix: &str) -> Scene {
    Scene::without_operator(prefix, start_emulator_with_ecs(&ecs_inventory()).await).await
}

async fn instance_id(scene: &Scene, name: &str) -> String {
    let instances: Api<SlbInstance> = scene.api();
    eventually("the SlbInstance's load balancer ID", TIMEOUT, || async {
        instances.get(name).await.ok()?.status?.load_balancer_id
    })
    .await
}

#[tokio::test]
async fn a_services_https_certificate_from_a_tls_secret_is_uploaded_rotated_and_deleted() {
    let scene = start("op-svc-tls").await;
    scene.run_operator(|_| {}).await;
    let (client, ns, slb) = (&scene.client, scene.ns(), scene.slb());
    let dir = tempfile::tempdir().unwrap();
    let first_pair = self_signed(dir.path(), "first");
    apply_tls_secret(client, ns, "web-tls", &first_pair).await;
    create_deployment(client, ns, 1).await;
    create_service(
        client,
        ns,
        "web",
        json!({
            format!("{PREFIX}protocol-port"): "https:443",
            TLS_SECRET_ANNOTATION: "web-tls",
        }),
        json!({
            "type": "LoadBalancer",
            "loadBalancerClass": "slb.operator.dev/slb",
            "selector": {"app": "web"},
            "ports": [{"name": "https", "port": 443, "targetPort": 8443}]
        }),
    )
    .await;
    let lb = instance_id(&scene, "web").await;
    let first = eventually(
        "the certificate from the Secret on port 443",
        TIMEOUT,
        || async { https_certificate(slb, &lb, 443).await },
    )
    .await;
    assert_eq!(
        server_certificate_ids(slb).await,
        std::slice::from_ref(&first)
    );
    // The listener's status follows its SLB call, so it is read until it names the certificate.
    let listeners: Api<SlbListener> = scene.api();
    let recorded = eventually(
        "the certificate recorded in the listener's status",
        TIMEOUT,
        || async {
            let listener = listeners.get("web-443").await.ok()?;
            listener.status?.server_certificate_id
        },
    )
    .await;
    assert_eq!(recorded, first);

    // A renewal: uploaded, swapped in, and the old certificate deleted.
    let second_pair = self_signed(dir.path(), "second");
    apply_tls_secret(client, ns, "web-tls", &second_pair).await;
    let second = eventually("the renewed certificate in use", TIMEOUT, || async {
        let id = https_certificate(slb, &lb, 443).await?;
        (id != first).then_some(id)
    })
    .await;
    eventually("only the renewed certificate left", TIMEOUT, || async {
        (server_certificate_ids(slb).await == [second.clone()]).then_some(())
    })
    .await;

    // The Service goes: the load balancer and the uploaded certificate with it.
    delete_service(client, ns, "web", TIMEOUT).await;
    assert!(load_balancer_ids(slb).await.is_empty());
    assert!(server_certificate_ids(slb).await.is_empty());

    scene.end().await;
}

/// What the CCM leaves for a Service of one port: a load balancer named and tagged after the
/// Service's uid, a VServer group named after the NodePort and the Service, and a TCP listener.
async fn seed_ccm_load_balancer(slb: &dyn SlbApi, service: &Service) -> (String, String, String) {
    let service_port = &service.spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
    let port = u16::try_from(service_port.port).unwrap();
    let node_port = u16::try_from(service_port.node_port.unwrap()).unwrap();
    let uid = service.metadata.uid.as_deref().unwrap();
    let ccm_name = slb_operator::controller::service::ccm_load_balancer_name(uid);
    let created = slb
        .create_load_balancer(&CreateLoadBalancerRequest {
            load_balancer_name: Some(ccm_name.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = created.load_balancer_id.clone();
    slb.add_tags(&AddTagsRequest {
        load_balancer_id: id.clone(),
        tags: vec![
            Tag::new("kubernetes.do.not.delete", &ccm_name),
            Tag::new("ack.aliyun.com", "c0ffee"),
        ],
    })
    .await
    .unwrap();
    let name = service.metadata.name.as_deref().unwrap();
    let namespace = service.metadata.namespace.as_deref().unwrap();
    let group = slb
        .create_vserver_group(&CreateVServerGroupRequest {
            load_balancer_id: id.clone(),
            v_server_group_name: format!("k8s/{node_port}/{name}/{namespace}/c0ffee"),
            backend_servers: Vec::new(),
        })
        .await
        .unwrap()
        .v_server_group_id;
    slb.create_load_balancer_tcp_listener(&CreateLoadBalancerTCPListenerRequest {
        load_balancer_id: id.clone(),
        listener_port: port,
        backend_server_port: node_port,
        bandwidth: -1,
        server_groups: ServerGroupIds {
            v_server_group_id: Some(group.clone()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    (id, created.address, group)
}

#[tokio::test]
async fn a_service_takes_over_the_ccms_load_balancer_only_when_it_opts_in() {
    let scene = start("op-svc-ccm").await;
    let (client, ns, slb) = (&scene.client, scene.ns(), scene.slb());
    create_deployment(client, ns, 1).await;

    // Two Services the CCM served (no operator runs yet): each has its load balancer, and the
    // address in its status.
    let spec = json!({
        "type": "LoadBalancer",
        "selector": {"app": "web"},
        "ports": [{"port": 80, "targetPort": 8080}]
    });
    let services: Api<Service> = scene.api();
    let mut seeded = BTreeMap::new();
    for name in ["moving", "staying"] {
        let service = create_service(client, ns, name, json!({}), spec.clone()).await;
        let (id, address, group) = seed_ccm_load_balancer(slb, &service).await;
        services
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"loadBalancer": {"ingress": [{"ip": address}]}}})),
            )
            .await
            .unwrap();
        seeded.insert(name, (id, address, group));
    }
    // "moving" opts in; "staying" names the CCM's load balancer by ID without opting in.
    let opt_in = json!({MIGRATE_FROM_CCM_ANNOTATION: "true"});
    patch_annotations(&services, "moving", opt_in).await;
    let (staying_id, _, _) = &seeded["staying"];
    let by_id = json!({format!("{PREFIX}id"): staying_id});
    patch_annotations(&services, "staying", by_id).await;
    let staying_tags = load_balancer_tags(slb, staying_id).await;
    // The CCM's Services are class-less. Even where the admin has this operator serve class-less
    // Services too, only the one that opts in is taken over. The admin lets the operator delete
    // what it took over, as the CCM would have.
    scene
        .run_operator(|config| {
            config.manage_services_without_class = true;
            config.allow_deleting_adopted = true;
        })
        .await;

    // The opted-in Service keeps its load balancer and address; the CCM's listener is replaced by
    // the Service's own (on its own VServer group) and the tags are ours.
    let (moving_id, moving_address, ccm_group) = &seeded["moving"];
    assert_eq!(&instance_id(&scene, "moving").await, moving_id);
    let instances: Api<SlbInstance> = scene.api();
    let instance_uid = instances.get("moving").await.unwrap().metadata.uid.unwrap();
    eventually(
        "the load balancer tagged as ours, the CCM's tags gone",
        TIMEOUT,
        || async {
            // The address stays in the Service's status all along.
            let service = services.get("moving").await.unwrap();
            assert_eq!(ingress_ip(&service).as_ref(), Some(moving_address));
            let tags = load_balancer_tags(slb, moving_id).await;
            let ours = tags.get("slb.operator.dev/owner-uid") == Some(&instance_uid)
                && tags.get("slb.operator.dev/cluster-id").map(String::as_str)
                    == Some("test-cluster");
            let ccm_left = tags.contains_key("kubernetes.do.not.delete")
                || tags.contains_key("ack.aliyun.com");
            (ours && !ccm_left).then_some(())
        },
    )
    .await;
    let listeners_api: Api<SlbListener> = scene.api();
    wait_ready_condition(&listeners_api, "moving-80", TIMEOUT, |c| c.status == "True").await;
    let our_group = eventually("the listener on port 80 taken over", TIMEOUT, || async {
        let group = tcp_listener(slb, moving_id, 80).await?.v_server_group_id?;
        (&group != ccm_group).then_some(group)
    })
    .await;
    assert!(our_group.starts_with("rsp-"), "{our_group}");
    let lb = attribute(slb, moving_id).await;
    assert_eq!(
        listeners(&lb),
        BTreeMap::from([(80, ListenerProtocol::Tcp)])
    );
    assert_eq!(&lb.address, moving_address);
    let service = services.get("moving").await.unwrap();
    assert_eq!(ingress_ip(&service).as_ref(), Some(moving_address));

    // Without the opt-in, the CCM's load balancer is not the operator's: nothing is changed.
    wait_not_ready(&instances, "staying", "NotOwned", TIMEOUT).await;
    let instance = instances.get("staying").await.unwrap();
    assert_eq!(instance.spec.take_over_from_ccm, None);
    assert_eq!(load_balancer_tags(slb, staying_id).await, staying_tags);
    let groups = vserver_group_ids(slb, staying_id).await;
    let (_, _, staying_group) = &seeded["staying"];
    assert_eq!(
        &groups,
        std::slice::from_ref(staying_group),
        "only the CCM's group"
    );
    assert_eq!(
        listeners(&attribute(slb, staying_id).await),
        BTreeMap::from([(80, ListenerProtocol::Tcp)])
    );

    // The migrated Service now owns its load balancer: deleting it deletes the load balancer, as
    // the CCM would have (with --allow-deleting-adopted; without it, it stays: operator_adoption).
    delete_service(client, ns, "moving", TIMEOUT).await;
    assert!(!load_balancer_ids(slb).await.contains(moving_id));
    // The other goes and leaves the CCM's load balancer as it was.
    delete_service(client, ns, "staying", TIMEOUT).await;
    assert_eq!(load_balancer_tags(slb, staying_id).await, staying_tags);

    scene.end().await;
}

/// The way back of docs/migrating-from-ccm.md: `preserve-lb-on-delete`, then the opt-in removed. The
/// operator lets the class-less Service go and leaves the load balancer, its address and its
/// listener in place for the CCM.
#[tokio::test]
async fn a_migrated_service_goes_back_leaving_its_load_balancer_in_place() {
    let scene = start("op-svc-back").await;
    let (client, ns, slb) = (&scene.client, scene.ns(), scene.slb());
    create_deployment(client, ns, 1).await;
    let spec = json!({
        "type": "LoadBalancer",
        "selector": {"app": "web"},
        "ports": [{"port": 80, "targetPort": 8080}]
    });
    let service = create_service(client, ns, "web", json!({}), spec).await;
    let (id, address, _) = seed_ccm_load_balancer(slb, &service).await;
    let services: Api<Service> = scene.api();
    patch_annotations(
        &services,
        "web",
        json!({MIGRATE_FROM_CCM_ANNOTATION: "true"}),
    )
    .await;
    // As the operator runs by default: class-less Services only when they opt in.
    scene.run_operator(|_| {}).await;
    let instances: Api<SlbInstance> = scene.api();
    let listeners_api: Api<SlbListener> = scene.api();
    wait_ready(&instances, "web", TIMEOUT).await;
    wait_ready(&listeners_api, "web-80", TIMEOUT).await;
    let taken_over = tcp_listener(slb, &id, 80).await.unwrap().v_server_group_id;

    // Step 1: keep the load balancer when the operator lets go of it.
    let preserve = json!({format!("{PREFIX}preserve-lb-on-delete"): "true"});
    patch_annotations(&services, "web", preserve).await;
    eventually("the instance to be orphaned on delete", TIMEOUT, || async {
        let policy = instances.get("web").await.ok()?.spec.deletion_policy?;
        (policy == DeletionPolicy::Orphan).then_some(())
    })
    .await;
    // Step 2: the opt-in goes, and with it the operator's hold on the Service.
    patch_annotations(&services, "web", json!({MIGRATE_FROM_CCM_ANNOTATION: null})).await;
    gone(&instances, "web", TIMEOUT).await;
    gone(&listeners_api, "web-80", TIMEOUT).await;
    eventually("the Service to be released", TIMEOUT, || async {
        let service = services.get("web").await.ok()?;
        service
            .metadata
            .finalizers
            .unwrap_or_default()
            .is_empty()
            .then_some(())
    })
    .await;

    // Everything the Service used in SLB is where it was, for the CCM to take back.
    let lb = attribute(slb, &id).await;
    assert_eq!(lb.address, address);
    assert_eq!(
        listeners(&lb),
        BTreeMap::from([(80, ListenerProtocol::Tcp)])
    );
    let listener = tcp_listener(slb, &id, 80).await.unwrap();
    assert_eq!(listener.v_server_group_id, taken_over);
    assert!(
        vserver_group_ids(slb, &id)
            .await
            .contains(taken_over.as_ref().unwrap())
    );
    scene.assert_events(&["Orphaned"]).await;

    delete_service(client, ns, "web", TIMEOUT).await;
    scene.end().await;
}

/// Plays the part of the kubelet that kwok's pod stage leaves out: a pod is Ready only when its
/// containers are and every readiness gate's condition is True (kwok sets Ready once, at start).
fn kubelet_readiness(client: Client, namespace: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let pods: Api<Pod> = Api::namespaced(client, &namespace);
        loop {
            for pod in pods.list(&ListParams::default()).await.unwrap() {
                let Some(conditions) = pod.status.as_ref().and_then(|s| s.conditions.as_ref())
                else {
                    continue;
                };
                let is_true = |kind: &str| {
                    conditions
                        .iter()
                        .any(|c| c.type_ == kind && c.status == "True")
                };
                let gates = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.readiness_gates.clone())
                    .unwrap_or_default();
                let ready =
                    is_true("ContainersReady") && gates.iter().all(|g| is_true(&g.condition_type));
                if pod.metadata.deletion_timestamp.is_some() || is_true("Ready") == ready {
                    continue;
                }
                let status = if ready { "True" } else { "False" };
                let patch =
                    json!({"status": {"conditions": [{"type": "Ready", "status": status}]}});
                let _ = pods
                    .patch_status(
                        &pod.name_any(),
                        &PatchParams::default(),
                        &Patch::Strategic(patch),
                    )
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

fn health_overrides(load_balancer_id: &str, status: &str) -> Vec<HealthOverride> {
    ecs_inventory()
        .into_iter()
        .map(|server_id| HealthOverride {
            load_balancer_id: load_balancer_id.to_owned(),
            server_id,
            port: None,
            listener_port: None,
            status: status.to_owned(),
        })
        .collect()
}

/// The gate's condition on each pod of the Deployment `gated`: (status, message).
async fn gates(client: &Client, namespace: &str, gate: &str) -> Vec<(String, String)> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    pods.list(&ListParams::default().labels("app=gated"))
        .await
        .unwrap()
        .into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter_map(|pod| {
            let conditions = pod.status?.conditions?;
            let c = conditions.into_iter().find(|c| c.type_ == gate)?;
            Some((c.status, c.message.unwrap_or_default()))
        })
        .collect()
}

#[tokio::test]
async fn a_readiness_gate_holds_a_rollout_until_slb_reports_the_backends_normal() {
    rollout_waits_for_slb("Cluster").await;
}

/// Under Local, only nodes with ready endpoints are backends: a pod waiting for its gate must count
/// as one, or its gate could never open.
#[tokio::test]
async fn under_local_traffic_policy_pods_waiting_for_the_gate_stay_backends_so_it_can_open() {
    rollout_waits_for_slb("Local").await;
}

async fn rollout_waits_for_slb(traffic_policy: &str) {
    let scene = start(&format!("op-svc-gate-{}", traffic_policy.to_lowercase())).await;
    scene.run_operator(|_| {}).await;
    let (client, ns) = (&scene.client, scene.ns());
    let kubelet = kubelet_readiness(client.clone(), ns.to_owned());
    let gate = gate_condition_type("gated");
    create_service(
        client,
        ns,
        "gated",
        json!({}),
        json!({
            "type": "LoadBalancer",
            "loadBalancerClass": "slb.operator.dev/slb",
            "externalTrafficPolicy": traffic_policy,
            "selector": {"app": "gated"},
            "ports": [{"port": 80, "targetPort": 8080}]
        }),
    )
    .await;
    let deployments: Api<Deployment> = scene.api();
    create_object(
        &deployments,
        json!({
                "metadata": {"name": "gated"},
                "spec": {
                    "replicas": 2,
                    // A pod counts as available only after 5 s Ready: kwok makes it Ready (and its
                    // gate True) at once, before the operator has looked at SLB.
                    "minReadySeconds": 5,
                    "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                    "selector": {"matchLabels": {"app": "gated"}},
                    "template": {
                        "metadata": {"labels": {"app": "gated"}},
                        "spec": {
                            "readinessGates": [{"conditionType": gate}],
                            "containers": [{"name": "web", "image": "example.invalid/web:1"}]
                        }
                    }
                }
        }),
    )
    .await;
    let lb = instance_id(&scene, "gated").await;
    eventually("both pods' gates True on a normal SLB", TIMEOUT, || async {
        let gates = gates(client, ns, &gate).await;
        (gates.len() == 2
            && gates
                .iter()
                .all(|(s, m)| s == "True" && m.contains("normal")))
        .then_some(())
    })
    .await;
    let rolled_out = || async {
        let deployment = deployments.get("gated").await.ok()?;
        let status = deployment.status?;
        let done = deployment.metadata.generation == status.observed_generation
            && status.updated_replicas == Some(2)
            && status.available_replicas == Some(2)
            && status.replicas == Some(2);
        done.then_some(())
    };
    eventually("the first rollout to finish", TIMEOUT, rolled_out).await;

    // SLB finds the backends abnormal; a rollout starts: its new pod stays not Ready, so the old
    // pods stay.
    scene
        .emulator
        .set_health_overrides(health_overrides(&lb, "abnormal"));
    eventually(
        "the gates False while SLB reports abnormal",
        TIMEOUT,
        || async {
            let gates = gates(client, ns, &gate).await;
            gates
                .iter()
                .all(|(s, m)| s == "False" && m.contains("abnormal"))
                .then_some(())
        },
    )
    .await;
    deployments
        .patch(
            "gated",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"template": {"metadata": {"annotations": {"rollout": "2"}}}}}),
            ),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let status = deployments.get("gated").await.unwrap().status.unwrap();
    assert_eq!(status.updated_replicas, Some(1), "{status:?}");
    assert_eq!(status.replicas, Some(3), "the old pods stay: {status:?}");
    assert_eq!(status.available_replicas.unwrap_or(0), 0, "{status:?}");

    // SLB reports them normal again: the gates turn True and the rollout finishes.
    scene
        .emulator
        .set_health_overrides(health_overrides(&lb, "normal"));
    eventually(
        "the rollout to finish once SLB reports normal",
        Duration::from_secs(90),
        rolled_out,
    )
    .await;
    let gates = gates(client, ns, &gate).await;
    assert!(gates.iter().all(|(s, _)| s == "True"), "{gates:?}");

    kubelet.abort();
    delete_service(client, ns, "gated", TIMEOUT).await;
    scene.end().await;
}
