//! Every action of `slb_api::Client`, happy path and documented errors, against the in-process emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use slb_api::*;
use slb_emulator::{
    Config, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Emulator, Faults, RunningEmulator,
};
use std::time::Duration;

const REGION: &str = "cn-hangzhou";
const CERTIFICATE: &str = common::TEST_CERTIFICATE;
const PRIVATE_KEY: &str = common::TEST_PRIVATE_KEY;

fn config(emulator: &RunningEmulator) -> ClientConfig {
    let credentials = Credentials::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).unwrap();
    let mut config = ClientConfig::new(emulator.url(), REGION, credentials);
    config.retry = RetryPolicy::none();
    config.rate_limits = RateLimits::unlimited();
    config
}

async fn start() -> (RunningEmulator, Client) {
    let emulator = Emulator::start(Config::for_tests()).await.unwrap();
    let client = Client::new(config(&emulator)).unwrap();
    (emulator, client)
}

async fn create_lb(client: &Client, name: &str) -> String {
    let request = CreateLoadBalancerRequest {
        load_balancer_name: Some(name.to_owned()),
        address_type: Some(AddressType::Internet),
        internet_charge_type: Some(InternetChargeType::PayByTraffic),
        ..Default::default()
    };
    let response = client.create_load_balancer(&request).await.unwrap();
    assert!(!response.load_balancer_id.is_empty());
    response.load_balancer_id
}

fn vserver(server_id: &str, port: u16, weight: u32) -> VServerBackendServer {
    VServerBackendServer {
        server_id: server_id.to_owned(),
        port: Some(port),
        weight: Some(weight),
    }
}

