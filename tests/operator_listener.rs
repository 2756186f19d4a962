//! SlbListener against the local control plane and an in-process slb-emulator: HTTP, TCP, UDP and
//! HTTPS listeners created, updated (each class of field), moved to another port and deleted; an
//! instance that appears after its listener; a certificate Secret rotated, and one whose key does
//! not match refused; drift restored; and no writes in the steady state.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod operator_support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use operator_support::*;
use serde_json::json;
use slb_api::{
    AccessControlStatus, CreateLoadBalancerHTTPListenerRequest, CreateLoadBalancerRequest,
    DeleteLoadBalancerListenerRequest, DescribeCACertificatesRequest,
    DescribeListenerAccessControlAttributeRequest, DescribeLoadBalancerAttributeRequest,
    DescribeLoadBalancerHTTPListenerAttributeRequest,
    DescribeLoadBalancerHTTPSListenerAttributeRequest,
    DescribeLoadBalancerTCPListenerAttributeRequest,
    DescribeLoadBalancerUDPListenerAttributeRequest, DescribeServerCertificatesRequest,
    HealthCheckTiming, HttpHealthCheck, HttpListenerAttribute, Layer4ListenerAttribute,
    ListenerStatus, OnOff, Scheduler, SetLoadBalancerHTTPListenerAttributeRequest, SlbApi,
    StickySession, StickySessionType, UploadServerCertificateRequest,
};
use slb_emulator::{Config as EmulatorConfig, Emulator, Faults, TransitionDelays};
use slb_operator::conditions::is_ready;
use slb_operator::controller::listener::{CERTIFICATE_NAME_PREFIX, certificate_name};
use slb_operator::crd::{SlbInstance, SlbListener, SlbVServerGroup};

const TIMEOUT: Duration = Duration::from_secs(40);

fn listener(name: &str, spec: serde_json::Value) -> SlbListener {
    let mut spec = spec;
    spec["instanceRef"] = json!({"name": "web"});
    object("SlbListener", name, spec)
}

/// Creates the SlbInstance `web` and returns its load balancer ID once it is Ready.
async fn ready_instance(client: &Client, namespace: &str) -> String {
    instance_with(client, namespace, "web", json!({})).await
}

/// Creates an SlbInstance and returns its load balancer ID once it is Ready.
async fn instance_with(
    client: &Client,
    namespace: &str,
    name: &str,
    spec: serde_json::Value,
) -> String {
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    api.create(
        &PostParams::default(),
        &object::<SlbInstance>("SlbInstance", name, spec),
    )
    .await
    .unwrap();
    eventually("the SlbInstance to be Ready", TIMEOUT, || async {
        let object = api.get(name).await.ok()?;
        let status = object.status.as_ref()?;
        is_ready(&status.conditions, object.metadata.generation)
            .then(|| status.load_balancer_id.clone())
            .flatten()
    })
    .await
}

/// Waits until the listener is Ready for its current generation.
async fn ready(api: &Api<SlbListener>, name: &str) -> SlbListener {
    eventually(
        &format!("SlbListener {name} to be Ready"),
        TIMEOUT,
        || async {
            let object = api.get(name).await.ok()?;
            let status = object.status.as_ref()?;
            is_ready(&status.conditions, object.metadata.generation).then_some(object.clone())
        },
    )
    .await
}

async fn patch_spec(api: &Api<SlbListener>, name: &str, spec: serde_json::Value) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(&json!({ "spec": spec })),
    )
    .await
    .unwrap();
}

async fn delete_and_wait(api: &Api<SlbListener>, name: &str) {
    api.delete(name, &DeleteParams::default()).await.unwrap();
    eventually(
        &format!("SlbListener {name} to be gone"),
        TIMEOUT,
        || async { api.get_opt(name).await.unwrap().is_none().then_some(()) },
    )
    .await;
}

async fn delete_instance(client: &Client, namespace: &str) {
    delete_instance_named(client, namespace, "web").await;
}

