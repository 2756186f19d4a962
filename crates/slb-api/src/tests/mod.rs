//! The reference's response examples decode (repaired only where they are not JSON/XML at all), requests
//! encode to the reference's parameter names, and the documented constraints are enforced.

use crate::action::{Action, Validate, to_params};
use crate::client::decode_response;
use crate::*;
use std::collections::BTreeMap;

mod listener_wire;

fn decode<A: Action>(body: &str) -> A::Response {
    decode_response::<A::Response>(A::NAME, 200, body).unwrap()
}

fn params<A: Action>(request: &A) -> BTreeMap<String, String> {
    request.validate().unwrap();
    to_params(request).unwrap().into_iter().collect()
}

fn invalid<A: Action>(request: &A) -> String {
    request.validate().unwrap_err().0
}

/// A master-slave server on port 80, of the service's default weight and server type.
fn port_80_server(server_id: &str) -> MasterSlaveBackendServer {
    MasterSlaveBackendServer {
        server_id: server_id.to_owned(),
        port: Some(80),
        ..Default::default()
    }
}

/// `CreateMasterSlaveServerGroup` of group `ms` on `lb-1` with these servers.
fn master_slave_group(
    servers: Vec<MasterSlaveBackendServer>,
) -> CreateMasterSlaveServerGroupRequest {
    CreateMasterSlaveServerGroupRequest {
        load_balancer_id: "lb-1".to_owned(),
        master_slave_server_group_name: "ms".to_owned(),
        master_slave_backend_servers: servers,
    }
}

#[test]
fn describe_load_balancers_example() {
    // The example's missing comma is repaired; the padded "LoadBalancerStatus " key is kept.
    let body = r#"{"RequestId": "365F4154","LoadBalancers": {"LoadBalancer": [
        {"LoadBalancerId": "139a00604ad-cn-east-hangzhou-01","LoadBalancerName": "abc","Address": "100.98.28.56",
         "AddressType": "intranet","RegionId": "cn-east-hangzhou-01","VSwitchId": "vsw-255ecrwq4","VpcId": "vpc-25dvzy9f9",
         "NetworkType": "vpc","LoadBalancerStatus ": "active","MasterZoneId":"cn-hangzhou-b","SlaveZoneId":"cn-hangzhou-d",
         "Bandwidth": "5"}]}}"#;
    let response = decode::<DescribeLoadBalancersRequest>(body);
    let lb = &response.load_balancers[0];
    assert_eq!(lb.load_balancer_status, Some(LoadBalancerStatus::Active));
    assert_eq!(lb.address_type, Some(AddressType::Intranet));
    assert_eq!(lb.network_type, Some(NetworkType::Vpc));
    assert_eq!(lb.vswitch_id.as_deref(), Some("vsw-255ecrwq4"));
    assert_eq!(lb.bandwidth, Some(5));
}

#[test]
fn describe_load_balancer_attribute_examples() {
    let json = r#"{"RequestId": "365F4154","LoadBalancerId": "139a00604ad-cn-east-hangzhou-01","LoadBalancerName": "abc",
        "LoadBalancerStatus ": "active","Address": "42.250.6.36","AddressType": "internet","InternetChargeType": "paybybandwidth",
        "Bandwidth": "5","CreateTime": "2014-01-01 00:00:00","ListenerPorts": {"ListenerPort": [80,443]},
        "BackendServers": {"BackendServer": [{"ServerId": "vm-233","Weight": 100},{"ServerId": "vm-234","Weight": 90}]},
        "VswitchId": "vsw-1","ListenerPortsAndProtocal": {"ListenerPortAndProtocal": [{"ListenerPort": 80, "ListenerProtocal": "http"}]},
        "MasterZoneId":"cn-hangzhou-b","SlaveZoneId":"cn-hangzhou-d"}"#;
    let response = decode::<DescribeLoadBalancerAttributeRequest>(json);
    assert_eq!(response.bandwidth, Some(5));
    assert_eq!(response.listener_ports, vec![80, 443]);
    assert_eq!(response.backend_servers[1].weight, Some(90));
    assert_eq!(
        response.internet_charge_type,
        Some(InternetChargeType::PayByBandwidth)
    );
    assert_eq!(response.vswitch_id.as_deref(), Some("vsw-1"));
    assert_eq!(
        response.listener_ports_and_protocol[0].listener_protocol,
        Some(ListenerProtocol::Http)
    );
}

