//! SlbListener against the local control plane and an in-process slb-emulator: HTTP, TCP, UDP and
//! HTTPS listeners created, updated (each class of field), moved to another port and deleted; an
//! instance that appears after its listener; a certificate Secret rotated, and one whose key does
//! not match refused; drift restored; and no writes in the steady state.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use operator_support::*;
use serde_json::json;
use slb_api::certificate::parse_certificate;
use slb_api::{
    AccessControlStatus, DeleteLoadBalancerListenerRequest, DescribeCACertificatesRequest,
    DescribeListenerAccessControlAttributeRequest, DescribeListenerAccessControlAttributeResponse,
    HealthCheckTiming, HttpHealthCheck, HttpListenerSettings, ListenerStatus, OnOff, Scheduler,
    SetLoadBalancerHTTPListenerAttributeRequest, SlbApi, StickySession, StickySessionType,
    UploadServerCertificateRequest,
};
use slb_emulator::{Config as EmulatorConfig, Emulator, Faults, TransitionDelays};
use slb_operator::controller::listener::{CERTIFICATE_NAME_PREFIX, certificate_name};
use slb_operator::crd::{CertificateKind, SlbInstance, SlbListener, SlbVServerGroup};

const TIMEOUT: Duration = Duration::from_secs(40);

fn listener(name: &str, spec: serde_json::Value) -> SlbListener {
    let mut spec = spec;
    spec["instanceRef"] = json!({"name": "web"});
    object("SlbListener", name, spec)
}

/// Creates the listener `name` of the instance `web`.
async fn create_listener(
    api: &Api<SlbListener>,
    name: &str,
    spec: serde_json::Value,
) -> SlbListener {
    api.create(&PostParams::default(), &listener(name, spec))
        .await
        .unwrap()
}

/// Creates the SlbInstance `web` and returns its load balancer ID once it is Ready.
async fn web_instance(scene: &Scene) -> String {
    ready_instance(&scene.client, scene.ns(), "web", json!({}), TIMEOUT).await
}

/// Waits until the listener is Ready for its current generation.
async fn ready(api: &Api<SlbListener>, name: &str) -> SlbListener {
    wait_ready(api, name, TIMEOUT).await
}

/// Deletes the SlbInstance `name` and waits until it is gone.
async fn delete_instance(scene: &Scene, name: &str) {
    delete_and_wait(&scene.api::<SlbInstance>(), name, TIMEOUT).await;
}

/// The ports the load balancer has listeners on.
async fn listener_ports(slb: &dyn SlbApi, lb: &str) -> Vec<u16> {
    let mut ports = attribute(slb, lb).await.listener_ports;
    ports.sort_unstable();
    ports
}

/// SLB's white list of the listener on port 80.
async fn access_control(
    slb: &dyn SlbApi,
    lb: &str,
) -> Option<DescribeListenerAccessControlAttributeResponse> {
    slb.describe_listener_access_control_attribute(&DescribeListenerAccessControlAttributeRequest {
        load_balancer_id: lb.to_owned(),
        listener_port: 80,
    })
    .await
    .ok()
}