async fn delete_instance_named(client: &Client, namespace: &str, name: &str) {
    let api: Api<SlbInstance> = Api::namespaced(client.clone(), namespace);
    api.delete(name, &DeleteParams::default()).await.unwrap();
    eventually("the SlbInstance to be gone", TIMEOUT, || async {
        api.get_opt(name).await.unwrap().is_none().then_some(())
    })
    .await;
}

/// Waits until the listener's Ready condition is False with `reason`.
async fn not_ready_because(api: &Api<SlbListener>, name: &str, reason: &str) -> String {
    eventually(
        &format!("SlbListener {name} to be Ready=False with {reason}"),
        TIMEOUT,
        || async {
            let object = api.get(name).await.ok()?;
            object
                .status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready" && c.status == "False" && c.reason == reason)
                .map(|c| c.message)
        },
    )
    .await
}

async fn http(slb: &dyn SlbApi, lb: &str, port: u16) -> Option<HttpListenerAttribute> {
    slb.describe_load_balancer_http_listener_attribute(
        &DescribeLoadBalancerHTTPListenerAttributeRequest {
            load_balancer_id: lb.into(),
            listener_port: port,
        },
    )
    .await
    .ok()
}

async fn https(slb: &dyn SlbApi, lb: &str, port: u16) -> Option<HttpListenerAttribute> {
    slb.describe_load_balancer_https_listener_attribute(
        &DescribeLoadBalancerHTTPSListenerAttributeRequest {
            load_balancer_id: lb.into(),
            listener_port: port,
        },
    )
    .await
    .ok()
}

async fn tcp(slb: &dyn SlbApi, lb: &str, port: u16) -> Option<Layer4ListenerAttribute> {
    slb.describe_load_balancer_tcp_listener_attribute(
        &DescribeLoadBalancerTCPListenerAttributeRequest {
            load_balancer_id: lb.into(),
            listener_port: port,
        },
    )
    .await
    .ok()
}

async fn udp(slb: &dyn SlbApi, lb: &str, port: u16) -> Option<Layer4ListenerAttribute> {
    slb.describe_load_balancer_udp_listener_attribute(
        &DescribeLoadBalancerUDPListenerAttributeRequest {
            load_balancer_id: lb.into(),
            listener_port: port,
        },
    )
    .await
    .ok()
}