#[test]
fn describe_zones_examples() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8" ?>
<RequestId>A48D35FF</RequestId>
<Zones><Zone><SlaveZones></SlaveZones><ZoneId>cn-beijing-b</ZoneId><LocalName>北京可用区B</LocalName></Zone></Zones>"#;
    let response = decode::<DescribeZonesRequest>(xml);
    assert_eq!(response.request_id, "A48D35FF");
    assert_eq!(response.zones[0].zone_id, "cn-beijing-b");
    assert!(response.zones[0].slave_zones.is_empty());
    let json = r#"{"RequestId": "1FF3C0EC","Zones": {"Zone": [{"ZoneId": "cn-beijing-b","LocalName": "北京可用区B",
        "SlaveZones":{"SlaveZone":[{"ZoneId":"cn-beijing-c","LocalName":"C"}]}}]}}"#;
    let response = decode::<DescribeZonesRequest>(json);
    assert_eq!(response.zones[0].slave_zones[0].zone_id, "cn-beijing-c");
}

#[test]
fn listener_attribute_examples() {
    let json = r#"{"RequestId":"365F4154","ListenerPort":443,"BackendServerPort":443,"Bandwidth":-1,"Status":"stopped",
        "Schedule":"wrr","StickySession":"on","PersistenceTimeout":0,"MaterSlaveServerGroupId":"rsp-1",
        "HealthCheckConnectTimeout":"5","HealthCheckHttpCode":"http_2xx,http_3xx"}"#;
    let response = decode::<DescribeLoadBalancerTCPListenerAttributeRequest>(json);
    assert_eq!(response.status, Some(ListenerStatus::Stopped));
    assert_eq!(response.scheduler, Some(Scheduler::WeightedRoundRobin));
    assert_eq!(response.bandwidth, Some(-1));
    assert_eq!(
        response.master_slave_server_group_id.as_deref(),
        Some("rsp-1")
    );
    assert_eq!(response.health.health_check_timeout, Some(5));
    assert_eq!(
        response.health.health_check_http_code,
        vec![HealthCheckHttpCode::Http2xx, HealthCheckHttpCode::Http3xx]
    );

    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeLoadBalancerHTTPSListenerAttributeResponse><RequestId>365F4154</RequestId><ListenerPort>80</ListenerPort>
<BackendServerPort>80</BackendServerPort><Bandwidth>-1</Bandwidth><Status>stopped</Status><Schedule>wrr</Schedule>
<XForwardedFor>on</XForwardedFor><ServerCertificateId>idkp-123-cn-test-01</ServerCertificateId>
<CACertificateId>idkp-234-cn-test-02</CACertificateId></DescribeLoadBalancerHTTPSListenerAttributeResponse>"#;
    let response = decode::<DescribeLoadBalancerHTTPSListenerAttributeRequest>(xml);
    assert_eq!(response.listener_port, Some(80));
    assert_eq!(response.x_forwarded_for, Some(OnOff::On));
    assert_eq!(
        response.ca_certificate_id.as_deref(),
        Some("idkp-234-cn-test-02")
    );
}

#[test]
fn access_control_example() {
    let json = r#"{"RequestId":"365F4154","AccessControlStatus":"open_white_list","SourceItems":"1.1.1.1,1.1.1.0/21"}"#;
    let response = decode::<DescribeListenerAccessControlAttributeRequest>(json);
    assert_eq!(
        response.access_control_status,
        Some(AccessControlStatus::OpenWhiteList)
    );
    assert_eq!(response.source_items, vec!["1.1.1.1", "1.1.1.0/21"]);
}