#[tokio::test]
async fn http_tcp_and_udp_listeners_are_created_updated_moved_and_deleted() {
    let scene = Scene::start("op-listener").await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    let api: Api<SlbListener> = scene.api();

    let specs = [
        (
            "http",
            json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 8080}),
        ),
        (
            "tcp",
            json!({"listenerPort": 443, "protocol": "TCP", "backendServerPort": 8443}),
        ),
        (
            "udp",
            json!({"listenerPort": 53, "protocol": "UDP", "backendServerPort": 5353}),
        ),
    ];
    for (name, spec) in specs {
        create_listener(&api, name, spec).await;
    }
    for name in ["http", "tcp", "udp"] {
        let status = ready(&api, name).await.status.unwrap();
        assert_eq!(status.load_balancer_id.as_deref(), Some(lb.as_str()));
        assert_eq!(status.listener_state.as_deref(), Some("running"));
        assert!(
            status
                .conditions
                .iter()
                .any(|c| c.type_ == "Synced" && c.status == "True"),
            "{status:?}"
        );
    }
    assert_eq!(listener_ports(slb, &lb).await, [53, 80, 443]);
    let created = http_listener(slb, &lb, 80).await.unwrap();
    assert_eq!(created.status, Some(ListenerStatus::Running));
    assert_eq!(created.backend_server_port, Some(8080));
    assert_eq!(created.health.health_check, Some(OnOff::On));
    assert_eq!(
        tcp_listener(slb, &lb, 443).await.unwrap().status,
        Some(ListenerStatus::Running)
    );
    assert_eq!(
        udp_listener(slb, &lb, 53).await.unwrap().status,
        Some(ListenerStatus::Running)
    );

    // Scheduler, sticky sessions, health check and whitelist of the HTTP listener.
    patch_spec(
        &api,
        "http",
        json!({
            "scheduler": "wlc",
            "stickySession": {"type": "insert", "cookieTimeout": 600},
            "healthCheck": {"uri": "/healthz", "healthyThreshold": 5, "intervalSeconds": 4},
            "accessControl": {"enabled": true, "sourceItems": ["10.0.0.0/8", "192.168.1.10"]},
        }),
    )
    .await;
    ready(&api, "http").await;
    let updated = http_listener(slb, &lb, 80).await.unwrap();
    assert_eq!(updated.scheduler, Some(Scheduler::WeightedLeastConnections));
    assert_eq!(updated.sticky_session, Some(OnOff::On));
    assert_eq!(updated.sticky_session_type, Some(StickySessionType::Insert));
    assert_eq!(updated.cookie_timeout, Some(600));
    assert_eq!(updated.health.health_check_uri.as_deref(), Some("/healthz"));
    assert_eq!(updated.health.healthy_threshold, Some(5));
    assert_eq!(updated.health.health_check_interval, Some(4));
    let access = access_control(slb, &lb).await.unwrap();
    assert_eq!(
        access.access_control_status,
        Some(AccessControlStatus::OpenWhiteList)
    );
    assert_eq!(access.source_items, ["10.0.0.0/8", "192.168.1.10"]);

    // One whitelist item replaced: only the difference is sent.
    let before = scene.emulator.calls().len();
    patch_spec(
        &api,
        "http",
        json!({"accessControl": {"enabled": true, "sourceItems": ["10.0.0.0/8", "172.16.0.0/12"]}}),
    )
    .await;
    eventually("the whitelist to change", TIMEOUT, || async {
        let access = access_control(slb, &lb).await?;
        (access.source_items == ["10.0.0.0/8", "172.16.0.0/12"]).then_some(())
    })
    .await;
    ready(&api, "http").await;
    let writes: Vec<String> = scene.emulator.calls()[before..]
        .iter()
        .filter(|call| call.write)
        .map(|call| call.action.clone())
        .collect();
    assert_eq!(
        writes,
        ["AddListenerWhiteListItem", "RemoveListenerWhiteListItem"],
        "only the whitelist difference is written"
    );

    // Persistence of the TCP listener; started=false stops the UDP listener.
    patch_spec(&api, "tcp", json!({"persistenceTimeout": 120})).await;
    patch_spec(&api, "udp", json!({"started": false})).await;
    ready(&api, "tcp").await;
    let stopped = ready(&api, "udp").await;
    assert_eq!(
        tcp_listener(slb, &lb, 443)
            .await
            .unwrap()
            .persistence_timeout,
        Some(120)
    );
    assert_eq!(
        udp_listener(slb, &lb, 53).await.unwrap().status,
        Some(ListenerStatus::Stopped)
    );
    assert_eq!(
        stopped.status.unwrap().listener_state.as_deref(),
        Some("stopped")
    );

    // A port change: the old listener is deleted, a new one created, with an Event.
    patch_spec(&api, "tcp", json!({"listenerPort": 8443})).await;
    let moved = ready(&api, "tcp").await.status.unwrap();
    assert_eq!(moved.listener_port, Some(8443));
    assert_eq!(listener_ports(slb, &lb).await, [53, 80, 8443]);
    assert_eq!(
        tcp_listener(slb, &lb, 8443)
            .await
            .unwrap()
            .persistence_timeout,
        Some(120),
        "the new listener has the whole spec"
    );
    scene.wait_for_event("Recreating", TIMEOUT).await;

    for name in ["http", "tcp", "udp"] {
        delete_and_wait(&api, name, TIMEOUT).await;
    }
    assert!(listener_ports(slb, &lb).await.is_empty());
    scene
        .assert_events(&["Created", "Updated", "Deleted"])
        .await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn a_listener_waits_for_its_instance_and_follows_when_it_appears() {
    let scene = Scene::start("op-listener-ref").await;
    let api: Api<SlbListener> = scene.api();

    create_listener(
        &api,
        "http",
        json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80}),
    )
    .await;
    wait_not_ready(&api, "http", "ReferenceNotFound", TIMEOUT).await;

    // The instance's watch, not a timer (the resync is 10 minutes), brings the listener up.
    let lb = web_instance(&scene).await;
    let status = ready(&api, "http").await.status.unwrap();
    assert_eq!(status.load_balancer_id.as_deref(), Some(lb.as_str()));
    assert!(http_listener(scene.slb(), &lb, 80).await.is_some());

    delete_and_wait(&api, "http", TIMEOUT).await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