/// The ports the load balancer has listeners on.
async fn listener_ports(slb: &dyn SlbApi, lb: &str) -> Vec<u16> {
    let mut ports = slb
        .describe_load_balancer_attribute(&DescribeLoadBalancerAttributeRequest {
            load_balancer_id: lb.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .listener_ports;
    ports.sort_unstable();
    ports
}

async fn wait_for_event(client: &Client, namespace: &str, reason: &str) {
    eventually(&format!("a {reason} event"), TIMEOUT, || async {
        event_reasons(client, namespace)
            .await
            .iter()
            .any(|r| r == reason)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn http_tcp_and_udp_listeners_are_created_updated_moved_and_deleted() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    let lb = ready_instance(&client, &namespace.name).await;
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);

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
        api.create(&PostParams::default(), &listener(name, spec))
            .await
            .unwrap();
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
    let created = http(slb, &lb, 80).await.unwrap();
    assert_eq!(created.status, Some(ListenerStatus::Running));
    assert_eq!(created.backend_server_port, Some(8080));
    assert_eq!(created.health_check, Some(OnOff::On));
    assert_eq!(
        tcp(slb, &lb, 443).await.unwrap().status,
        Some(ListenerStatus::Running)
    );
    assert_eq!(
        udp(slb, &lb, 53).await.unwrap().status,
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
    let updated = http(slb, &lb, 80).await.unwrap();
    assert_eq!(updated.scheduler, Some(Scheduler::WeightedLeastConnections));
    assert_eq!(updated.sticky_session, Some(OnOff::On));
    assert_eq!(updated.sticky_session_type, Some(StickySessionType::Insert));
    assert_eq!(updated.cookie_timeout, Some(600));
    assert_eq!(updated.health_check_uri.as_deref(), Some("/healthz"));
    assert_eq!(updated.healthy_threshold, Some(5));
    assert_eq!(updated.health_check_interval, Some(4));
    let access = slb
        .describe_listener_access_control_attribute(
            &DescribeListenerAccessControlAttributeRequest {
                load_balancer_id: lb.clone(),
                listener_port: 80,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        access.access_control_status,
        Some(AccessControlStatus::OpenWhiteList)
    );
    assert_eq!(access.source_items, ["10.0.0.0/8", "192.168.1.10"]);

    // One whitelist item replaced: only the difference is sent.
    let before = emulator.calls().len();
    patch_spec(
        &api,
        "http",
        json!({"accessControl": {"enabled": true, "sourceItems": ["10.0.0.0/8", "172.16.0.0/12"]}}),
    )
    .await;
    eventually("the whitelist to change", TIMEOUT, || async {
        let access = slb
            .describe_listener_access_control_attribute(
                &DescribeListenerAccessControlAttributeRequest {
                    load_balancer_id: lb.clone(),
                    listener_port: 80,
                },
            )
            .await
            .ok()?;
        (access.source_items == ["10.0.0.0/8", "172.16.0.0/12"]).then_some(())
    })
    .await;
    ready(&api, "http").await;
    let writes: Vec<String> = emulator.calls()[before..]
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
        tcp(slb, &lb, 443).await.unwrap().persistence_timeout,
        Some(120)
    );
    assert_eq!(
        udp(slb, &lb, 53).await.unwrap().status,
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
        tcp(slb, &lb, 8443).await.unwrap().persistence_timeout,
        Some(120),
        "the new listener has the whole spec"
    );
    wait_for_event(&client, &namespace.name, "Recreating").await;

    for name in ["http", "tcp", "udp"] {
        delete_and_wait(&api, name).await;
    }
    assert!(listener_ports(slb, &lb).await.is_empty());
    let reasons = event_reasons(&client, &namespace.name).await;
    for reason in ["Created", "Updated", "Deleted"] {
        assert!(
            reasons.iter().any(|r| r == reason),
            "no {reason} event in {reasons:?}"
        );
    }
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn a_listener_waits_for_its_instance_and_follows_when_it_appears() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-ref").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);

    api.create(
        &PostParams::default(),
        &listener(
            "http",
            json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80}),
        ),
    )
    .await
    .unwrap();
    eventually("Ready=False ReferenceNotFound", TIMEOUT, || async {
        let object = api.get("http").await.ok()?;
        object
            .status?
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "False" && c.reason == "ReferenceNotFound")
            .then_some(())
    })
    .await;

    // The instance's watch, not a timer (the resync is 10 minutes), brings the listener up.
    let lb = ready_instance(&client, &namespace.name).await;
    let status = ready(&api, "http").await.status.unwrap();
    assert_eq!(status.load_balancer_id.as_deref(), Some(lb.as_str()));
    assert!(http(slb.as_ref(), &lb, 80).await.is_some());

    delete_and_wait(&api, "http").await;
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

/// The IDs and names of the server certificates in the emulator.
async fn server_certificates(slb: &dyn SlbApi) -> Vec<(String, String)> {
    slb.describe_server_certificates(&DescribeServerCertificatesRequest::default())
        .await
        .unwrap()
        .server_certificates
        .into_iter()
        .map(|c| (c.server_certificate_id, c.server_certificate_name))
        .collect()
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
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-tls").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    let lb = ready_instance(&client, &namespace.name).await;
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    api.create(
        &PostParams::default(),
        &listener(
            "https",
            json!({"listenerPort": 443, "protocol": "HTTPS", "backendServerPort": 8080,
                   "serverCertificate": {"secretRef": {"name": "web-tls"}},
                   "caCertificate": {"secretRef": {"name": "client-ca"}}}),
        ),
    )
    .await
    .unwrap();
    eventually("Ready=False for the missing Secret", TIMEOUT, || async {
        let object = api.get("https").await.ok()?;
        object
            .status?
            .conditions
            .iter()
            .any(|c| {
                c.type_ == "Ready"
                    && c.reason == "ReferenceNotFound"
                    && c.message.contains("Secret")
            })
            .then_some(())
    })
    .await;

    // The Secrets' watch brings the listener up.
    let dir = tempfile::tempdir().unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace.name);
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
    secrets
        .create(
            &PostParams::default(),
            &tls_secret("web-tls", &self_signed(dir.path(), "first")),
        )
        .await
        .unwrap();
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
    assert_eq!(ca_certificates(slb).await, std::slice::from_ref(&ca));
    assert_eq!(
        https(slb, &lb, 443).await.unwrap().ca_certificate_id,
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
        https(slb, &lb, 443).await.unwrap().server_certificate_id,
        Some(first.clone())
    );

    // A renewal (as cert-manager does it): the new certificate is uploaded and swapped in, and the
    // old one deleted once the listener no longer uses it.
    secrets
        .replace(
            "web-tls",
            &PostParams::default(),
            &tls_secret("web-tls", &self_signed(dir.path(), "second")),
        )
        .await
        .unwrap();
    let second = eventually("the renewed certificate in use", TIMEOUT, || async {
        let remote = https(slb, &lb, 443).await?.server_certificate_id?;
        (remote != first).then_some(remote)
    })
    .await;
    eventually("the old certificate to be deleted", TIMEOUT, || async {
        let ids: Vec<String> = server_certificates(slb)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
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
    wait_for_event(&client, &namespace.name, "CertificateDeleted").await;

    delete_and_wait(&api, "https").await;
    assert!(listener_ports(slb, &lb).await.is_empty());
    assert!(
        server_certificates(slb).await.is_empty(),
        "the uploaded certificate is deleted after the listener"
    );
    assert!(ca_certificates(slb).await.is_empty());
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn drift_is_restored_and_the_steady_state_writes_nothing() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-drift").await;
    let emulator = start_emulator().await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();

    // A long resync first: once Ready, nothing at all may be called while idle.
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let lb = ready_instance(&client, &namespace.name).await;
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    api.create(
        &PostParams::default(),
        &listener(
            "http",
            json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 8080,
                   "accessControl": {"enabled": true, "sourceItems": ["10.0.0.0/8"]}}),
        ),
    )
    .await
    .unwrap();
    ready(&api, "http").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = emulator.calls().len();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = &emulator.calls()[before..];
    assert!(idle.is_empty(), "calls while idle: {idle:?}");
    operator.stop().await;

    // A short resync: a change made outside is noticed and undone, with an Event.
    let operator =
        Operator::start(&client, &emulator, &namespace.name, Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    slb.set_load_balancer_http_listener_attribute(&SetLoadBalancerHTTPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
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
    })
    .await
    .unwrap();
    eventually("the scheduler to be restored", TIMEOUT, || async {
        let remote = http(slb, &lb, 80).await?;
        (remote.scheduler == Some(Scheduler::WeightedRoundRobin)).then_some(())
    })
    .await;
    wait_for_event(&client, &namespace.name, "DriftRestored").await;

    // A listener deleted outside is created again, whitelist included.
    slb.delete_load_balancer_listener(&DeleteLoadBalancerListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
    })
    .await
    .unwrap();
    eventually("the listener to be back and running", TIMEOUT, || async {
        let remote = http(slb, &lb, 80).await?;
        (remote.status == Some(ListenerStatus::Running)).then_some(())
    })
    .await;
    ready(&api, "http").await;
    let access = slb
        .describe_listener_access_control_attribute(
            &DescribeListenerAccessControlAttributeRequest {
                load_balancer_id: lb.clone(),
                listener_port: 80,
            },
        )
        .await
        .unwrap();
    assert_eq!(access.source_items, ["10.0.0.0/8"]);

    // Idle again: resyncs describe (the listener and its whitelist), but never write.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = emulator.calls().len();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let idle = &emulator.calls()[before..];
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

    delete_and_wait(&api, "http").await;
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

/// An HTTP listener made by hand, as in the console.
fn hand_made_http(lb: &str, port: u16) -> CreateLoadBalancerHTTPListenerRequest {
    CreateLoadBalancerHTTPListenerRequest {
        load_balancer_id: lb.into(),
        listener_port: port,
        backend_server_port: port,
        bandwidth: -1,
        sticky_session: StickySession {
            enabled: OnOff::Off,
            ..Default::default()
        },
        health_check: OnOff::Off,
        ..Default::default()
    }
}

#[tokio::test]
async fn only_declared_listeners_are_touched_and_an_adopted_instance_keeps_them() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-own").await;
    let emulator = start_emulator().await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    // A load balancer made by hand, with two listeners; only port 80 will be declared.
    let legacy = slb
        .create_load_balancer(&CreateLoadBalancerRequest {
            load_balancer_name: Some("made-by-hand".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .load_balancer_id;
    slb.create_load_balancer_http_listener(&hand_made_http(&legacy, 80))
        .await
        .unwrap();
    slb.create_load_balancer_http_listener(&hand_made_http(&legacy, 81))
        .await
        .unwrap();
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let adopted = instance_with(
        &client,
        &namespace.name,
        "legacy",
        json!({"loadBalancerId": legacy}),
    )
    .await;
    assert_eq!(adopted, legacy);
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    let mut declared = listener(
        "http",
        json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80, "scheduler": "wlc"}),
    );
    declared.spec.instance_ref.name = "legacy".into();
    api.create(&PostParams::default(), &declared).await.unwrap();
    ready(&api, "http").await;
    let taken_over = http(slb, &legacy, 80).await.unwrap();
    assert_eq!(
        taken_over.scheduler,
        Some(Scheduler::WeightedLeastConnections)
    );
    assert_eq!(taken_over.status, Some(ListenerStatus::Running));
    wait_for_event(&client, &namespace.name, "Adopted").await;
    let undeclared = http(slb, &legacy, 81).await.unwrap();
    assert_eq!(undeclared.status, Some(ListenerStatus::Stopped));
    assert_eq!(undeclared.scheduler, Some(Scheduler::WeightedRoundRobin));

    // The adopted instance is Orphan: deleting the object leaves the listener in place.
    delete_and_wait(&api, "http").await;
    assert!(http(slb, &legacy, 80).await.is_some(), "the listener stays");
    wait_for_event(&client, &namespace.name, "Orphaned").await;

    // On a load balancer the operator created, a listener made by hand at the declared port is
    // never changed or deleted.
    let made = instance_with(&client, &namespace.name, "web", json!({})).await;
    slb.create_load_balancer_http_listener(&hand_made_http(&made, 8080))
        .await
        .unwrap();
    let writes_before = emulator.counters().writes;
    api.create(
        &PostParams::default(),
        &listener(
            "clash",
            json!({"listenerPort": 8080, "protocol": "TCP", "backendServerPort": 8080}),
        ),
    )
    .await
    .unwrap();
    let message = not_ready_because(&api, "clash", "NotOwned").await;
    assert!(message.contains("8080"), "{message}");
    delete_and_wait(&api, "clash").await;
    assert!(
        http(slb, &made, 8080).await.is_some(),
        "the hand-made listener stays"
    );
    assert_eq!(
        emulator.counters().writes,
        writes_before,
        "nothing was written for the clashing listener"
    );

    delete_instance_named(&client, &namespace.name, "legacy").await;
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn a_listener_follows_its_vserver_group_reference() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-group").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    let lb = ready_instance(&client, &namespace.name).await;
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
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
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
        api.create(&PostParams::default(), &listener(name, spec))
            .await
            .unwrap();
        not_ready_because(&api, name, "ReferenceNotFound").await;
    }

    let groups: Api<SlbVServerGroup> = Api::namespaced(client.clone(), &namespace.name);
    groups
        .create(
            &PostParams::default(),
            &object::<SlbVServerGroup>(
                "SlbVServerGroup",
                "pool",
                json!({"instanceRef": {"name": "web"}, "backends": [{"serverId": "i-pool-1", "port": 443}]}),
            ),
        )
        .await
        .unwrap();
    let group_id = eventually("the group to have an ID", TIMEOUT, || async {
        groups.get("pool").await.ok()?.status?.v_server_group_id
    })
    .await;
    ready(&api, "tcp").await;
    ready(&api, "https").await;
    assert_eq!(
        tcp(slb, &lb, 443).await.unwrap().v_server_group_id,
        Some(group_id.clone())
    );
    let bound = https(slb, &lb, 8443).await.unwrap();
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
    assert_eq!(tcp(slb, &lb, 443).await.unwrap().v_server_group_id, None);
    assert_eq!(https(slb, &lb, 8443).await.unwrap().v_server_group_id, None);
    assert_eq!(
        listener_ports(slb, &lb).await,
        [443, 8443],
        "unbound in place, not recreated"
    );
    assert!(
        !event_reasons(&client, &namespace.name)
            .await
            .iter()
            .any(|r| r == "Recreating")
    );

    delete_and_wait(&api, "tcp").await;
    delete_and_wait(&api, "https").await;
    let remaining: Vec<String> = server_certificates(slb)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        remaining,
        [by_hand],
        "a certificate given by ID is never deleted"
    );
    groups
        .delete("pool", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the group to be gone", TIMEOUT, || async {
        groups
            .get_opt("pool")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn listener_transitions_are_waited_out_without_errors() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-slow").await;
    // Every start, stop and reconfiguration takes a second, as on the real service.
    let emulator = Emulator::start(EmulatorConfig {
        delays: TransitionDelays::uniform(Duration::from_secs(1)),
        ..EmulatorConfig::for_tests()
    })
    .await
    .unwrap();
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    let lb = ready_instance(&client, &namespace.name).await;
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    api.create(
        &PostParams::default(),
        &listener(
            "http",
            json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80}),
        ),
    )
    .await
    .unwrap();
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
    let remote = http(slb, &lb, 80).await.unwrap();
    assert_eq!(remote.scheduler, Some(Scheduler::WeightedLeastConnections));
    assert_eq!(remote.status, Some(ListenerStatus::Stopped));
    let refused: Vec<String> = emulator
        .calls()
        .iter()
        // The one expected miss is the look at the free port before the create.
        .filter(|call| call.code != "OK" && call.code != "ListenerNotFound")
        .map(|call| format!("{} {}", call.action, call.code))
        .collect();
    assert!(refused.is_empty(), "calls refused: {refused:?}");
    let reasons = event_reasons(&client, &namespace.name).await;
    assert!(
        !reasons.iter().any(|r| r == "DriftRestored"),
        "the later steps of a spec change are not drift: {reasons:?}"
    );

    delete_and_wait(&api, "http").await;
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn a_certificate_uploaded_before_a_crash_is_found_by_its_name_not_uploaded_again() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-cert").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    let lb = ready_instance(&client, &namespace.name).await;
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    let created = api
        .create(
            &PostParams::default(),
            &listener(
                "https",
                json!({"listenerPort": 443, "protocol": "HTTPS", "backendServerPort": 8080,
                       "serverCertificate": {"secretRef": {"name": "web-tls"}}}),
            ),
        )
        .await
        .unwrap();
    not_ready_because(&api, "https", "ReferenceNotFound").await;

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
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace.name);
    secrets
        .create(&PostParams::default(), &tls_secret("web-tls", &pair))
        .await
        .unwrap();
    let status = ready(&api, "https").await.status.unwrap();
    assert_eq!(
        status.server_certificate_id.as_deref(),
        Some(earlier.as_str())
    );
    let ids: Vec<String> = server_certificates(slb)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, [earlier], "no second upload");

    delete_and_wait(&api, "https").await;
    assert!(server_certificates(slb).await.is_empty());
    assert!(listener_ports(slb, &lb).await.is_empty());
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn a_secret_whose_key_does_not_match_its_certificate_is_refused_before_any_upload() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-badkey").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    let lb = ready_instance(&client, &namespace.name).await;
    let dir = tempfile::tempdir().unwrap();
    let (certificate, _) = self_signed(dir.path(), "web");
    let (_, other_key) = self_signed(dir.path(), "other");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace.name);
    secrets
        .create(
            &PostParams::default(),
            &tls_secret("web-tls", &(certificate, other_key)),
        )
        .await
        .unwrap();
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    api.create(
        &PostParams::default(),
        &listener(
            "https",
            json!({"listenerPort": 443, "protocol": "HTTPS", "backendServerPort": 8080,
                   "serverCertificate": {"secretRef": {"name": "web-tls"}}}),
        ),
    )
    .await
    .unwrap();

    let message = not_ready_because(&api, "https", "ReconcileError").await;
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
    wait_for_event(&client, &namespace.name, "InvalidCertificate").await;
    assert!(status.uploaded_certificates.is_empty(), "{status:?}");
    assert!(server_certificates(slb).await.is_empty());
    assert!(listener_ports(slb, &lb).await.is_empty());

    delete_and_wait(&api, "https").await;
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn a_spec_slb_rejects_is_reported_in_the_conditions_until_fixed() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-bad").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    // Billed by bandwidth: a listener must name its share, as unlimited (-1) is refused.
    let lb = instance_with(
        &client,
        &namespace.name,
        "web",
        json!({"internetChargeType": "paybybandwidth", "bandwidth": 10}),
    )
    .await;
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
    api.create(
        &PostParams::default(),
        &listener(
            "http",
            json!({"listenerPort": 80, "protocol": "HTTP", "backendServerPort": 80}),
        ),
    )
    .await
    .unwrap();
    let message = not_ready_because(&api, "http", "ReconcileError").await;
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
        http(slb.as_ref(), &lb, 80).await.unwrap().bandwidth,
        Some(5)
    );

    delete_and_wait(&api, "http").await;
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}