#[tokio::test]
async fn regions_zones_and_instances() {
    let (_emulator, client) = start().await;
    let regions = client
        .describe_regions(&DescribeRegionsRequest::default())
        .await
        .unwrap();
    assert!(
        regions.regions.iter().any(|r| r.region_id == REGION),
        "{regions:?}"
    );
    let zones = client
        .describe_zones(&DescribeZonesRequest::default())
        .await
        .unwrap();
    assert!(!zones.zones.is_empty());

    let lb = create_lb(&client, "web-1").await;
    let listed = client
        .describe_load_balancers(&DescribeLoadBalancersRequest {
            load_balancer_id: vec![lb.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.load_balancers.len(), 1);
    assert_eq!(listed.load_balancers[0].load_balancer_name, "web-1");

    let attribute = DescribeLoadBalancerAttributeRequest {
        load_balancer_id: lb.clone(),
        ..Default::default()
    };
    let described = client
        .describe_load_balancer_attribute(&attribute)
        .await
        .unwrap();
    assert_eq!(
        described.load_balancer_status,
        Some(LoadBalancerStatus::Active)
    );
    assert_eq!(described.address_type, Some(AddressType::Internet));

    let rename = SetLoadBalancerNameRequest {
        load_balancer_id: lb.clone(),
        load_balancer_name: "web-2".to_owned(),
    };
    client.set_load_balancer_name(&rename).await.unwrap();
    let status = SetLoadBalancerStatusRequest {
        load_balancer_id: lb.clone(),
        load_balancer_status: LoadBalancerStatus::Inactive,
    };
    client.set_load_balancer_status(&status).await.unwrap();
    let described = client
        .describe_load_balancer_attribute(&attribute)
        .await
        .unwrap();
    assert_eq!(described.load_balancer_name, "web-2");
    assert_eq!(
        described.load_balancer_status,
        Some(LoadBalancerStatus::Inactive)
    );

    let internet = ModifyLoadBalancerInternetSpecRequest {
        load_balancer_id: lb.clone(),
        internet_charge_type: Some(InternetChargeType::PayByBandwidth),
        bandwidth: Some(10),
    };
    client
        .modify_load_balancer_internet_spec(&internet)
        .await
        .unwrap();
    let spec = ModifyLoadBalancerInstanceSpecRequest {
        load_balancer_id: lb.clone(),
        load_balancer_spec: Some(LoadBalancerSpec::S2Small),
    };
    client
        .modify_load_balancer_instance_spec(&spec)
        .await
        .unwrap();
    let pay = ModifyLoadBalancerPayTypeRequest {
        load_balancer_id: lb.clone(),
        pay_type: PayType::PrePay,
        pricing_cycle: PricingCycle::Month,
        duration: 1,
        auto_pay: true,
    };
    client.modify_load_balancer_pay_type(&pay).await.unwrap();
    let described = client
        .describe_load_balancer_attribute(&attribute)
        .await
        .unwrap();
    assert_eq!(
        described.internet_charge_type,
        Some(InternetChargeType::PayByBandwidth)
    );
    assert_eq!(described.bandwidth, Some(10));

    client
        .delete_load_balancer(&DeleteLoadBalancerRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap();
    let error = client
        .describe_load_balancer_attribute(&attribute)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert_eq!(error.code(), Some("InvalidLoadBalancerId.NotFound"));
    assert_eq!(error.category(), "not_found");
    assert_eq!(error.api_error().unwrap().http_status, 404);
}

#[tokio::test]
async fn a_client_token_makes_create_idempotent() {
    let (_emulator, client) = start().await;
    let request = CreateLoadBalancerRequest {
        load_balancer_name: Some("once".to_owned()),
        client_token: Some("token-123".to_owned()),
        ..Default::default()
    };
    let first = client.create_load_balancer(&request).await.unwrap();
    let second = client.create_load_balancer(&request).await.unwrap();
    assert_eq!(first.load_balancer_id, second.load_balancer_id);
    let listed = client
        .describe_load_balancers(&DescribeLoadBalancersRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.load_balancers.len(), 1);
}

#[tokio::test]
async fn certificates() {
    let (_emulator, client) = start().await;
    let upload = UploadServerCertificateRequest {
        server_certificate: CERTIFICATE.to_owned(),
        private_key: PRIVATE_KEY.to_owned(),
        server_certificate_name: Some("web-cert".to_owned()),
        ..Default::default()
    };
    let server = client.upload_server_certificate(&upload).await.unwrap();
    assert!(!server.server_certificate_id.is_empty() && server.fingerprint.contains(':'));
    let rename = SetServerCertificateNameRequest {
        server_certificate_id: server.server_certificate_id.clone(),
        server_certificate_name: "web-cert-2".to_owned(),
    };
    client.set_server_certificate_name(&rename).await.unwrap();
    let listed = client
        .describe_server_certificates(&DescribeServerCertificatesRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.server_certificates.len(), 1);
    assert_eq!(
        listed.server_certificates[0].server_certificate_name,
        "web-cert-2"
    );

    let ca = UploadCACertificateRequest {
        ca_certificate: CERTIFICATE.to_owned(),
        ca_certificate_name: "ca".to_owned(),
        resource_group_id: None,
    };
    let ca = client.upload_ca_certificate(&ca).await.unwrap();
    assert!(!ca.ca_certificate_id.is_empty());
    let rename = SetCACertificateNameRequest {
        ca_certificate_id: ca.ca_certificate_id.clone(),
        ca_certificate_name: "ca-2".to_owned(),
    };
    client.set_ca_certificate_name(&rename).await.unwrap();
    let describe = DescribeCACertificatesRequest {
        ca_certificate_id: Some(ca.ca_certificate_id.clone()),
        ..Default::default()
    };
    let listed = client.describe_ca_certificates(&describe).await.unwrap();
    assert_eq!(listed.ca_certificates[0].ca_certificate_name, "ca-2");

    client
        .delete_ca_certificate(&DeleteCACertificateRequest {
            ca_certificate_id: ca.ca_certificate_id,
        })
        .await
        .unwrap();
    client
        .delete_server_certificate(&DeleteServerCertificateRequest {
            server_certificate_id: server.server_certificate_id.clone(),
        })
        .await
        .unwrap();
    let error = client
        .delete_server_certificate(&DeleteServerCertificateRequest {
            server_certificate_id: server.server_certificate_id,
        })
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");

    let bad = UploadServerCertificateRequest {
        server_certificate: "not a certificate".to_owned(),
        ..upload
    };
    let error = client.upload_server_certificate(&bad).await.unwrap_err();
    assert_eq!(error.category(), "invalid_request", "{error}");
}

fn http_listener(lb: &str, port: u16) -> CreateLoadBalancerHTTPListenerRequest {
    CreateLoadBalancerHTTPListenerRequest {
        load_balancer_id: lb.to_owned(),
        listener_port: port,
        backend_server_port: 8080,
        settings: HttpListenerSettings {
            bandwidth: -1,
            sticky_session: StickySession {
                enabled: OnOff::On,
                session_type: Some(StickySessionType::Insert),
                cookie_timeout: Some(3600),
                ..Default::default()
            },
            health_check: OnOff::On,
            http_health_check: HttpHealthCheck {
                uri: Some("/healthz".to_owned()),
                http_codes: vec![HealthCheckHttpCode::Http2xx, HealthCheckHttpCode::Http3xx],
                ..Default::default()
            },
            health_check_connect_port: Some(8080),
            health_check_timing: HealthCheckTiming {
                healthy_threshold: Some(3),
                unhealthy_threshold: Some(3),
                timeout: Some(5),
                interval: Some(2),
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn http_and_https_listeners() {
    let (_emulator, client) = start().await;
    let lb = create_lb(&client, "l7").await;
    client
        .create_load_balancer_http_listener(&http_listener(&lb, 80))
        .await
        .unwrap();
    let error = client
        .create_load_balancer_http_listener(&http_listener(&lb, 80))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ListenerAlreadyExists"), "{error}");
    assert_eq!(error.category(), "conflict");

    let describe = DescribeLoadBalancerHTTPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
    };
    let attribute = client
        .describe_load_balancer_http_listener_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(attribute.status, Some(ListenerStatus::Stopped));
    assert_eq!(
        attribute.sticky_session_type,
        Some(StickySessionType::Insert)
    );
    assert_eq!(attribute.cookie_timeout, Some(3600));
    assert_eq!(
        attribute.health.health_check_uri.as_deref(),
        Some("/healthz")
    );

    let id = |port| StartLoadBalancerListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: port,
    };
    client.start_load_balancer_listener(&id(80)).await.unwrap();
    let attribute = client
        .describe_load_balancer_http_listener_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(attribute.status, Some(ListenerStatus::Running));

    let set = SetLoadBalancerHTTPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
        settings: HttpListenerSettings {
            bandwidth: -1,
            scheduler: Some(Scheduler::WeightedLeastConnections),
            sticky_session: StickySession {
                enabled: OnOff::Off,
                ..Default::default()
            },
            health_check: OnOff::Off,
            gzip: Some(OnOff::Off),
            ..Default::default()
        },
        ..Default::default()
    };
    client
        .set_load_balancer_http_listener_attribute(&set)
        .await
        .unwrap();
    let attribute = client
        .describe_load_balancer_http_listener_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(
        attribute.scheduler,
        Some(Scheduler::WeightedLeastConnections)
    );
    assert_eq!(attribute.sticky_session, Some(OnOff::Off));

    let upload = UploadServerCertificateRequest {
        server_certificate: CERTIFICATE.to_owned(),
        private_key: PRIVATE_KEY.to_owned(),
        ..Default::default()
    };
    let certificate = client
        .upload_server_certificate(&upload)
        .await
        .unwrap()
        .server_certificate_id;
    let https = CreateLoadBalancerHTTPSListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
        backend_server_port: 8080,
        server_certificate_id: certificate.clone(),
        settings: HttpListenerSettings {
            bandwidth: -1,
            health_check: OnOff::Off,
            ..Default::default()
        },
        ..Default::default()
    };
    client
        .create_load_balancer_https_listener(&https)
        .await
        .unwrap();
    let set = SetLoadBalancerHTTPSListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
        server_certificate_id: certificate.clone(),
        settings: HttpListenerSettings {
            bandwidth: -1,
            sticky_session: StickySession {
                enabled: OnOff::On,
                session_type: Some(StickySessionType::Server),
                cookie: Some("SESSIONID".to_owned()),
                ..Default::default()
            },
            health_check: OnOff::Off,
            ..Default::default()
        },
        ..Default::default()
    };
    client
        .set_load_balancer_https_listener_attribute(&set)
        .await
        .unwrap();
    let describe_https = DescribeLoadBalancerHTTPSListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
    };
    let attribute = client
        .describe_load_balancer_https_listener_attribute(&describe_https)
        .await
        .unwrap();
    assert_eq!(
        attribute.server_certificate_id.as_deref(),
        Some(certificate.as_str())
    );
    assert_eq!(attribute.cookie.as_deref(), Some("SESSIONID"));

    // A certificate in use cannot be deleted.
    let error = client
        .delete_server_certificate(&DeleteServerCertificateRequest {
            server_certificate_id: certificate,
        })
        .await
        .unwrap_err();
    assert_eq!(
        error.code(),
        Some("CertificateAndPrivateKeyIsRefered"),
        "{error}"
    );

    let stop = StopLoadBalancerListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
    };
    client.stop_load_balancer_listener(&stop).await.unwrap();
    let delete = DeleteLoadBalancerListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
    };
    client.delete_load_balancer_listener(&delete).await.unwrap();
    let error = client
        .describe_load_balancer_http_listener_attribute(&describe)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ListenerNotFound"), "{error}");
    assert!(error.is_not_found());
}

