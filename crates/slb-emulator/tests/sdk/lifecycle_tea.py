"""A lifecycle driven by the newer official client (alibabacloud-slb20140515 on alibabacloud-tea-openapi),
unchanged, against an emulator.

Usage: lifecycle_tea.py ENDPOINT ACCESS_KEY_ID ACCESS_KEY_SECRET [v2|acs3]   (ENDPOINT is host:port, plain HTTP)

`v2` (the default here) configures `signature_algorithm='v2'`, the client's switch to the HMAC-SHA1 query
signature that API version 2014-05-15 defines (POST, parameters in the query string, Format=json). `acs3` keeps
the client's own default, the ACS3-HMAC-SHA256 header signature.

Every one of the 62 actions the emulator serves is called through the client's own method and request model,
and results are read through its response models. Names carry the mode, so the two runs never share a name or a
ClientToken. Prints one line per step; exits non-zero on the first failed expectation.
"""

import sys
import time

from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.utils_models import Config

from fixtures import CERTIFICATE, PRIVATE_KEY

ENDPOINT, KEY_ID, KEY_SECRET = sys.argv[1], sys.argv[2], sys.argv[3]
MODE = sys.argv[4] if len(sys.argv) > 4 else "v2"
REGION = "cn-hangzhou"
STEPS = 0


def client(secret=KEY_SECRET):
    signing = {"signature_algorithm": "v2"} if MODE == "v2" else {}
    return Client(Config(access_key_id=KEY_ID, access_key_secret=secret, endpoint=ENDPOINT, protocol="http",
                         region_id=REGION, **signing))


CLIENT = client()


def call(method, request):
    global STEPS
    response = getattr(CLIENT, method)(request)
    assert response.status_code == 200 and response.body.request_id, (method, response)
    STEPS += 1
    print("ok   %s" % method)
    return response.body


def fails(method, request, code, status):
    global STEPS
    try:
        getattr(CLIENT, method)(request)
    except (ClientException, ServerException) as e:
        assert (e.code, e.status_code) == (code, status), (method, e.code, e.status_code)
        STEPS += 1
        print("fail %s %s %s" % (method, e.status_code, e.code))
        return
    raise AssertionError("%s should have failed with %s" % (method, code))


PROTOCOLS = {80: "HTTP", 443: "HTTPS", 22: "TCP", 53: "UDP"}


def describe_listener(port):
    protocol = PROTOCOLS[port]
    request = getattr(models, "DescribeLoadBalancer%sListenerAttributeRequest" % protocol)(
        region_id=REGION, load_balancer_id=LB[0], listener_port=port)
    return call("describe_load_balancer_%slistener_attribute" % protocol.lower(), request)


def wait_for(port, status):
    for _ in range(100):
        body = describe_listener(port)
        if body.status == status:
            return body
        time.sleep(0.05)
    raise AssertionError("listener %d never reached %s" % (port, status))


LB = []