#[test]
fn server_group_examples() {
    // The examples' single quotes are repaired; quoted numbers are kept.
    let json = r#"{"RequestId":"9DEC9C28","VServerGroupId":"rsp-cige6j5e7p","BackendServers":{"BackendServer":[
        {"ServerId":"vm-233","Port":"80","Weight":"100"},{"ServerId":"vm-232","Port":"90","Weight":"100"}]}}"#;
    let response = decode::<CreateVServerGroupRequest>(json);
    assert_eq!(response.backend_servers[1].port, Some(90));
    let json = r#"{"RequestId":"9DEC9C28","MasterSlaveVServerGroupId":"rsp-cige6j5e7p","MasterSlaveVServerGroupName":"Group1",
        "MasterSlaveBackendServers":{"MasterSlaveBackendServers":[
        {"ServerId":"vm-232","Port":"80","Weight":"100","ServerType":"Master"},
        {"ServerId":"vm-233","Port":"90","Weight":"100","ServerType":"Slave"}]}}"#;
    let response = decode::<DescribeMasterSlaveServerGroupAttributeRequest>(json);
    assert_eq!(response.master_slave_server_group_id, "rsp-cige6j5e7p");
    assert_eq!(
        response.master_slave_server_group_name.as_deref(),
        Some("Group1")
    );
    assert_eq!(
        response.master_slave_backend_servers[1].server_type,
        Some(MasterSlaveServerType::Slave)
    );
    let json = r#"{"RequestId":"r","VServerGroups":{"VServerGroup":[{"VServerGroupId":"rsp-1","VServerGroupName":"G1"}]}}"#;
    assert_eq!(
        decode::<DescribeVServerGroupsRequest>(json).v_server_groups[0].v_server_group_name,
        "G1"
    );
}

#[test]
fn health_status_example() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?><DescribeBackendServersResponse><RequestId>365F4154</RequestId>
<BackendServers><BackendServer><ServerId>vm-233</ServerId><ServerHealthStatus>normal</ServerHealthStatus></BackendServer>
<BackendServer><ServerId>vm-234</ServerId><ServerHealthStatus>abnormal</ServerHealthStatus></BackendServer></BackendServers>
</DescribeBackendServersResponse>"#;
    let response = decode::<DescribeHealthStatusRequest>(xml);
    assert_eq!(
        response.backend_servers[1].server_health_status,
        Some(ServerHealthStatus::Abnormal)
    );
}

#[test]
fn rules_examples() {
    let xml = r#"<?xml version="1.0" encoding="utf-8"?><DescribeRules><RequestId>9DEC9C28</RequestId><RuleList>
<Rule><RuleId>rule-3ejhktkaeu</RuleId><RuleName>Rule1</RuleName><Domain>abc.com</Domain><Url>/image</Url>
<VServerGroupId>rsp-cige6j5e7p</VServerGroupId></Rule></RuleList></DescribeRules>"#;
    assert_eq!(
        decode::<DescribeRulesRequest>(xml).rules[0].rule_id,
        "rule-3ejhktkaeu"
    );
    let json = r#"{"RequestId":"9DEC9C28","RuleList":[{"RuleId":"rule-1","RuleName":"Rule1","Url":"/image"}]}"#;
    assert_eq!(
        decode::<DescribeRulesRequest>(json).rules[0].url.as_deref(),
        Some("/image")
    );
    let json =
        r#"{"RequestId":"9DEC9C28","Rules":{"Rule":[{"RuleId":"rule-2","RuleName":"Rule2"}]}}"#;
    assert_eq!(
        decode::<DescribeRulesRequest>(json).rules[0].rule_name,
        "Rule2"
    );
    let json = r#"{"RequestId":"9DEC9C28","RuleName":"Rule1","LoadBalancerId":"lb","ListenerPort":"80","Domain":"abc.com"}"#;
    assert_eq!(
        decode::<DescribeRuleAttributeRequest>(json).listener_port,
        Some(80)
    );
}