#[tokio::test]
async fn tcp_and_udp_listeners_and_access_control() {
    let (_emulator, client) = start().await;
    let lb = create_lb(&client, "l4").await;
    let tcp = CreateLoadBalancerTCPListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
        backend_server_port: 8443,
        bandwidth: -1,
        persistence_timeout: Some(60),
        health_check_type: Some(HealthCheckType::Tcp),
        established_timeout: Some(600),
        ..Default::default()
    };
    client
        .create_load_balancer_tcp_listener(&tcp)
        .await
        .unwrap();
    let set = SetLoadBalancerTCPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
        bandwidth: -1,
        scheduler: Some(Scheduler::WeightedLeastConnections),
        persistence_timeout: Some(120),
        health_check_timing: HealthCheckTiming {
            healthy_threshold: Some(4),
            ..Default::default()
        },
        ..Default::default()
    };
    client
        .set_load_balancer_tcp_listener_attribute(&set)
        .await
        .unwrap();
    let describe = DescribeLoadBalancerTCPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
    };
    let attribute = client
        .describe_load_balancer_tcp_listener_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(attribute.backend_server_port, Some(8443));
    assert_eq!(attribute.persistence_timeout, Some(120));
    assert_eq!(attribute.health.healthy_threshold, Some(4));
    assert_eq!(
        attribute.scheduler,
        Some(Scheduler::WeightedLeastConnections)
    );

    let udp = CreateLoadBalancerUDPListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 53,
        backend_server_port: 53,
        bandwidth: Some(-1),
        health_check_req: Some("ping".to_owned()),
        health_check_exp: Some("pong".to_owned()),
        ..Default::default()
    };
    client
        .create_load_balancer_udp_listener(&udp)
        .await
        .unwrap();
    let set = SetLoadBalancerUDPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 53,
        bandwidth: -1,
        health_check_timing: HealthCheckTiming {
            interval: Some(3),
            ..Default::default()
        },
        ..Default::default()
    };
    client
        .set_load_balancer_udp_listener_attribute(&set)
        .await
        .unwrap();
    let describe = DescribeLoadBalancerUDPListenerAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 53,
    };
    let attribute = client
        .describe_load_balancer_udp_listener_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(attribute.health.health_check_interval, Some(3));
    assert_eq!(attribute.status, Some(ListenerStatus::Stopped));

    let items = vec!["10.0.0.1".to_owned(), "192.168.0.0/24".to_owned()];
    let add = AddListenerWhiteListItemRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
        source_items: items,
    };
    client.add_listener_white_list_item(&add).await.unwrap();
    let status = SetListenerAccessControlStatusRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
        access_control_status: AccessControlStatus::OpenWhiteList,
    };
    client
        .set_listener_access_control_status(&status)
        .await
        .unwrap();
    let remove = RemoveListenerWhiteListItemRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
        source_items: vec!["10.0.0.1".to_owned()],
    };
    client
        .remove_listener_white_list_item(&remove)
        .await
        .unwrap();
    let describe = DescribeListenerAccessControlAttributeRequest {
        load_balancer_id: lb.clone(),
        listener_port: 443,
    };
    let access = client
        .describe_listener_access_control_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(
        access.access_control_status,
        Some(AccessControlStatus::OpenWhiteList)
    );
    assert_eq!(access.source_items, vec!["192.168.0.0/24"]);

    let missing = DescribeListenerAccessControlAttributeRequest {
        load_balancer_id: lb,
        listener_port: 8080,
    };
    let error = client
        .describe_listener_access_control_attribute(&missing)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn backend_servers_and_health() {
    let (_emulator, client) = start().await;
    let lb = create_lb(&client, "backends").await;
    client
        .create_load_balancer_http_listener(&http_listener(&lb, 80))
        .await
        .unwrap();
    let start = StartLoadBalancerListenerRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
    };
    client.start_load_balancer_listener(&start).await.unwrap();

    let add = AddBackendServersRequest {
        load_balancer_id: lb.clone(),
        backend_servers: vec![
            BackendServer {
                server_id: "i-1".to_owned(),
                weight: Some(100),
            },
            BackendServer {
                server_id: "i-2".to_owned(),
                weight: None,
            },
        ],
    };
    let added = client.add_backend_servers(&add).await.unwrap();
    assert_eq!(added.backend_servers.len(), 2);
    let set = SetBackendServersRequest {
        load_balancer_id: lb.clone(),
        backend_servers: vec![BackendServer {
            server_id: "i-2".to_owned(),
            weight: Some(50),
        }],
    };
    let updated = client.set_backend_servers(&set).await.unwrap();
    let i2 = updated
        .backend_servers
        .iter()
        .find(|s| s.server_id == "i-2")
        .unwrap();
    assert_eq!(i2.weight, Some(50));

    let health = DescribeHealthStatusRequest {
        load_balancer_id: lb.clone(),
        listener_port: Some(80),
    };
    let status = client.describe_health_status(&health).await.unwrap();
    assert_eq!(status.backend_servers.len(), 2, "{status:?}");
    assert!(
        status
            .backend_servers
            .iter()
            .all(|s| s.server_health_status.is_some()),
        "{status:?}"
    );

    let remove = RemoveBackendServersRequest {
        load_balancer_id: lb.clone(),
        backend_servers: vec!["i-1".to_owned()],
    };
    let remaining = client.remove_backend_servers(&remove).await.unwrap();
    assert_eq!(remaining.backend_servers.len(), 1);

    let unknown = AddBackendServersRequest {
        load_balancer_id: "lb-missing".to_owned(),
        ..add
    };
    let error = client.add_backend_servers(&unknown).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn vserver_groups_master_slave_groups_and_rules() {
    let (_emulator, client) = start().await;
    let lb = create_lb(&client, "groups").await;
    let create = CreateVServerGroupRequest {
        load_balancer_id: lb.clone(),
        v_server_group_name: "web".to_owned(),
        backend_servers: vec![vserver("i-1", 8080, 100), vserver("i-2", 8080, 100)],
    };
    let group = client.create_vserver_group(&create).await.unwrap();
    assert!(!group.v_server_group_id.is_empty());
    assert_eq!(group.backend_servers.len(), 2);
    let group_id = group.v_server_group_id;

    let set = SetVServerGroupAttributeRequest {
        v_server_group_id: group_id.clone(),
        v_server_group_name: "web-2".to_owned(),
        backend_servers: vec![vserver("i-1", 8080, 10)],
    };
    client.set_vserver_group_attribute(&set).await.unwrap();
    let add = AddVServerGroupBackendServersRequest {
        v_server_group_id: group_id.clone(),
        backend_servers: vec![vserver("i-3", 8080, 100)],
    };
    assert_eq!(
        client
            .add_vserver_group_backend_servers(&add)
            .await
            .unwrap()
            .backend_servers
            .len(),
        3
    );
    let remove = RemoveVServerGroupBackendServersRequest {
        v_server_group_id: group_id.clone(),
        backend_servers: vec![VServerBackendServer {
            server_id: "i-2".to_owned(),
            port: Some(8080),
            weight: None,
        }],
    };
    assert_eq!(
        client
            .remove_vserver_group_backend_servers(&remove)
            .await
            .unwrap()
            .backend_servers
            .len(),
        2
    );
    let modify = ModifyVServerGroupBackendServersRequest {
        v_server_group_id: group_id.clone(),
        old_backend_servers: vec![vserver("i-3", 8080, 100)],
        new_backend_servers: vec![vserver("i-4", 9090, 70)],
    };
    client
        .modify_vserver_group_backend_servers(&modify)
        .await
        .unwrap();
    let describe = DescribeVServerGroupAttributeRequest {
        v_server_group_id: group_id.clone(),
    };
    let attribute = client
        .describe_vserver_group_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(attribute.v_server_group_name.as_deref(), Some("web-2"));
    let mut servers: Vec<_> = attribute
        .backend_servers
        .iter()
        .map(|s| (s.server_id.as_str(), s.port, s.weight))
        .collect();
    servers.sort();
    assert_eq!(
        servers,
        vec![("i-1", Some(8080), Some(10)), ("i-4", Some(9090), Some(70))]
    );
    let groups = client
        .describe_vserver_groups(&DescribeVServerGroupsRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap();
    assert_eq!(groups.v_server_groups.len(), 1);
    assert_eq!(groups.v_server_groups[0].v_server_group_name, "web-2");

    // Forwarding rules on an HTTP listener, targeting the group.
    client
        .create_load_balancer_http_listener(&http_listener(&lb, 80))
        .await
        .unwrap();
    let rules = CreateRulesRequest {
        load_balancer_id: lb.clone(),
        listener_port: 80,
        rule_list: vec![NewRule {
            rule_name: "images".to_owned(),
            domain: Some("example.com".to_owned()),
            url: Some("/images".to_owned()),
            v_server_group_id: Some(group_id.clone()),
        }],
    };
    let created = client.create_rules(&rules).await.unwrap();
    assert_eq!(created.rules.len(), 1);
    let rule_id = created.rules[0].rule_id.clone();
    let listed = client
        .describe_rules(&DescribeRulesRequest {
            load_balancer_id: lb.clone(),
            listener_port: 80,
        })
        .await
        .unwrap();
    assert_eq!(listed.rules[0].rule_id, rule_id);

    let second = client
        .create_vserver_group(&CreateVServerGroupRequest {
            load_balancer_id: lb.clone(),
            v_server_group_name: "api".to_owned(),
            backend_servers: vec![vserver("i-9", 80, 100)],
        })
        .await
        .unwrap()
        .v_server_group_id;
    let set_rule = SetRuleRequest {
        rule_id: rule_id.clone(),
        v_server_group_id: Some(second.clone()),
    };
    client.set_rule(&set_rule).await.unwrap();
    let rule = client
        .describe_rule_attribute(&DescribeRuleAttributeRequest {
            rule_id: rule_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(rule.v_server_group_id.as_deref(), Some(second.as_str()));
    assert_eq!(rule.listener_port, Some(80));

    // A group a rule uses cannot be deleted.
    let error = client
        .delete_vserver_group(&DeleteVServerGroupRequest {
            v_server_group_id: second.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.category(), "conflict", "{error}");
    client
        .delete_rules(&DeleteRulesRequest {
            rule_ids: vec![rule_id.clone()],
        })
        .await
        .unwrap();
    let error = client
        .describe_rule_attribute(&DescribeRuleAttributeRequest { rule_id })
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    client
        .delete_vserver_group(&DeleteVServerGroupRequest {
            v_server_group_id: second,
        })
        .await
        .unwrap();

    // Master-slave groups.
    let create = CreateMasterSlaveServerGroupRequest {
        load_balancer_id: lb.clone(),
        master_slave_server_group_name: "ha".to_owned(),
        master_slave_backend_servers: vec![
            MasterSlaveBackendServer {
                server_id: "i-1".to_owned(),
                port: Some(80),
                weight: Some(100),
                server_type: Some(MasterSlaveServerType::Master),
            },
            MasterSlaveBackendServer {
                server_id: "i-2".to_owned(),
                port: Some(80),
                weight: Some(100),
                server_type: Some(MasterSlaveServerType::Slave),
            },
        ],
    };
    let group = client
        .create_master_slave_server_group(&create)
        .await
        .unwrap();
    assert!(!group.master_slave_server_group_id.is_empty());
    let id = group.master_slave_server_group_id;
    let describe = DescribeMasterSlaveServerGroupAttributeRequest {
        master_slave_server_group_id: id.clone(),
    };
    let attribute = client
        .describe_master_slave_server_group_attribute(&describe)
        .await
        .unwrap();
    assert_eq!(attribute.master_slave_backend_servers.len(), 2);
    let groups = client
        .describe_master_slave_server_groups(&DescribeMasterSlaveServerGroupsRequest {
            load_balancer_id: lb.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        groups.master_slave_server_groups[0].master_slave_server_group_name,
        "ha"
    );
    let delete = DeleteMasterSlaveServerGroupRequest {
        master_slave_server_group_id: id,
    };
    client
        .delete_master_slave_server_group(&delete)
        .await
        .unwrap();
    let error = client
        .describe_master_slave_server_group_attribute(&describe)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");

    client
        .delete_vserver_group(&DeleteVServerGroupRequest {
            v_server_group_id: group_id.clone(),
        })
        .await
        .unwrap();
    let error = client
        .describe_vserver_group_attribute(&DescribeVServerGroupAttributeRequest {
            v_server_group_id: group_id,
        })
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn tags() {
    let (_emulator, client) = start().await;
    let lb = create_lb(&client, "tagged").await;
    let add = AddTagsRequest {
        load_balancer_id: lb.clone(),
        tags: vec![Tag::new("app", "web"), Tag::new("env", "prod")],
    };
    client.add_tags(&add).await.unwrap();
    let describe = DescribeTagsRequest {
        load_balancer_id: Some(lb.clone()),
        ..Default::default()
    };
    let tags = client.describe_tags(&describe).await.unwrap();
    let mut keys: Vec<_> = tags.tag_sets.iter().map(|t| t.tag_key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, vec!["app", "env"]);
    let filter = DescribeLoadBalancersRequest {
        tags: vec![Tag::new("app", "web")],
        ..Default::default()
    };
    assert_eq!(
        client
            .describe_load_balancers(&filter)
            .await
            .unwrap()
            .load_balancers
            .len(),
        1
    );

    let remove = RemoveTagsRequest {
        load_balancer_id: lb.clone(),
        tags: vec![Tag::new("env", "prod")],
    };
    client.remove_tags(&remove).await.unwrap();
    let tags = client.describe_tags(&describe).await.unwrap();
    assert_eq!(tags.tag_sets.len(), 1);

    let unknown = AddTagsRequest {
        load_balancer_id: "lb-missing".to_owned(),
        ..add
    };
    assert!(client.add_tags(&unknown).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn get_and_xml_work_too() {
    let (emulator, _) = start().await;
    let mut config = config(&emulator);
    config.method = HttpMethod::Get;
    config.format = ResponseFormat::Xml;
    let client = Client::new(config).unwrap();
    let lb = create_lb(&client, "xml").await;
    let attribute = DescribeLoadBalancerAttributeRequest {
        load_balancer_id: lb.clone(),
        ..Default::default()
    };
    assert_eq!(
        client
            .describe_load_balancer_attribute(&attribute)
            .await
            .unwrap()
            .load_balancer_name,
        "xml"
    );
    let listed = client
        .describe_load_balancers(&DescribeLoadBalancersRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.load_balancers.len(), 1);
    let error = client
        .describe_load_balancer_attribute(&DescribeLoadBalancerAttributeRequest {
            load_balancer_id: "lb-missing".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error() {
    let (emulator, _) = start().await;
    let mut config = config(&emulator);
    config.credentials = Credentials::new(DEMO_ACCESS_KEY_ID, "wrong-secret").unwrap();
    let client = Client::new(config).unwrap();
    let error = client
        .describe_regions(&DescribeRegionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.category(), "auth", "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn transient_failures_are_retried_and_bounded() {
    let (emulator, _) = start().await;
    let mut config = config(&emulator);
    config.retry = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(5),
    };
    let client = Client::new(config).unwrap();
    emulator.set_faults(Faults {
        error_503_rate: 1.0,
        ..Faults::default()
    });
    let error = client
        .describe_regions(&DescribeRegionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ServiceUnavailable"), "{error}");
    assert_eq!(emulator.calls().len(), 4);

    let mut patient = self::config(&emulator);
    patient.retry = RetryPolicy {
        max_attempts: 12,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(5),
    };
    let client = Client::new(patient).unwrap();
    emulator.set_faults(Faults {
        error_500_rate: 0.5,
        seed: 7,
        ..Faults::default()
    });
    for _ in 0..10 {
        client
            .describe_regions(&DescribeRegionsRequest::default())
            .await
            .unwrap();
    }

    emulator.set_faults(Faults {
        qps_limit: Some(1),
        ..Faults::default()
    });
    let no_retry = Client::new(self::config(&emulator)).unwrap();
    let results: Vec<_> = [
        no_retry
            .describe_zones(&DescribeZonesRequest::default())
            .await,
        no_retry
            .describe_zones(&DescribeZonesRequest::default())
            .await,
        no_retry
            .describe_zones(&DescribeZonesRequest::default())
            .await,
    ]
    .into_iter()
    .collect();
    let throttled = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .find(|e| e.category() == "throttled");
    let throttled = throttled.unwrap_or_else(|| panic!("no call was throttled: {results:?}"));
    assert!(throttled.is_retryable());
}

#[tokio::test]
async fn a_hung_call_times_out() {
    let (emulator, _) = start().await;
    let mut config = config(&emulator);
    config.timeout = Duration::from_millis(200);
    let client = Client::new(config).unwrap();
    emulator.set_faults(Faults {
        hang_rate: 1.0,
        hang_ms: 2_000,
        ..Faults::default()
    });
    let error = client
        .describe_regions(&DescribeRegionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.category(), "timeout", "{error}");
    assert!(error.is_retryable());
}