/// The IDs of the CA certificates in the emulator.
async fn ca_certificates(slb: &dyn SlbApi) -> Vec<String> {
    slb.describe_ca_certificates(&DescribeCACertificatesRequest::default())
        .await
        .unwrap()
        .ca_certificates
        .into_iter()
        .map(|c| c.ca_certificate_id)
        .collect()
}

#[tokio::test]
async fn an_https_certificate_from_a_secret_is_uploaded_rotated_and_deleted() {
    let scene = Scene::without_operator("op-listener-tls", start_emulator().await).await;
    // The test certificates are valid for a day: within a two-day window they are expiring.
    scene
        .run_operator(|config| config.certificate_expiry_warning = Duration::from_secs(2 * 86_400))
        .await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    let api: Api<SlbListener> = scene.api();
    create_listener(
        &api,
        "https",
        json!({"listenerPort": 443, "protocol": "HTTPS", "backendServerPort": 8080,
                   "serverCertificate": {"secretRef": {"name": "web-tls"}},
                   "caCertificate": {"secretRef": {"name": "client-ca"}}}),
    )
    .await;
    wait_ready_condition(&api, "https", TIMEOUT, |c| {
        c.reason == "ReferenceNotFound" && c.message.contains("Secret")
    })
    .await;

    // The Secrets' watch brings the listener up.
    let dir = tempfile::tempdir().unwrap();
    let secrets: Api<Secret> = scene.api();
    let client_ca = self_signed(dir.path(), "client-ca");
    let ca_secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "client-ca"},
        "stringData": {"ca.crt": client_ca.0},
    }))
    .unwrap();
    secrets
        .create(&PostParams::default(), &ca_secret)
        .await
        .unwrap();
    let pair = self_signed(dir.path(), "first");
    apply_tls_secret(&scene.client, scene.ns(), "web-tls", &pair).await;
    let created = ready(&api, "https").await;
    let status = created.status.clone().unwrap();
    let first = status
        .server_certificate_id
        .clone()
        .expect("a certificate ID");
    let ca = status
        .ca_certificate_id
        .clone()
        .expect("a CA certificate ID");
    assert_eq!(status.uploaded_certificates.len(), 2, "{status:?}");
    // Each upload shows when its certificate expires, and a Warning tells it is near.
    for (kind, pem) in [
        (CertificateKind::Server, &pair.0),
        (CertificateKind::Ca, &client_ca.0),
    ] {
        let uploaded = status.uploaded_certificates.iter().find(|u| u.kind == kind);
        let not_after = uploaded.and_then(|u| u.not_after.as_deref()?.parse::<Timestamp>().ok());
        let expiry = parse_certificate(pem).unwrap().not_after;
        assert_eq!(not_after, Timestamp::from_second(expiry).ok(), "{status:?}");
    }
    eventually("a CertificateExpiring Warning", TIMEOUT, || async {
        let events = events_about(&scene.client, scene.ns(), "CertificateExpiring", "https").await;
        events
            .iter()
            .any(|e| e.type_.as_deref() == Some("Warning"))
            .then_some(())
    })
    .await;
    assert_eq!(ca_certificates(slb).await, std::slice::from_ref(&ca));
    assert_eq!(
        https_listener(slb, &lb, 443)
            .await
            .unwrap()
            .ca_certificate_id,
        Some(ca.clone())
    );
    let uid = created.metadata.uid.clone().unwrap();
    let uploaded = server_certificates(slb).await;
    assert_eq!(uploaded.len(), 1, "{uploaded:?}");
    assert_eq!(uploaded[0].0, first);
    assert!(
        uploaded[0]
            .1
            .starts_with(&format!("{CERTIFICATE_NAME_PREFIX}-{uid}-")),
        "{uploaded:?}"
    );
    assert_eq!(
        https_listener(slb, &lb, 443)
            .await
            .unwrap()
            .server_certificate_id,
        Some(first.clone())
    );

    // A renewal (as cert-manager does it): the new certificate is uploaded and swapped in, and the
    // old one deleted once the listener no longer uses it.
    let pair = self_signed(dir.path(), "second");
    apply_tls_secret(&scene.client, scene.ns(), "web-tls", &pair).await;
    let second = eventually("the renewed certificate in use", TIMEOUT, || async {
        let remote = https_listener(slb, &lb, 443).await?.server_certificate_id?;
        (remote != first).then_some(remote)
    })
    .await;
    eventually("the old certificate to be deleted", TIMEOUT, || async {
        let ids = server_certificate_ids(slb).await;
        (ids == [second.clone()]).then_some(())
    })
    .await;
    // The status is written after the calls, so it may lag behind SLB for a moment.
    let status = eventually(
        "the status to name the renewed certificate",
        TIMEOUT,
        || async {
            let status = ready(&api, "https").await.status?;
            (status.server_certificate_id.as_deref() == Some(second.as_str())).then_some(status)
        },
    )
    .await;
    assert_eq!(status.ca_certificate_id.as_deref(), Some(ca.as_str()));
    assert_eq!(status.uploaded_certificates.len(), 2, "{status:?}");
    scene.wait_for_event("CertificateDeleted", TIMEOUT).await;

    delete_and_wait(&api, "https", TIMEOUT).await;
    assert!(listener_ports(slb, &lb).await.is_empty());
    assert!(
        server_certificates(slb).await.is_empty(),
        "the uploaded certificate is deleted after the listener"
    );
    assert!(ca_certificates(slb).await.is_empty());
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn drift_is_restored_and_the_steady_state_writes_nothing() {
    // A long resync first: once Ready, nothing at all may be called while idle.
    let scene = Scene::start("op-listener-drift").await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    let api: Api<SlbListener> = scene.api();
    create_listener(
        &api,
        "http",
        json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 8080,
                   "accessControl": {"enabled": true, "sourceItems": ["10.0.0.0/8"]}}),
    )
    .await;
    ready(&api, "http").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = scene.emulator.calls().len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = &scene.emulator.calls()[before..];
    assert!(idle.is_empty(), "calls while idle: {idle:?}");

    // A short resync: a change made outside is noticed and undone, with an Event.
    scene.run_operator_resyncing(Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    slb.set_load_balancer_http_listener_attribute(&SetLoadBalancerHTTPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
        settings: HttpListenerSettings {
            bandwidth: -1,
            scheduler: Some(Scheduler::WeightedLeastConnections),
            sticky_session: StickySession {
                enabled: OnOff::Off,
                ..Default::default()
            },
            health_check: OnOff::On,
            http_health_check: HttpHealthCheck {
                uri: Some("/".into()),
                ..Default::default()
            },
            health_check_timing: HealthCheckTiming {
                healthy_threshold: Some(3),
                unhealthy_threshold: Some(3),
                timeout: Some(5),
                interval: Some(2),
            },
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    eventually("the scheduler to be restored", TIMEOUT, || async {
        let remote = http_listener(slb, &lb, 80).await?;
        (remote.scheduler == Some(Scheduler::WeightedRoundRobin)).then_some(())
    })
    .await;
    scene.wait_for_event("DriftRestored", TIMEOUT).await;

    // A listener deleted outside is created again, whitelist included.
    slb.delete_load_balancer_listener(&DeleteLoadBalancerListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
    })
    .await
    .unwrap();
    eventually("the listener to be back and running", TIMEOUT, || async {
        let remote = http_listener(slb, &lb, 80).await?;
        (remote.status == Some(ListenerStatus::Running)).then_some(())
    })
    .await;
    ready(&api, "http").await;
    let access = access_control(slb, &lb).await.unwrap();
    assert_eq!(access.source_items, ["10.0.0.0/8"]);

    // Idle again: resyncs describe (the listener and its whitelist), but never write.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = scene.emulator.calls().len();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let idle = &scene.emulator.calls()[before..];
    let writes: Vec<&str> = idle
        .iter()
        .filter(|call| call.write)
        .map(|call| call.action.as_str())
        .collect();
    assert!(writes.is_empty(), "writes in the steady state: {writes:?}");
    let listener_describes = idle
        .iter()
        .filter(|call| call.action == "DescribeLoadBalancerHTTPListenerAttribute")
        .count();
    assert!(
        (1..=4).contains(&listener_describes),
        "one describe per resync period of 2 s over 6 s, got {listener_describes}"
    );

    delete_and_wait(&api, "http", TIMEOUT).await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn only_declared_listeners_are_touched_and_an_adopted_instance_keeps_them() {
    let scene = Scene::without_operator("op-listener-own", start_emulator().await).await;
    let slb = scene.slb();
    // A load balancer made by hand, with two listeners; only port 80 will be declared.
    let legacy = made_by_hand(slb, "made-by-hand").await.load_balancer_id;
    slb.create_load_balancer_http_listener(&hand_made_http(&legacy, 80))
        .await
        .unwrap();
    slb.create_load_balancer_http_listener(&hand_made_http(&legacy, 81))
        .await
        .unwrap();
    scene.run_operator(|_| {}).await;
    let adopted = ready_instance(
        &scene.client,
        scene.ns(),
        "legacy",
        json!({"loadBalancerId": legacy}),
        TIMEOUT,
    )
    .await;
    assert_eq!(adopted, legacy);
    let api: Api<SlbListener> = scene.api();
    let mut declared = listener(
        "http",
        json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80, "scheduler": "wlc"}),
    );
    declared.spec.instance_ref.name = "legacy".into();
    api.create(&PostParams::default(), &declared).await.unwrap();
    ready(&api, "http").await;
    let taken_over = http_listener(slb, &legacy, 80).await.unwrap();
    assert_eq!(
        taken_over.scheduler,
        Some(Scheduler::WeightedLeastConnections)
    );
    assert_eq!(taken_over.status, Some(ListenerStatus::Running));
    scene.wait_for_event("Adopted", TIMEOUT).await;
    let undeclared = http_listener(slb, &legacy, 81).await.unwrap();
    assert_eq!(undeclared.status, Some(ListenerStatus::Stopped));
    assert_eq!(undeclared.scheduler, Some(Scheduler::WeightedRoundRobin));

    // The adopted instance is Orphan: deleting the object leaves the listener in place.
    delete_and_wait(&api, "http", TIMEOUT).await;
    assert!(
        http_listener(slb, &legacy, 80).await.is_some(),
        "the listener stays"
    );
    scene.wait_for_event("Orphaned", TIMEOUT).await;

    // On a load balancer the operator created, a listener made by hand at the declared port is
    // never changed or deleted.
    let made = ready_instance(&scene.client, scene.ns(), "web", json!({}), TIMEOUT).await;
    slb.create_load_balancer_http_listener(&hand_made_http(&made, 8080))
        .await
        .unwrap();
    let writes_before = scene.emulator.counters().writes;
    create_listener(
        &api,
        "clash",
        json!({"listenerPort": 8080, "protocol": "TCP", "backendServerPort": 8080}),
    )
    .await;
    let message = wait_not_ready(&api, "clash", "NotOwned", TIMEOUT).await;
    assert!(message.contains("8080"), "{message}");
    delete_and_wait(&api, "clash", TIMEOUT).await;
    assert!(
        http_listener(slb, &made, 8080).await.is_some(),
        "the hand-made listener stays"
    );
    assert_eq!(
        scene.emulator.counters().writes,
        writes_before,
        "nothing was written for the clashing listener"
    );

    delete_instance(&scene, "legacy").await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn a_listener_follows_its_vserver_group_reference() {
    let scene = Scene::start("op-listener-group").await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    // A certificate uploaded by hand, which the HTTPS listener names by ID.
    let dir = tempfile::tempdir().unwrap();
    let (certificate, private_key) = self_signed(dir.path(), "by-hand");
    let by_hand = slb
        .upload_server_certificate(&UploadServerCertificateRequest {
            server_certificate: certificate,
            private_key,
            server_certificate_name: Some("by-hand".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .server_certificate_id;
    let api: Api<SlbListener> = scene.api();
    let specs = [
        (
            "tcp",
            json!({"listenerPort": 443, "protocol": "TCP", "backendServerPort": 443,
                   "vServerGroupRef": {"name": "pool"}}),
        ),
        (
            "https",
            json!({"listenerPort": 8443, "protocol": "HTTPS", "backendServerPort": 443,
                   "serverCertificate": {"certificateId": by_hand},
                   "vServerGroupRef": {"name": "pool"}}),
        ),
    ];
    for (name, spec) in specs {
        create_listener(&api, name, spec).await;
        wait_not_ready(&api, name, "ReferenceNotFound", TIMEOUT).await;
    }

    let groups: Api<SlbVServerGroup> = scene.api();
    create(
        &groups,
        "pool",
        json!({"instanceRef": {"name": "web"}, "backends": [{"serverId": "i-pool-1", "port": 443}]}),
    )
    .await;
    let group_id = eventually("the group to have an ID", TIMEOUT, || async {
        groups.get("pool").await.ok()?.status?.v_server_group_id
    })
    .await;
    ready(&api, "tcp").await;
    ready(&api, "https").await;
    assert_eq!(
        tcp_listener(slb, &lb, 443).await.unwrap().v_server_group_id,
        Some(group_id.clone())
    );
    let bound = https_listener(slb, &lb, 8443).await.unwrap();
    assert_eq!(bound.v_server_group_id, Some(group_id));
    assert_eq!(bound.server_certificate_id, Some(by_hand.clone()));

    // Without the reference the listener goes back to the default server group.
    for name in ["tcp", "https"] {
        api.patch(
            name,
            &PatchParams::default(),
            &Patch::Json::<()>(
                serde_json::from_value(json!([
                    {"op": "remove", "path": "/spec/vServerGroupRef"}
                ]))
                .unwrap(),
            ),
        )
        .await
        .unwrap();
        ready(&api, name).await;
    }
    assert_eq!(
        tcp_listener(slb, &lb, 443).await.unwrap().v_server_group_id,
        None
    );
    assert_eq!(
        https_listener(slb, &lb, 8443)
            .await
            .unwrap()
            .v_server_group_id,
        None
    );
    assert_eq!(
        listener_ports(slb, &lb).await,
        [443, 8443],
        "unbound in place, not recreated"
    );
    assert!(
        !event_reasons(&scene.client, scene.ns())
            .await
            .iter()
            .any(|r| r == "Recreating")
    );

    delete_and_wait(&api, "tcp", TIMEOUT).await;
    delete_and_wait(&api, "https", TIMEOUT).await;
    let remaining = server_certificate_ids(slb).await;
    assert_eq!(
        remaining,
        [by_hand],
        "a certificate given by ID is never deleted"
    );
    delete_and_wait(&groups, "pool", TIMEOUT).await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn listener_transitions_are_waited_out_without_errors() {
    // Every start, stop and reconfiguration takes a second, as on the real service.
    let emulator = Emulator::start(EmulatorConfig {
        delays: TransitionDelays::uniform(Duration::from_secs(1)),
        ..EmulatorConfig::for_tests()
    })
    .await
    .unwrap();
    let scene = Scene::with_emulator("op-listener-slow", emulator).await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    let api: Api<SlbListener> = scene.api();
    create_listener(
        &api,
        "http",
        json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80}),
    )
    .await;
    ready(&api, "http").await;
    patch_spec(
        &api,
        "http",
        json!({"scheduler": "wlc", "accessControl": {"enabled": true, "sourceItems": ["10.0.0.0/8"]},
               "started": false}),
    )
    .await;
    let stopped = ready(&api, "http").await.status.unwrap();
    assert_eq!(stopped.listener_state.as_deref(), Some("stopped"));
    let remote = http_listener(slb, &lb, 80).await.unwrap();
    assert_eq!(remote.scheduler, Some(Scheduler::WeightedLeastConnections));
    assert_eq!(remote.status, Some(ListenerStatus::Stopped));
    let refused: Vec<String> = scene
        .emulator
        .calls()
        .iter()
        // The one expected miss is the look at the free port before the create.
        .filter(|call| call.code != "OK" && call.code != "ListenerNotFound")
        .map(|call| format!("{} {}", call.action, call.code))
        .collect();
    assert!(refused.is_empty(), "calls refused: {refused:?}");
    let reasons = event_reasons(&scene.client, scene.ns()).await;
    assert!(
        !reasons.iter().any(|r| r == "DriftRestored"),
        "the later steps of a spec change are not drift: {reasons:?}"
    );

    delete_and_wait(&api, "http", TIMEOUT).await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn a_certificate_uploaded_before_a_crash_is_found_by_its_name_not_uploaded_again() {
    let scene = Scene::start("op-listener-cert").await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    let api: Api<SlbListener> = scene.api();
    let created = create_listener(
        &api,
        "https",
        json!({"listenerPort": 443, "protocol": "HTTPS", "backendServerPort": 8080,
               "serverCertificate": {"secretRef": {"name": "web-tls"}}}),
    )
    .await;
    wait_not_ready(&api, "https", "ReferenceNotFound", TIMEOUT).await;

    // What an operator that crashed after the upload, before the status write, leaves behind.
    let dir = tempfile::tempdir().unwrap();
    let pair = self_signed(dir.path(), "web");
    let uid = created.metadata.uid.clone().unwrap();
    let earlier = slb
        .upload_server_certificate(&UploadServerCertificateRequest {
            server_certificate: pair.0.clone(),
            private_key: pair.1.clone(),
            server_certificate_name: Some(certificate_name(&uid, &pair.0)),
            ..Default::default()
        })
        .await
        .unwrap()
        .server_certificate_id;
    apply_tls_secret(&scene.client, scene.ns(), "web-tls", &pair).await;
    let status = ready(&api, "https").await.status.unwrap();
    assert_eq!(
        status.server_certificate_id.as_deref(),
        Some(earlier.as_str())
    );
    let ids = server_certificate_ids(slb).await;
    assert_eq!(ids, [earlier], "no second upload");

    delete_and_wait(&api, "https", TIMEOUT).await;
    assert!(server_certificates(slb).await.is_empty());
    assert!(listener_ports(slb, &lb).await.is_empty());
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn a_secret_whose_key_does_not_match_its_certificate_is_refused_before_any_upload() {
    let scene = Scene::start("op-listener-badkey").await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    let dir = tempfile::tempdir().unwrap();
    let (certificate, _) = self_signed(dir.path(), "web");
    let (_, other_key) = self_signed(dir.path(), "other");
    apply_tls_secret(
        &scene.client,
        scene.ns(),
        "web-tls",
        &(certificate, other_key),
    )
    .await;
    let api: Api<SlbListener> = scene.api();
    create_listener(
        &api,
        "https",
        json!({"listenerPort": 443, "protocol": "HTTPS", "backendServerPort": 8080,
                   "serverCertificate": {"secretRef": {"name": "web-tls"}}}),
    )
    .await;

    let message = wait_not_ready(&api, "https", "ReconcileError", TIMEOUT).await;
    assert!(message.contains("web-tls"), "{message}");
    assert!(message.contains("does not match"), "{message}");
    let status = api.get("https").await.unwrap().status.unwrap();
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "Synced" && c.status == "False" && c.message.contains("tls.key")),
        "{status:?}"
    );
    scene.wait_for_event("InvalidCertificate", TIMEOUT).await;
    assert!(status.uploaded_certificates.is_empty(), "{status:?}");
    assert!(server_certificates(slb).await.is_empty());
    assert!(listener_ports(slb, &lb).await.is_empty());

    delete_and_wait(&api, "https", TIMEOUT).await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

/// A load balancer billed by bandwidth, and the listener `http` on it that names no bandwidth share,
/// which SLB refuses (unlimited, -1, is not allowed there): the load balancer's ID and the API.
async fn refused_http_listener(scene: &Scene) -> (String, Api<SlbListener>) {
    let lb = ready_instance(
        &scene.client,
        scene.ns(),
        "web",
        json!({"internetChargeType": "paybybandwidth", "bandwidth": 10}),
        TIMEOUT,
    )
    .await;
    let api: Api<SlbListener> = scene.api();
    create_listener(
        &api,
        "http",
        json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80}),
    )
    .await;
    (lb, api)
}

#[tokio::test]
async fn a_spec_slb_rejects_is_reported_in_the_conditions_until_fixed() {
    let scene = Scene::start("op-listener-bad").await;
    let (lb, api) = refused_http_listener(&scene).await;
    let message = wait_not_ready(&api, "http", "ReconcileError", TIMEOUT).await;
    assert!(message.contains("bandwidth"), "{message}");
    let synced = api.get("http").await.unwrap().status.unwrap();
    assert!(
        synced
            .conditions
            .iter()
            .any(|c| c.type_ == "Synced" && c.status == "False" && c.message.contains("bandwidth")),
        "{synced:?}"
    );

    patch_spec(&api, "http", json!({"bandwidth": 5})).await;
    ready(&api, "http").await;
    assert_eq!(
        http_listener(scene.slb(), &lb, 80).await.unwrap().bandwidth,
        Some(5)
    );

    delete_and_wait(&api, "http", TIMEOUT).await;
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn a_refused_create_claims_no_port_and_a_listener_made_there_later_is_left_alone() {
    let scene = Scene::start("op-listener-refused").await;
    let slb = scene.slb();
    let (lb, api) = refused_http_listener(&scene).await;
    wait_not_ready(&api, "http", "ReconcileError", TIMEOUT).await;
    let status = api.get("http").await.unwrap().status.unwrap();
    assert_eq!(status.listener_port, None, "the refused port is released");

    // Someone makes a listener at that port; then the spec is fixed.
    let mut by_hand = hand_made_http(&lb, 80);
    by_hand.settings.bandwidth = 3;
    slb.create_load_balancer_http_listener(&by_hand)
        .await
        .unwrap();
    let writes_before = scene.emulator.counters().writes;
    patch_spec(&api, "http", json!({"bandwidth": 5})).await;
    let message = wait_not_ready(&api, "http", "NotOwned", TIMEOUT).await;
    assert!(message.contains("80"), "{message}");

    delete_and_wait(&api, "http", TIMEOUT).await;
    let left = http_listener(slb, &lb, 80)
        .await
        .expect("the hand-made listener stays");
    assert_eq!(left.bandwidth, Some(3));
    assert_eq!(
        writes_after(&scene.emulator, writes_before),
        Vec::<String>::new(),
        "nothing was written to the hand-made listener"
    );
    delete_instance(&scene, "web").await;
    scene.end().await;
}

#[tokio::test]
async fn listeners_converge_through_injected_faults_without_leaks() {
    let scene = Scene::start("op-listener-faults").await;
    let slb = scene.slb();
    let lb = web_instance(&scene).await;
    scene.emulator.set_faults(Faults {
        error_503_rate: 0.10,
        processing_same_request_rate: 0.05,
        latency_ms: 50,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let pair = self_signed(dir.path(), "web");
    apply_tls_secret(&scene.client, scene.ns(), "web-tls", &pair).await;
    let api: Api<SlbListener> = scene.api();
    let specs = [
        (
            "http",
            json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80,
                   "accessControl": {"enabled": true, "sourceItems": ["10.0.0.0/8"]}}),
        ),
        (
            "https",
            json!({"listenerPort": 443, "protocol": "HTTPS", "backendServerPort": 80,
                   "serverCertificate": {"secretRef": {"name": "web-tls"}}}),
        ),
        (
            "udp",
            json!({"listenerPort": 53, "protocol": "UDP", "backendServerPort": 53}),
        ),
    ];
    for (name, spec) in specs {
        create_listener(&api, name, spec).await;
    }
    for name in ["http", "https", "udp"] {
        ready(&api, name).await;
    }
    patch_spec(
        &api,
        "http",
        json!({"scheduler": "wlc", "listenerPort": 8080}),
    )
    .await;
    let pair = self_signed(dir.path(), "renewed");
    apply_tls_secret(&scene.client, scene.ns(), "web-tls", &pair).await;
    ready(&api, "http").await;
    eventually("one certificate, in use", TIMEOUT, || async {
        let in_use = https_listener(slb, &lb, 443).await?.server_certificate_id?;
        let ids = server_certificate_ids(slb).await;
        (ids == [in_use]).then_some(())
    })
    .await;
    assert_eq!(
        listener_ports(slb, &lb).await,
        [53, 443, 8080],
        "no duplicate"
    );

    for name in ["http", "https", "udp"] {
        delete_and_wait(&api, name, TIMEOUT).await;
    }
    scene.emulator.set_faults(Faults::default());
    assert!(
        listener_ports(slb, &lb).await.is_empty(),
        "no leaked listener"
    );
    assert!(
        server_certificates(slb).await.is_empty(),
        "no leaked certificate"
    );
    delete_instance(&scene, "web").await;
    scene.end().await;
}