#[test]
fn tags_and_certificates_examples() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?><DescribeTagsResponse><RequestId>365F4154</RequestId><TagSets>
<TagSet><TagKey>test</TagKey><TagValue>api</TagValue></TagSet></TagSets><PageSize>50</PageSize><PageNumber>1</PageNumber>
<TotalCount>1</TotalCount></DescribeTagsResponse>"#;
    let response = decode::<DescribeTagsRequest>(xml);
    assert_eq!(
        (response.tag_sets[0].tag_key.as_str(), response.total_count),
        ("test", Some(1))
    );
    // Padded keys as in the example.
    let json = r#"{"RequestId":"365F4154"," ServerCertificates":{" ServerCertificate":[
        {" ServerCertificateId":"139a00604ad-cn-east-hangzhou-01"," ServerCertificateName":"abe"," Fingerprint ":"A:B:E"}]}}"#;
    let response = decode::<DescribeServerCertificatesRequest>(json);
    assert_eq!(response.server_certificates[0].fingerprint, "A:B:E");
    let json = r#"{"RequestId":"365F4154","ServerCertificateId":"idkp-234-cn-test-02","ServerCertificateName":"mycacert01",
        "Fingerprint":"02:DF:AB:ED"}"#;
    assert_eq!(
        decode::<UploadCACertificateRequest>(json).ca_certificate_id,
        "idkp-234-cn-test-02"
    );
    // Write actions' JSON examples pad the RequestId.
    assert_eq!(
        decode::<DeleteLoadBalancerRequest>(r#"{"RequestId":" CEF72CEB"}"#).request_id,
        "CEF72CEB"
    );
}

