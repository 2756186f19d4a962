//! Every parameter the eight Create/Set listener requests send, written out in full.

use crate::action::{Action, to_params};
use crate::*;

/// The parameters `request` encodes to, against `expected` written out in full; both sorted by name, as
/// the signature sorts them anyway.
fn assert_wire<A: Action>(request: &A, expected: &[(&str, &str)]) {
    let mut actual = to_params(request).unwrap();
    actual.sort();
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(actual, expected, "{}", A::NAME);
}

#[test]
fn fully_populated_listener_requests_encode_every_parameter() {
    let http = CreateLoadBalancerHTTPListenerRequest {
        load_balancer_id: "lb-1".to_owned(),
        listener_port: 80,
        backend_server_port: 8080,
        v_server_group_id: Some("rsp-1".to_owned()),
        settings: HttpListenerSettings {
            bandwidth: 50,
            x_forwarded_for: XForwardedFor {
                enabled: Some(OnOff::On),
                slb_ip: Some(OnOff::On),
                slb_id: Some(OnOff::Off),
                proto: Some(OnOff::On),
            },
            scheduler: Some(Scheduler::WeightedLeastConnections),
            sticky_session: StickySession {
                enabled: OnOff::On,
                session_type: Some(StickySessionType::Insert),
                cookie_timeout: Some(600),
                cookie: Some("SESSIONID".to_owned()),
            },
            health_check: OnOff::On,
            http_health_check: HttpHealthCheck {
                domain: Some("example.com".to_owned()),
                uri: Some("/healthz".to_owned()),
                http_codes: vec![HealthCheckHttpCode::Http2xx, HealthCheckHttpCode::Http3xx],
            },
            health_check_connect_port: Some(8081),
            health_check_timing: HealthCheckTiming {
                healthy_threshold: Some(4),
                unhealthy_threshold: Some(6),
                timeout: Some(7),
                interval: Some(3),
            },
            gzip: Some(OnOff::Off),
        },
    };
    assert_wire(
        &http,
        &[
            ("LoadBalancerId", "lb-1"),
            ("ListenerPort", "80"),
            ("BackendServerPort", "8080"),
            ("Bandwidth", "50"),
            ("XForwardedFor", "on"),
            ("XForwardedFor_SLBIP", "on"),
            ("XForwardedFor_SLBID", "off"),
            ("XForwardedFor_proto", "on"),
            ("Scheduler", "wlc"),
            ("StickySession", "on"),
            ("StickySessionType", "insert"),
            ("CookieTimeout", "600"),
            ("Cookie", "SESSIONID"),
            ("HealthCheck", "on"),
            ("HealthCheckDomain", "example.com"),
            ("HealthCheckURI", "/healthz"),
            ("HealthCheckConnectPort", "8081"),
            ("HealthyThreshold", "4"),
            ("UnhealthyThreshold", "6"),
            ("HealthCheckTimeout", "7"),
            ("HealthCheckInterval", "3"),
            ("HealthCheckHttpCode", "http_2xx,http_3xx"),
            ("VServerGroupId", "rsp-1"),
            ("Gzip", "off"),
        ],
    );

    let https = CreateLoadBalancerHTTPSListenerRequest {
        load_balancer_id: "lb-2".to_owned(),
        listener_port: 443,
        backend_server_port: 8443,
        server_certificate_id: "cert-1".to_owned(),
        ca_certificate_id: Some("ca-1".to_owned()),
        v_server_group_id: Some("rsp-2".to_owned()),
        settings: HttpListenerSettings {
            bandwidth: -1,
            x_forwarded_for: XForwardedFor {
                enabled: Some(OnOff::Off),
                slb_ip: Some(OnOff::Off),
                slb_id: Some(OnOff::On),
                proto: Some(OnOff::Off),
            },
            scheduler: Some(Scheduler::RoundRobin),
            sticky_session: StickySession {
                enabled: OnOff::On,
                session_type: Some(StickySessionType::Server),
                cookie_timeout: Some(30),
                cookie: Some("JSESSIONID".to_owned()),
            },
            health_check: OnOff::Off,
            http_health_check: HttpHealthCheck {
                domain: Some("$_ip".to_owned()),
                uri: Some("/ready".to_owned()),
                http_codes: vec![HealthCheckHttpCode::Http4xx, HealthCheckHttpCode::Http5xx],
            },
            health_check_connect_port: Some(-520),
            health_check_timing: HealthCheckTiming {
                healthy_threshold: Some(2),
                unhealthy_threshold: Some(9),
                timeout: Some(50),
                interval: Some(5),
            },
            gzip: Some(OnOff::On),
        },
    };
    assert_wire(
        &https,
        &[
            ("LoadBalancerId", "lb-2"),
            ("ListenerPort", "443"),
            ("BackendServerPort", "8443"),
            ("Bandwidth", "-1"),
            ("XForwardedFor", "off"),
            ("XForwardedFor_SLBIP", "off"),
            ("XForwardedFor_SLBID", "on"),
            ("XForwardedFor_proto", "off"),
            ("Scheduler", "rr"),
            ("StickySession", "on"),
            ("StickySessionType", "server"),
            ("CookieTimeout", "30"),
            ("Cookie", "JSESSIONID"),
            ("HealthCheck", "off"),
            ("HealthCheckDomain", "$_ip"),
            ("HealthCheckURI", "/ready"),
            ("HealthCheckConnectPort", "-520"),
            ("HealthyThreshold", "2"),
            ("UnhealthyThreshold", "9"),
            ("HealthCheckTimeout", "50"),
            ("HealthCheckInterval", "5"),
            ("HealthCheckHttpCode", "http_4xx,http_5xx"),
            ("ServerCertificateId", "cert-1"),
            ("CACertificateId", "ca-1"),
            ("VServerGroupId", "rsp-2"),
            ("Gzip", "on"),
        ],
    );

    let tcp = CreateLoadBalancerTCPListenerRequest {
        load_balancer_id: "lb-3".to_owned(),
        listener_port: 3306,
        backend_server_port: 3307,
        bandwidth: 10,
        scheduler: Some(Scheduler::WeightedRoundRobin),
        persistence_timeout: Some(120),
        health_check_type: Some(HealthCheckType::Http),
        http_health_check: HttpHealthCheck {
            domain: Some("db.example.com".to_owned()),
            uri: Some("/status".to_owned()),
            http_codes: vec![HealthCheckHttpCode::Http2xx],
        },
        health_check_connect_port: Some(9000),
        health_check_timing: HealthCheckTiming {
            healthy_threshold: Some(1),
            unhealthy_threshold: Some(10),
            timeout: Some(8),
            interval: Some(4),
        },
        server_groups: ServerGroupIds {
            v_server_group_id: Some("rsp-3".to_owned()),
            master_slave_server_group_id: Some("msg-3".to_owned()),
        },
        established_timeout: Some(300),
    };
    assert_wire(
        &tcp,
        &[
            ("LoadBalancerId", "lb-3"),
            ("ListenerPort", "3306"),
            ("BackendServerPort", "3307"),
            ("Bandwidth", "10"),
            ("Scheduler", "wrr"),
            ("PersistenceTimeout", "120"),
            ("HealthCheckType", "http"),
            ("HealthCheckDomain", "db.example.com"),
            ("HealthCheckURI", "/status"),
            ("HealthCheckConnectPort", "9000"),
            ("HealthyThreshold", "1"),
            ("UnhealthyThreshold", "10"),
            ("HealthCheckTimeout", "8"),
            ("HealthCheckInterval", "4"),
            ("HealthCheckHttpCode", "http_2xx"),
            ("VServerGroupId", "rsp-3"),
            ("MasterSlaveServerGroupId", "msg-3"),
            ("EstablishedTimeout", "300"),
        ],
    );

    let udp = CreateLoadBalancerUDPListenerRequest {
        load_balancer_id: "lb-4".to_owned(),
        listener_port: 53,
        backend_server_port: 5353,
        bandwidth: Some(20),
        scheduler: Some(Scheduler::WeightedRoundRobin),
        persistence_timeout: Some(60),
        health_check_connect_port: Some(5354),
        health_check_timing: HealthCheckTiming {
            healthy_threshold: Some(5),
            unhealthy_threshold: Some(2),
            timeout: Some(9),
            interval: Some(1),
        },
        server_groups: ServerGroupIds {
            v_server_group_id: Some("rsp-4".to_owned()),
            master_slave_server_group_id: Some("msg-4".to_owned()),
        },
        health_check_req: Some("ping".to_owned()),
        health_check_exp: Some("pong".to_owned()),
    };
    assert_wire(
        &udp,
        &[
            ("LoadBalancerId", "lb-4"),
            ("ListenerPort", "53"),
            ("BackendServerPort", "5353"),
            ("Bandwidth", "20"),
            ("Scheduler", "wrr"),
            ("PersistenceTimeout", "60"),
            ("HealthCheckConnectPort", "5354"),
            ("HealthyThreshold", "5"),
            ("UnhealthyThreshold", "2"),
            ("HealthCheckTimeout", "9"),
            ("HealthCheckInterval", "1"),
            ("VServerGroupId", "rsp-4"),
            ("MasterSlaveServerGroupId", "msg-4"),
            ("HealthCheckReq", "ping"),
            ("HealthCheckExp", "pong"),
        ],
    );

    let set_http = SetLoadBalancerHTTPListenerAttributeRequest {
        load_balancer_id: "lb-5".to_owned(),
        listener_port: 8000,
        v_server_group: Some(OnOff::On),
        v_server_group_id: Some("rsp-5".to_owned()),
        settings: HttpListenerSettings {
            bandwidth: 100,
            x_forwarded_for: XForwardedFor {
                enabled: Some(OnOff::On),
                slb_ip: Some(OnOff::Off),
                slb_id: Some(OnOff::On),
                proto: Some(OnOff::Off),
            },
            scheduler: Some(Scheduler::RoundRobin),
            sticky_session: StickySession {
                enabled: OnOff::Off,
                session_type: Some(StickySessionType::Insert),
                cookie_timeout: Some(86_400),
                cookie: Some("c1".to_owned()),
            },
            health_check: OnOff::On,
            http_health_check: HttpHealthCheck {
                domain: Some("web.example.com".to_owned()),
                uri: Some("/live".to_owned()),
                http_codes: vec![HealthCheckHttpCode::Http3xx],
            },
            health_check_connect_port: Some(8001),
            health_check_timing: HealthCheckTiming {
                healthy_threshold: Some(3),
                unhealthy_threshold: Some(4),
                timeout: Some(10),
                interval: Some(2),
            },
            gzip: Some(OnOff::On),
        },
    };
    assert_wire(
        &set_http,
        &[
            ("LoadBalancerId", "lb-5"),
            ("ListenerPort", "8000"),
            ("Bandwidth", "100"),
            ("XForwardedFor", "on"),
            ("XForwardedFor_SLBIP", "off"),
            ("XForwardedFor_SLBID", "on"),
            ("XForwardedFor_proto", "off"),
            ("Scheduler", "rr"),
            ("StickySession", "off"),
            ("StickySessionType", "insert"),
            ("CookieTimeout", "86400"),
            ("Cookie", "c1"),
            ("HealthCheck", "on"),
            ("HealthCheckDomain", "web.example.com"),
            ("HealthCheckURI", "/live"),
            ("HealthCheckConnectPort", "8001"),
            ("HealthyThreshold", "3"),
            ("UnhealthyThreshold", "4"),
            ("HealthCheckTimeout", "10"),
            ("HealthCheckInterval", "2"),
            ("HealthCheckHttpCode", "http_3xx"),
            ("VServerGroup", "on"),
            ("VServerGroupId", "rsp-5"),
            ("Gzip", "on"),
        ],
    );

    let set_https = SetLoadBalancerHTTPSListenerAttributeRequest {
        load_balancer_id: "lb-6".to_owned(),
        listener_port: 8443,
        server_certificate_id: "cert-2".to_owned(),
        ca_certificate_id: Some("ca-2".to_owned()),
        v_server_group: Some(OnOff::Off),
        v_server_group_id: Some("rsp-6".to_owned()),
        settings: HttpListenerSettings {
            bandwidth: 1000,
            x_forwarded_for: XForwardedFor {
                enabled: Some(OnOff::Off),
                slb_ip: Some(OnOff::On),
                slb_id: Some(OnOff::Off),
                proto: Some(OnOff::On),
            },
            scheduler: Some(Scheduler::WeightedLeastConnections),
            sticky_session: StickySession {
                enabled: OnOff::On,
                session_type: Some(StickySessionType::Server),
                cookie_timeout: Some(1),
                cookie: Some("c2".to_owned()),
            },
            health_check: OnOff::Off,
            http_health_check: HttpHealthCheck {
                domain: Some("".to_owned()),
                uri: Some("/".to_owned()),
                http_codes: vec![
                    HealthCheckHttpCode::Http2xx,
                    HealthCheckHttpCode::Http3xx,
                    HealthCheckHttpCode::Http4xx,
                ],
            },
            health_check_connect_port: Some(65_535),
            health_check_timing: HealthCheckTiming {
                healthy_threshold: Some(10),
                unhealthy_threshold: Some(1),
                timeout: Some(1),
                interval: Some(1),
            },
            gzip: Some(OnOff::Off),
        },
    };
    assert_wire(
        &set_https,
        &[
            ("LoadBalancerId", "lb-6"),
            ("ListenerPort", "8443"),
            ("Bandwidth", "1000"),
            ("XForwardedFor", "off"),
            ("XForwardedFor_SLBIP", "on"),
            ("XForwardedFor_SLBID", "off"),
            ("XForwardedFor_proto", "on"),
            ("Scheduler", "wlc"),
            ("StickySession", "on"),
            ("StickySessionType", "server"),
            ("CookieTimeout", "1"),
            ("Cookie", "c2"),
            ("HealthCheck", "off"),
            ("HealthCheckDomain", ""),
            ("HealthCheckURI", "/"),
            ("HealthCheckConnectPort", "65535"),
            ("HealthyThreshold", "10"),
            ("UnhealthyThreshold", "1"),
            ("HealthCheckTimeout", "1"),
            ("HealthCheckInterval", "1"),
            ("HealthCheckHttpCode", "http_2xx,http_3xx,http_4xx"),
            ("ServerCertificateId", "cert-2"),
            ("CACertificateId", "ca-2"),
            ("VServerGroup", "off"),
            ("VServerGroupId", "rsp-6"),
            ("Gzip", "off"),
        ],
    );

    let set_tcp = SetLoadBalancerTCPListenerAttributeRequest {
        load_balancer_id: "lb-7".to_owned(),
        listener_port: 6379,
        bandwidth: 5,
        syn_proxy: Some(SynProxy::Enable),
        scheduler: Some(Scheduler::WeightedLeastConnections),
        persistence_timeout: Some(3600),
        health_check_type: Some(HealthCheckType::Tcp),
        http_health_check: HttpHealthCheck {
            domain: Some("cache.example.com".to_owned()),
            uri: Some("/ping".to_owned()),
            http_codes: vec![HealthCheckHttpCode::Http5xx],
        },
        health_check_connect_port: Some(6380),
        health_check_timing: HealthCheckTiming {
            healthy_threshold: Some(6),
            unhealthy_threshold: Some(7),
            timeout: Some(20),
            interval: Some(3),
        },
        server_groups: ServerGroupSwitches {
            v_server_group: Some(OnOff::Off),
            v_server_group_id: Some("rsp-7".to_owned()),
            master_slave_server_group: Some(OnOff::On),
            master_slave_server_group_id: Some("msg-7".to_owned()),
        },
        established_timeout: Some(900),
    };
    assert_wire(
        &set_tcp,
        &[
            ("LoadBalancerId", "lb-7"),
            ("ListenerPort", "6379"),
            ("Bandwidth", "5"),
            ("SynProxy", "enable"),
            ("Scheduler", "wlc"),
            ("PersistenceTimeout", "3600"),
            ("HealthCheckType", "tcp"),
            ("HealthCheckDomain", "cache.example.com"),
            ("HealthCheckURI", "/ping"),
            ("HealthCheckConnectPort", "6380"),
            ("HealthyThreshold", "6"),
            ("UnhealthyThreshold", "7"),
            ("HealthCheckTimeout", "20"),
            ("HealthCheckInterval", "3"),
            ("HealthCheckHttpCode", "http_5xx"),
            ("VServerGroup", "off"),
            ("VServerGroupId", "rsp-7"),
            ("MasterSlaveServerGroup", "on"),
            ("MasterSlaveServerGroupId", "msg-7"),
            ("EstablishedTimeout", "900"),
        ],
    );

    let set_udp = SetLoadBalancerUDPListenerAttributeRequest {
        load_balancer_id: "lb-8".to_owned(),
        listener_port: 123,
        bandwidth: 2,
        scheduler: Some(Scheduler::RoundRobin),
        persistence_timeout: Some(0),
        health_check_timing: HealthCheckTiming {
            healthy_threshold: Some(8),
            unhealthy_threshold: Some(5),
            timeout: Some(30),
            interval: Some(4),
        },
        health_check_connect_port: Some(124),
        server_groups: ServerGroupSwitches {
            v_server_group: Some(OnOff::On),
            v_server_group_id: Some("rsp-8".to_owned()),
            master_slave_server_group: Some(OnOff::Off),
            master_slave_server_group_id: Some("msg-8".to_owned()),
        },
    };
    assert_wire(
        &set_udp,
        &[
            ("LoadBalancerId", "lb-8"),
            ("ListenerPort", "123"),
            ("Bandwidth", "2"),
            ("Scheduler", "rr"),
            ("PersistenceTimeout", "0"),
            ("HealthyThreshold", "8"),
            ("UnhealthyThreshold", "5"),
            ("HealthCheckTimeout", "30"),
            ("HealthCheckConnectPort", "124"),
            ("HealthCheckInterval", "4"),
            ("VServerGroup", "on"),
            ("VServerGroupId", "rsp-8"),
            ("MasterSlaveServerGroup", "off"),
            ("MasterSlaveServerGroupId", "msg-8"),
        ],
    );
}