#[tokio::test]
async fn listeners_converge_through_injected_faults_without_leaks() {
    let client = cluster_client().await;
    let namespace = TestNamespace::create(&client, "op-listener-faults").await;
    let emulator = start_emulator().await;
    let operator = Operator::start_on_watches(&client, &emulator, &namespace.name).await;
    let slb = slb_client(&emulator);
    let slb = slb.as_ref();
    let lb = ready_instance(&client, &namespace.name).await;
    emulator.set_faults(Faults {
        error_503_rate: 0.10,
        processing_same_request_rate: 0.05,
        latency_ms: 50,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace.name);
    secrets
        .create(
            &PostParams::default(),
            &tls_secret("web-tls", &self_signed(dir.path(), "web")),
        )
        .await
        .unwrap();
    let api: Api<SlbListener> = Api::namespaced(client.clone(), &namespace.name);
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
        api.create(&PostParams::default(), &listener(name, spec))
            .await
            .unwrap();
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
    secrets
        .replace(
            "web-tls",
            &PostParams::default(),
            &tls_secret("web-tls", &self_signed(dir.path(), "renewed")),
        )
        .await
        .unwrap();
    ready(&api, "http").await;
    eventually("one certificate, in use", TIMEOUT, || async {
        let in_use = https(slb, &lb, 443).await?.server_certificate_id?;
        let ids: Vec<String> = server_certificates(slb)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        (ids == [in_use]).then_some(())
    })
    .await;
    assert_eq!(
        listener_ports(slb, &lb).await,
        [53, 443, 8080],
        "no duplicate"
    );

    for name in ["http", "https", "udp"] {
        delete_and_wait(&api, name).await;
    }
    emulator.set_faults(Faults::default());
    assert!(
        listener_ports(slb, &lb).await.is_empty(),
        "no leaked listener"
    );
    assert!(
        server_certificates(slb).await.is_empty(),
        "no leaked certificate"
    );
    delete_instance(&client, &namespace.name).await;
    operator.stop().await;
    namespace.delete().await;
}