#[test]
fn parameter_names_are_the_references() {
    let https = CreateLoadBalancerHTTPSListenerRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 443,
        backend_server_port: 80,
        server_certificate_id: "cert-1".to_owned(),
        ca_certificate_id: Some("ca-1".to_owned()),
        settings: HttpListenerSettings {
            bandwidth: -1,
            x_forwarded_for: XForwardedFor {
                slb_ip: Some(OnOff::On),
                ..Default::default()
            },
            sticky_session: StickySession {
                enabled: OnOff::On,
                session_type: Some(StickySessionType::Server),
                cookie: Some("SESSIONID".to_owned()),
                ..Default::default()
            },
            health_check: OnOff::On,
            http_health_check: HttpHealthCheck {
                uri: Some("/healthz".to_owned()),
                http_codes: vec![HealthCheckHttpCode::Http2xx, HealthCheckHttpCode::Http3xx],
                ..Default::default()
            },
            health_check_connect_port: Some(-520),
            health_check_timing: HealthCheckTiming {
                healthy_threshold: Some(3),
                unhealthy_threshold: Some(3),
                timeout: Some(5),
                interval: Some(2),
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let p = params(&https);
    for (name, value) in [
        ("XForwardedFor_SLBIP", "on"),
        ("StickySessionType", "server"),
        ("HealthCheckURI", "/healthz"),
        ("HealthCheckConnectPort", "-520"),
        ("HealthCheckHttpCode", "http_2xx,http_3xx"),
        ("CACertificateId", "ca-1"),
        ("Bandwidth", "-1"),
    ] {
        assert_eq!(p[name], value, "{name}");
    }
    assert!(!p.contains_key("CookieTimeout") && !p.contains_key("VServerGroupId"));

    let tags = AddTagsRequest {
        load_balancer_id: "lb-1".to_owned(),
        tags: vec![Tag::new("app", "web")],
    };
    let p = params(&tags);
    assert_eq!(p["LoadBalancerID"], "lb-1");
    assert_eq!(p["Tags"], r#"[{"TagKey":"app","TagValue":"web"}]"#);

    let describe = DescribeLoadBalancersRequest {
        load_balancer_id: vec!["lb-1".to_owned(), "lb-2".to_owned()],
        vswitch_id: Some("vsw-1".to_owned()),
        ..Default::default()
    };
    let p = params(&describe);
    assert_eq!(
        (p["LoadBalancerId"].as_str(), p["VswitchId"].as_str()),
        ("lb-1,lb-2", "vsw-1")
    );
    assert!(!p.contains_key("Tags") && !p.contains_key("LoadBalancerName"));

    let group = master_slave_group(vec![
        port_80_server("i-1"),
        MasterSlaveBackendServer {
            weight: Some(100),
            server_type: Some(MasterSlaveServerType::Slave),
            ..port_80_server("i-2")
        },
    ]);
    let p = params(&group);
    assert_eq!(p["MasterSlaveServerGroupName"], "ms");
    assert_eq!(
        p["MasterSlaveBackendServers"],
        r#"[{"Port":80,"ServerId":"i-1"},{"Port":80,"ServerId":"i-2","ServerType":"Slave","Weight":100}]"#
    );

    let rules = CreateRulesRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
        rule_list: vec![NewRule {
            rule_name: "r1".to_owned(),
            url: Some("/img".to_owned()),
            ..Default::default()
        }],
    };
    assert_eq!(
        params(&rules)["RuleList"],
        r#"[{"RuleName":"r1","Url":"/img"}]"#
    );
    let delete = DeleteRulesRequest {
        rule_ids: vec!["rule-1".to_owned(), "rule-2".to_owned()],
    };
    assert_eq!(params(&delete)["RuleIds"], r#"["rule-1","rule-2"]"#);

    let white_list = AddListenerWhiteListItemRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
        source_items: vec!["1.1.1.1".to_owned(), "1.1.1.0/24".to_owned()],
    };
    assert_eq!(params(&white_list)["SourceItems"], "1.1.1.1,1.1.1.0/24");

    let pay = ModifyLoadBalancerPayTypeRequest {
        load_balancer_id: "lb-1".to_owned(),
        pay_type: PayType::PrePay,
        pricing_cycle: PricingCycle::Month,
        duration: 3,
        auto_pay: true,
    };
    let p = params(&pay);
    assert_eq!(
        (
            p["PayType"].as_str(),
            p["PricingCycle"].as_str(),
            p["AutoPay"].as_str()
        ),
        ("PrePay", "month", "true")
    );
}

#[test]
fn conditional_requirements_are_enforced() {
    let base = CreateLoadBalancerHTTPListenerRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
        backend_server_port: 80,
        settings: HttpListenerSettings {
            bandwidth: -1,
            ..Default::default()
        },
        ..Default::default()
    };
    base.validate().unwrap();

    // `base` with one setting changed.
    let with = |change: &dyn Fn(&mut HttpListenerSettings)| {
        let mut request = base.clone();
        change(&mut request.settings);
        request
    };
    let with_sticky = |sticky: StickySession| with(&|s| s.sticky_session = sticky.clone());
    let sticky = StickySession {
        enabled: OnOff::On,
        ..Default::default()
    };
    assert!(invalid(&with_sticky(sticky.clone())).contains("StickySessionType"));
    let insert = StickySession {
        session_type: Some(StickySessionType::Insert),
        ..sticky.clone()
    };
    assert!(invalid(&with_sticky(insert.clone())).contains("CookieTimeout"));
    let too_long = StickySession {
        cookie_timeout: Some(86_401),
        ..insert
    };
    assert!(invalid(&with_sticky(too_long)).contains("CookieTimeout"));
    let server = StickySession {
        session_type: Some(StickySessionType::Server),
        ..sticky
    };
    assert!(invalid(&with_sticky(server.clone())).contains("Cookie"));
    let dollar = StickySession {
        cookie: Some("$abc".to_owned()),
        ..server.clone()
    };
    assert!(invalid(&with_sticky(dollar)).contains('$'));
    let semicolon = StickySession {
        cookie: Some("a;b".to_owned()),
        ..server
    };
    assert!(invalid(&with_sticky(semicolon)).contains("Cookie"));

    let health = with(&|s| s.health_check = OnOff::On);
    assert!(invalid(&health).contains("HealthCheckURI"));
    let with_uri = |uri: &str, mut request: CreateLoadBalancerHTTPListenerRequest| {
        request.settings.http_health_check = HttpHealthCheck {
            uri: Some(uri.to_owned()),
            ..Default::default()
        };
        request
    };
    let mut complete = with_uri("/", health);
    complete.settings.health_check_connect_port = Some(80);
    complete.settings.health_check_timing = HealthCheckTiming {
        healthy_threshold: Some(3),
        unhealthy_threshold: Some(3),
        timeout: Some(5),
        interval: Some(2),
    };
    complete.validate().unwrap();
    let mut interval = complete.clone();
    interval.settings.health_check_timing.interval = Some(6);
    assert!(invalid(&interval).contains("HealthCheckInterval"));
    assert!(invalid(&with_uri("healthz", complete)).contains("start with '/'"));

    for bandwidth in [0, -2, 1001] {
        assert!(invalid(&with(&|s| s.bandwidth = bandwidth)).contains("Bandwidth"));
    }
    let port = CreateLoadBalancerHTTPListenerRequest {
        listener_port: 0,
        ..base
    };
    assert!(invalid(&port).contains("ListenerPort"));

    let tcp = CreateLoadBalancerTCPListenerRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 443,
        backend_server_port: 443,
        bandwidth: 10,
        server_groups: ServerGroupIds {
            v_server_group_id: Some("rsp-1".to_owned()),
            master_slave_server_group_id: Some("rsp-2".to_owned()),
        },
        ..Default::default()
    };
    assert!(invalid(&tcp).contains("mutually exclusive"));
    let set_udp = SetLoadBalancerUDPListenerAttributeRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 53,
        bandwidth: -1,
        server_groups: ServerGroupSwitches {
            v_server_group: Some(OnOff::On),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(invalid(&set_udp).contains("VServerGroupId"));
}

#[test]
fn list_limits_and_names_are_enforced() {
    let servers = |n: usize| -> Vec<BackendServer> {
        (0..n)
            .map(|i| BackendServer {
                server_id: format!("i-{i}"),
                weight: Some(100),
            })
            .collect()
    };
    let add = AddBackendServersRequest {
        load_balancer_id: "lb-1".to_owned(),
        backend_servers: servers(20),
    };
    add.validate().unwrap();
    let too_many = AddBackendServersRequest {
        backend_servers: servers(21),
        ..add.clone()
    };
    assert!(invalid(&too_many).contains("at most 20"));
    let heavy = AddBackendServersRequest {
        backend_servers: vec![BackendServer {
            server_id: "i-1".to_owned(),
            weight: Some(101),
        }],
        ..add
    };
    assert!(invalid(&heavy).contains("Weight"));

    let name = SetLoadBalancerNameRequest {
        load_balancer_id: "lb-1".to_owned(),
        load_balancer_name: "a b".to_owned(),
    };
    assert!(invalid(&name).contains("LoadBalancerName"));
    let locked = SetLoadBalancerStatusRequest {
        load_balancer_id: "lb-1".to_owned(),
        load_balancer_status: LoadBalancerStatus::Locked,
    };
    assert!(invalid(&locked).contains("locked"));

    let tags = AddTagsRequest {
        load_balancer_id: "lb-1".to_owned(),
        tags: (0..6).map(|i| Tag::new(format!("k{i}"), "v")).collect(),
    };
    assert!(invalid(&tags).contains("at most 5"));
    let reserved = AddTagsRequest {
        load_balancer_id: "lb-1".to_owned(),
        tags: vec![Tag::new("aliyun-x", "v")],
    };
    assert!(invalid(&reserved).contains("aliyun"));

    // Both default to Master.
    let two_masters = master_slave_group(vec![port_80_server("i-1"), port_80_server("i-2")]);
    assert!(invalid(&two_masters).contains("one Master and one Slave"));

    let rule = CreateRulesRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
        rule_list: vec![NewRule {
            rule_name: "r".to_owned(),
            ..Default::default()
        }],
    };
    assert!(invalid(&rule).contains("Domain or a Url"));

    let pay = ModifyLoadBalancerPayTypeRequest {
        load_balancer_id: "lb-1".to_owned(),
        pay_type: PayType::PrePay,
        pricing_cycle: PricingCycle::Year,
        duration: 4,
        auto_pay: false,
    };
    assert!(invalid(&pay).contains("Duration"));

    let all = AddListenerWhiteListItemRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
        source_items: vec!["0.0.0.0/0".to_owned()],
    };
    assert!(invalid(&all).contains("0.0.0.0"));
}