def main():
    name = "tea-%s-" % MODE
    regions = call("describe_regions", models.DescribeRegionsRequest(region_id=REGION))
    assert REGION in [r.region_id for r in regions.regions.region]
    zones = call("describe_zones", models.DescribeZonesRequest(region_id=REGION))
    assert [z.zone_id for z in zones.zones.zone][:2] == [REGION + "-a", REGION + "-b"], zones.to_map()

    cert = call("upload_server_certificate", models.UploadServerCertificateRequest(
        region_id=REGION, server_certificate=CERTIFICATE, private_key=PRIVATE_KEY,
        server_certificate_name=name + "cert"))
    cert_id = cert.server_certificate_id
    assert cert.server_certificate_name == name + "cert" and cert.fingerprint
    call("set_server_certificate_name", models.SetServerCertificateNameRequest(
        region_id=REGION, server_certificate_id=cert_id, server_certificate_name=name + "cert-2"))
    certs = call("describe_server_certificates", models.DescribeServerCertificatesRequest(
        region_id=REGION, server_certificate_id=cert_id)).server_certificates.server_certificate
    assert [(c.server_certificate_id, c.server_certificate_name) for c in certs] == [(cert_id, name + "cert-2")]
    ca = call("upload_cacertificate", models.UploadCACertificateRequest(
        region_id=REGION, cacertificate=CERTIFICATE, cacertificate_name=name + "ca"))
    ca_id = ca.cacertificate_id
    assert ca.cacertificate_name == name + "ca"
    call("set_cacertificate_name", models.SetCACertificateNameRequest(
        region_id=REGION, cacertificate_id=ca_id, cacertificate_name=name + "ca-2"))
    cas = call("describe_cacertificates", models.DescribeCACertificatesRequest(
        region_id=REGION, cacertificate_id=ca_id)).cacertificates.cacertificate
    assert [(c.cacertificate_id, c.cacertificate_name) for c in cas] == [(ca_id, name + "ca-2")]

    create = dict(region_id=REGION, load_balancer_name=name + "lb", address_type="internet",
                  load_balancer_spec="slb.s1.small", client_token="tea-token-" + MODE,
                  tag=[models.CreateLoadBalancerRequestTag(key="owner", value=MODE)])
    created = call("create_load_balancer", models.CreateLoadBalancerRequest(**create))
    lb = created.load_balancer_id
    LB.append(lb)
    assert lb.startswith("lb-") and created.address and created.load_balancer_name == name + "lb"
    again = call("create_load_balancer", models.CreateLoadBalancerRequest(**create))
    assert again.load_balancer_id == lb
    tags = call("describe_tags", models.DescribeTagsRequest(region_id=REGION, load_balancer_id=lb))
    assert [(t.tag_key, t.tag_value) for t in tags.tag_sets.tag_set] == [("owner", MODE)], tags.to_map()
    fails("create_load_balancer", models.CreateLoadBalancerRequest(**dict(create, load_balancer_name="other")),
          "IdempotentParameterMismatch", 400)
    call("set_load_balancer_name", models.SetLoadBalancerNameRequest(
        region_id=REGION, load_balancer_id=lb, load_balancer_name=name + "lb-2"))
    listed = call("describe_load_balancers", models.DescribeLoadBalancersRequest(region_id=REGION,
                                                                                 load_balancer_id=lb))
    assert [(x.load_balancer_id, x.load_balancer_name) for x in listed.load_balancers.load_balancer] == [
        (lb, name + "lb-2")]
    paged = call("describe_load_balancers", models.DescribeLoadBalancersRequest(
        region_id=REGION, page_number=1, page_size=10))
    assert paged.total_count >= 1 and paged.page_number == 1 and paged.page_size == 10
    call("modify_load_balancer_instance_spec", models.ModifyLoadBalancerInstanceSpecRequest(
        region_id=REGION, load_balancer_id=lb, load_balancer_spec="slb.s2.small"))
    call("modify_load_balancer_internet_spec", models.ModifyLoadBalancerInternetSpecRequest(
        region_id=REGION, load_balancer_id=lb, internet_charge_type="paybytraffic"))
    call("modify_load_balancer_pay_type", models.ModifyLoadBalancerPayTypeRequest(
        region_id=REGION, load_balancer_id=lb, pay_type="PrePay", pricing_cycle="month", duration=1, auto_pay=True))
    attr = call("describe_load_balancer_attribute", models.DescribeLoadBalancerAttributeRequest(
        region_id=REGION, load_balancer_id=lb))
    assert (attr.pay_type, attr.load_balancer_spec, attr.internet_charge_type) == (
        "PrePay", "slb.s2.small", "paybytraffic"), attr.to_map()
    assert (attr.load_balancer_id, attr.load_balancer_name, attr.address, attr.address_type, attr.region_id,
            attr.master_zone_id, attr.load_balancer_status) == (
        lb, name + "lb-2", created.address, "internet", REGION, REGION + "-a", "active"), attr.to_map()
    prepaid = call("describe_load_balancers", models.DescribeLoadBalancersRequest(
        region_id=REGION, pay_type="PrePay", address_type="internet", network_type="classic"))
    assert lb in [x.load_balancer_id for x in prepaid.load_balancers.load_balancer]
    intranet = call("describe_load_balancers", models.DescribeLoadBalancersRequest(
        region_id=REGION, load_balancer_id=lb, address_type="intranet"))
    assert intranet.load_balancers.load_balancer == [] and intranet.total_count == 0
    fails("modify_load_balancer_pay_type", models.ModifyLoadBalancerPayTypeRequest(
        region_id=REGION, load_balancer_id=lb, pay_type="PrePay", pricing_cycle="year", duration=4),
        "InvalidParameter", 400)

    backends = call("add_backend_servers", models.AddBackendServersRequest(
        region_id=REGION, load_balancer_id=lb,
        backend_servers='[{"ServerId":"i-tea-1","Weight":100},{"ServerId":"i-tea-2","Weight":50}]'))
    assert [(b.server_id, b.weight) for b in backends.backend_servers.backend_server] == [
        ("i-tea-1", 100), ("i-tea-2", 50)], backends.to_map()
    updated = call("set_backend_servers", models.SetBackendServersRequest(
        region_id=REGION, load_balancer_id=lb, backend_servers='[{"ServerId":"i-tea-2","Weight":80}]'))
    # The models type Weight as str; the reference's table and JSON example give an Integer (`"Weight":100`).
    assert ("i-tea-2", 80) in [(b.server_id, b.weight) for b in updated.backend_servers.backend_server]

    group = call("create_vserver_group", models.CreateVServerGroupRequest(
        region_id=REGION, load_balancer_id=lb, vserver_group_name=name + "group",
        backend_servers='[{"ServerId":"i-tea-1","Port":8080,"Weight":100}]'))
    group_id = group.vserver_group_id
    assert group.backend_servers.backend_server[0].port == 8080
    call("add_vserver_group_backend_servers", models.AddVServerGroupBackendServersRequest(
        region_id=REGION, vserver_group_id=group_id,
        backend_servers='[{"ServerId":"i-tea-2","Port":8080,"Weight":100}]'))
    modified = call("modify_vserver_group_backend_servers", models.ModifyVServerGroupBackendServersRequest(
        region_id=REGION, vserver_group_id=group_id, old_backend_servers='[{"ServerId":"i-tea-2","Port":8080}]',
        new_backend_servers='[{"ServerId":"i-tea-3","Port":8080,"Weight":70}]'))
    assert sorted(b.server_id for b in modified.backend_servers.backend_server) == ["i-tea-1", "i-tea-3"]
    removed = call("remove_vserver_group_backend_servers", models.RemoveVServerGroupBackendServersRequest(
        region_id=REGION, vserver_group_id=group_id, backend_servers='[{"ServerId":"i-tea-3","Port":8080}]'))
    assert [b.server_id for b in removed.backend_servers.backend_server] == ["i-tea-1"]
    renamed = call("set_vserver_group_attribute", models.SetVServerGroupAttributeRequest(
        region_id=REGION, vserver_group_id=group_id, vserver_group_name=name + "group-2"))
    assert renamed.vserver_group_name == name + "group-2"
    groups = call("describe_vserver_groups", models.DescribeVServerGroupsRequest(region_id=REGION,
                                                                                 load_balancer_id=lb))
    assert [(g.vserver_group_id, g.vserver_group_name) for g in groups.vserver_groups.vserver_group] == [
        (group_id, name + "group-2")]
    group_attr = call("describe_vserver_group_attribute", models.DescribeVServerGroupAttributeRequest(
        region_id=REGION, vserver_group_id=group_id))
    assert group_attr.load_balancer_id == lb and [
        (b.server_id, b.port, b.weight) for b in group_attr.backend_servers.backend_server] == [("i-tea-1", 8080, 100)]

    ms = call("create_master_slave_server_group", models.CreateMasterSlaveServerGroupRequest(
        region_id=REGION, load_balancer_id=lb, master_slave_server_group_name=name + "ms",
        master_slave_backend_servers='[{"ServerId":"i-tea-1","Port":90,"Weight":100,"ServerType":"Master"},'
                                     '{"ServerId":"i-tea-2","Port":90,"Weight":100,"ServerType":"Slave"}]'))
    ms_id = ms.master_slave_server_group_id
    assert [(b.server_id, b.server_type) for b in ms.master_slave_backend_servers.master_slave_backend_server] == [
        ("i-tea-1", "Master"), ("i-tea-2", "Slave")]
    mss = call("describe_master_slave_server_groups", models.DescribeMasterSlaveServerGroupsRequest(
        region_id=REGION, load_balancer_id=lb)).master_slave_server_groups.master_slave_server_group
    assert [(g.master_slave_server_group_id, g.master_slave_server_group_name) for g in mss] == [(ms_id, name + "ms")]
    ms_attr = call("describe_master_slave_server_group_attribute",
                   models.DescribeMasterSlaveServerGroupAttributeRequest(region_id=REGION,
                                                                         master_slave_server_group_id=ms_id))
    assert ms_attr.master_slave_server_group_name == name + "ms" and ms_attr.load_balancer_id == lb
    assert len(ms_attr.master_slave_backend_servers.master_slave_backend_server) == 2

    call("create_load_balancer_httplistener", models.CreateLoadBalancerHTTPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=80, backend_server_port=8080, bandwidth=-1,
        sticky_session="on", sticky_session_type="insert", cookie_timeout=600, health_check="on",
        health_check_uri="/healthz", health_check_connect_port=8080, healthy_threshold=3, unhealthy_threshold=3,
        health_check_timeout=5, health_check_interval=2, vserver_group_id=group_id))
    call("create_load_balancer_httpslistener", models.CreateLoadBalancerHTTPSListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=443, backend_server_port=8080, bandwidth=-1,
        sticky_session="off", health_check="off", server_certificate_id=cert_id, cacertificate_id=ca_id))
    call("create_load_balancer_tcplistener", models.CreateLoadBalancerTCPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=22, backend_server_port=22, bandwidth=-1,
        master_slave_server_group_id=ms_id, health_check_connect_timeout=4, health_check_interval=3))
    call("create_load_balancer_udplistener", models.CreateLoadBalancerUDPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=53, backend_server_port=53, bandwidth=-1))
    fails("create_load_balancer_udplistener", models.CreateLoadBalancerUDPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=53, backend_server_port=53, bandwidth=-1),
        "ListenerAlreadyExists", 400)
    fails("create_load_balancer_httplistener", models.CreateLoadBalancerHTTPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=81, backend_server_port=8080, bandwidth=-1,
        sticky_session="on", health_check="off"), "MissingParameter", 400)

    http = describe_listener(80)
    assert (http.cookie_timeout, http.sticky_session_type, http.health_check_uri, http.health_check_timeout,
            http.health_check_interval, http.vserver_group_id) == (600, "insert", "/healthz", 5, 2, group_id)
    tcp = describe_listener(22)
    assert (tcp.health_check_connect_timeout, tcp.health_check_interval, tcp.master_slave_server_group_id) == (
        4, 3, ms_id), tcp.to_map()
    for port in PROTOCOLS:
        assert describe_listener(port).status == "stopped"
        call("start_load_balancer_listener", models.StartLoadBalancerListenerRequest(
            region_id=REGION, load_balancer_id=lb, listener_port=port))
        wait_for(port, "running")

    call("set_load_balancer_httplistener_attribute", models.SetLoadBalancerHTTPListenerAttributeRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=80, bandwidth=-1, sticky_session="off",
        health_check="off", scheduler="wlc"))
    http = wait_for(80, "running")
    assert (http.scheduler, http.vserver_group_id, http.sticky_session, http.health_check) == (
        "wlc", group_id, "off", "off"), http.to_map()
    call("set_load_balancer_httpslistener_attribute", models.SetLoadBalancerHTTPSListenerAttributeRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=443, bandwidth=-1, sticky_session="off",
        health_check="off", server_certificate_id=cert_id))
    call("set_load_balancer_tcplistener_attribute", models.SetLoadBalancerTCPListenerAttributeRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=22, bandwidth=-1, persistence_timeout=30))
    call("set_load_balancer_udplistener_attribute", models.SetLoadBalancerUDPListenerAttributeRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=53, bandwidth=-1, scheduler="wlc"))
    https = wait_for(443, "running")
    assert (https.server_certificate_id, https.cacertificate_id) == (cert_id, ca_id), https.to_map()
    tcp = wait_for(22, "running")
    assert (tcp.master_slave_server_group_id, tcp.persistence_timeout, tcp.backend_server_port) == (
        ms_id, 30, 22), tcp.to_map()
    udp = wait_for(53, "running")
    assert (udp.scheduler, udp.listener_port) == ("wlc", 53), udp.to_map()

    health = call("describe_health_status", models.DescribeHealthStatusRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=22))
    assert sorted((s.server_id, s.server_health_status) for s in health.backend_servers.backend_server) == [
        ("i-tea-1", "normal"), ("i-tea-2", "normal")], health.to_map()

    http_listener = dict(region_id=REGION, load_balancer_id=lb, listener_port=80)
    call("set_listener_access_control_status", models.SetListenerAccessControlStatusRequest(
        access_control_status="open_white_list", **http_listener))
    wait_for(80, "running")
    call("add_listener_white_list_item", models.AddListenerWhiteListItemRequest(
        source_items="192.0.2.1,198.51.100.0/24", **http_listener))
    wait_for(80, "running")
    call("remove_listener_white_list_item", models.RemoveListenerWhiteListItemRequest(
        source_items="192.0.2.1", **http_listener))
    wait_for(80, "running")
    acl = call("describe_listener_access_control_attribute", models.DescribeListenerAccessControlAttributeRequest(
        **http_listener))
    assert (acl.access_control_status, acl.source_items) == ("open_white_list", "198.51.100.0/24"), acl.to_map()

    rules = call("create_rules", models.CreateRulesRequest(
        rule_list='[{"RuleName":"static","Domain":"example.com","Url":"/static","VServerGroupId":"%s"}]' % group_id,
        **http_listener)).rules.rule
    assert [r.rule_name for r in rules] == ["static"]
    rule_id = rules[0].rule_id
    described = call("describe_rules", models.DescribeRulesRequest(**http_listener)).rules.rule
    assert [(r.rule_id, r.domain, r.url, r.vserver_group_id) for r in described] == [
        (rule_id, "example.com", "/static", group_id)]
    groups = call("describe_vserver_groups", models.DescribeVServerGroupsRequest(
        region_id=REGION, load_balancer_id=lb, include_listener=True, include_rule=True)).vserver_groups.vserver_group
    assert [(g.vserver_group_id, g.server_count) for g in groups] == [(group_id, 1)]
    linked = groups[0].associated_objects
    assert [(x.port, x.protocol) for x in linked.listeners.listener] == [(80, "http")], linked.to_map()
    assert [(r.rule_id, r.rule_name, r.domain, r.url) for r in linked.rules.rule] == [
        (rule_id, "static", "example.com", "/static")], linked.to_map()
    mss = call("describe_master_slave_server_groups", models.DescribeMasterSlaveServerGroupsRequest(
        region_id=REGION, load_balancer_id=lb, include_listener=True)).master_slave_server_groups
    assert [(x.port, x.protocol) for x in mss.master_slave_server_group[0].associated_objects.listeners.listener] == [
        (22, "tcp")], mss.to_map()
    call("set_rule", models.SetRuleRequest(region_id=REGION, rule_id=rule_id, vserver_group_id=group_id))
    rule = call("describe_rule_attribute", models.DescribeRuleAttributeRequest(region_id=REGION, rule_id=rule_id))
    # The model types ListenerPort as str (the reference's JSON example); its table says Integer, as served.
    assert (rule.rule_name, rule.load_balancer_id, str(rule.listener_port), rule.vserver_group_id) == (
        "static", lb, "80", group_id), rule.to_map()
    fails("delete_vserver_group", models.DeleteVServerGroupRequest(region_id=REGION, vserver_group_id=group_id),
          "ActionNotAllowed", 400)
    call("delete_rules", models.DeleteRulesRequest(region_id=REGION, rule_ids='["%s"]' % rule_id))

    call("add_tags", models.AddTagsRequest(region_id=REGION, load_balancer_id=lb,
                                           tags='[{"TagKey":"env","TagValue":"test"}]'))
    tags = call("describe_tags", models.DescribeTagsRequest(region_id=REGION, load_balancer_id=lb))
    assert [(t.tag_key, t.tag_value, t.instance_count) for t in tags.tag_sets.tag_set] == [
        ("env", "test", 1), ("owner", MODE, 1)], tags.to_map()
    tagged = call("describe_load_balancers", models.DescribeLoadBalancersRequest(
        region_id=REGION, tag=[models.DescribeLoadBalancersRequestTag(key="env", value="test")]))
    assert [x.load_balancer_id for x in tagged.load_balancers.load_balancer] == [lb]
    assert sorted((t.tag_key, t.tag_value) for t in tagged.load_balancers.load_balancer[0].tags.tag) == [
        ("env", "test"), ("owner", MODE)]
    tagged = call("describe_load_balancers", models.DescribeLoadBalancersRequest(
        region_id=REGION, tags='[{"TagKey":"env","TagValue":"other"}]'))
    assert tagged.load_balancers.load_balancer == [] and tagged.total_count == 0
    call("remove_tags", models.RemoveTagsRequest(region_id=REGION, load_balancer_id=lb, tags='[{"TagKey":"env"}]'))
    tags = call("describe_tags", models.DescribeTagsRequest(region_id=REGION, load_balancer_id=lb))
    assert [t.tag_key for t in tags.tag_sets.tag_set] == ["owner"], tags.to_map()

    fails("describe_load_balancer_attribute", models.DescribeLoadBalancerAttributeRequest(
        region_id=REGION, load_balancer_id="lb-doesnotexist"), "InvalidLoadBalancerId.NotFound", 404)
    fails("delete_server_certificate", models.DeleteServerCertificateRequest(
        region_id=REGION, server_certificate_id=cert_id), "CertificateAndPrivateKeyIsRefered", 400)

    attr = call("describe_load_balancer_attribute", models.DescribeLoadBalancerAttributeRequest(
        region_id=REGION, load_balancer_id=lb))
    assert sorted(attr.listener_ports.listener_port) == [22, 53, 80, 443]
    assert sorted((p.listener_port, p.listener_protocol)
                  for p in attr.listener_ports_and_protocol.listener_port_and_protocol) == [
        (22, "tcp"), (53, "udp"), (80, "http"), (443, "https")]

    for port in PROTOCOLS:
        call("stop_load_balancer_listener", models.StopLoadBalancerListenerRequest(
            region_id=REGION, load_balancer_id=lb, listener_port=port))
        wait_for(port, "stopped")
        call("delete_load_balancer_listener", models.DeleteLoadBalancerListenerRequest(
            region_id=REGION, load_balancer_id=lb, listener_port=port))
    left = call("remove_backend_servers", models.RemoveBackendServersRequest(
        region_id=REGION, load_balancer_id=lb, backend_servers='["i-tea-1","i-tea-2"]'))
    assert left.backend_servers.backend_server == [], left.to_map()
    call("delete_vserver_group", models.DeleteVServerGroupRequest(region_id=REGION, vserver_group_id=group_id))
    call("delete_master_slave_server_group", models.DeleteMasterSlaveServerGroupRequest(
        region_id=REGION, master_slave_server_group_id=ms_id))
    call("set_load_balancer_status", models.SetLoadBalancerStatusRequest(
        region_id=REGION, load_balancer_id=lb, load_balancer_status="inactive"))
    attr = call("describe_load_balancer_attribute", models.DescribeLoadBalancerAttributeRequest(
        region_id=REGION, load_balancer_id=lb))
    assert attr.load_balancer_status == "inactive" and attr.listener_ports.listener_port == [], attr.to_map()
    call("delete_load_balancer", models.DeleteLoadBalancerRequest(region_id=REGION, load_balancer_id=lb))
    fails("delete_load_balancer", models.DeleteLoadBalancerRequest(region_id=REGION, load_balancer_id=lb),
          "InvalidLoadBalancerId.NotFound", 404)
    call("delete_server_certificate", models.DeleteServerCertificateRequest(
        region_id=REGION, server_certificate_id=cert_id))
    call("delete_cacertificate", models.DeleteCACertificateRequest(region_id=REGION, cacertificate_id=ca_id))

    global CLIENT
    CLIENT = client(KEY_SECRET + "-wrong")
    fails("describe_regions", models.DescribeRegionsRequest(region_id=REGION), "InternalError", 400)
    print("TEA LIFECYCLE OK (%s): %d steps" % (MODE, STEPS))


if __name__ == "__main__":
    main()
