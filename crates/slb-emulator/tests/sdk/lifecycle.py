"""A full SLB lifecycle driven by the official Python SDK (aliyun-python-sdk-core + aliyun-python-sdk-slb),
unchanged, against an emulator.

Usage: lifecycle.py ENDPOINT ACCESS_KEY_ID ACCESS_KEY_SECRET   (ENDPOINT is host:port, plain HTTP)

Every request goes through the SDK's own request classes and setters, is signed by aliyunsdkcore and is sent
with the SDK's default method (POST, parameters in the query string). Prints one line per step; exits non-zero
on the first failed expectation.
"""

import importlib
import json
import sys
import time

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient

from fixtures import CERTIFICATE, PRIVATE_KEY

ENDPOINT, KEY_ID, KEY_SECRET = sys.argv[1], sys.argv[2], sys.argv[3]
REGION = "cn-hangzhou"
CLIENT = AcsClient(KEY_ID, KEY_SECRET, REGION)
STEPS = 0



def request(action, **params):
    """Builds the SDK's request object for `action`, setting parameters through its own setters."""
    module = importlib.import_module("aliyunsdkslb.request.v20140515.%sRequest" % action)
    req = getattr(module, "%sRequest" % action)()
    req.set_endpoint(ENDPOINT)
    req.set_protocol_type("http")
    for name, value in params.items():
        setter = getattr(req, "set_" + name)
        setter(value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else value)
    return req


def call(action, **params):
    global STEPS
    body = json.loads(CLIENT.do_action_with_exception(request(action, **params)))
    assert body.get("RequestId"), (action, body)
    STEPS += 1
    print("ok   %-45s %s" % (action, json.dumps(body, ensure_ascii=False)[:120]))
    return body


def fails(action, code, status, **params):
    global STEPS
    try:
        CLIENT.do_action_with_exception(request(action, **params))
    except ServerException as e:
        assert e.get_error_code() == code, (action, code, e)
        assert e.get_http_status() == status, (action, status, e)
        assert e.get_request_id(), (action, e)
        STEPS += 1
        print("fail %-45s %s %s: %s" % (action, e.get_http_status(), e.get_error_code(), e.get_error_msg()))
        return e
    raise AssertionError("%s should have failed with %s" % (action, code))


def wait_for(action, status, **params):
    for _ in range(100):
        if call(action, **params)["Status"] == status:
            return
        time.sleep(0.05)
    raise AssertionError("%s never reached %s" % (action, status))


def main():
    regions = call("DescribeRegions")["Regions"]["Region"]
    assert REGION in [r["RegionId"] for r in regions]
    zones = call("DescribeZones")["Zones"]["Zone"]
    assert zones

    cert = call("UploadServerCertificate", ServerCertificate=CERTIFICATE, PrivateKey=PRIVATE_KEY,
                ServerCertificateName="sdk-cert")
    cert_id = cert["ServerCertificateId"]
    call("SetServerCertificateName", ServerCertificateId=cert_id, ServerCertificateName="sdk-cert-2")
    listed = call("DescribeServerCertificates", ServerCertificateId=cert_id)
    assert listed["ServerCertificates"]["ServerCertificate"][0]["ServerCertificateName"] == "sdk-cert-2"
    ca = call("UploadCACertificate", CACertificate=CERTIFICATE, CACertificateName="sdk-ca")
    ca_id = ca["CACertificateId"]
    call("SetCACertificateName", CACertificateId=ca_id, CACertificateName="sdk-ca-2")
    call("DescribeCACertificates")

    created = call("CreateLoadBalancer", LoadBalancerName="sdk-lb", AddressType="internet",
                   LoadBalancerSpec="slb.s1.small", ClientToken="sdk-token-1")
    lb = created["LoadBalancerId"]
    again = call("CreateLoadBalancer", LoadBalancerName="sdk-lb", AddressType="internet",
                 LoadBalancerSpec="slb.s1.small", ClientToken="sdk-token-1")
    assert again["LoadBalancerId"] == lb, "ClientToken must make CreateLoadBalancer idempotent"
    fails("CreateLoadBalancer", "IdempotentParameterMismatch", 400, LoadBalancerName="other",
          ClientToken="sdk-token-1")
    call("SetLoadBalancerName", LoadBalancerId=lb, LoadBalancerName="sdk-lb-renamed")
    found = call("DescribeLoadBalancers", LoadBalancerId=lb)["LoadBalancers"]["LoadBalancer"]
    assert [x["LoadBalancerName"] for x in found] == ["sdk-lb-renamed"]
    paged = call("DescribeLoadBalancers", PageNumber=1, PageSize=10)
    assert paged["TotalCount"] >= 1
    call("ModifyLoadBalancerInstanceSpec", LoadBalancerId=lb, LoadBalancerSpec="slb.s2.small")
    call("ModifyLoadBalancerInternetSpec", LoadBalancerId=lb, InternetChargeType="paybytraffic")
    # A Python bool, as an SDK user writes it: the SDK sends it as "True".
    call("ModifyLoadBalancerPayType", LoadBalancerId=lb, PayType="PrePay", PricingCycle="month", Duration=1,
         AutoPay=True)
    assert call("DescribeLoadBalancerAttribute", LoadBalancerId=lb)["PayType"] == "PrePay"
    fails("ModifyLoadBalancerPayType", "InvalidParameter", 400, LoadBalancerId=lb, PayType="PrePay",
          PricingCycle="year", Duration=4)

    backends = call("AddBackendServers", LoadBalancerId=lb,
                    BackendServers=[{"ServerId": "i-sdk-1", "Weight": 100}, {"ServerId": "i-sdk-2", "Weight": 50}])
    assert len(backends["BackendServers"]["BackendServer"]) == 2
    call("SetBackendServers", LoadBalancerId=lb, BackendServers=[{"ServerId": "i-sdk-2", "Weight": 80}])

    group = call("CreateVServerGroup", LoadBalancerId=lb, VServerGroupName="sdk-group",
                 BackendServers=[{"ServerId": "i-sdk-1", "Port": 8080, "Weight": 100}])
    group_id = group["VServerGroupId"]
    call("AddVServerGroupBackendServers", VServerGroupId=group_id,
         BackendServers=[{"ServerId": "i-sdk-2", "Port": 8080, "Weight": 100}])
    call("ModifyVServerGroupBackendServers", VServerGroupId=group_id,
         OldBackendServers=[{"ServerId": "i-sdk-2", "Port": 8080}],
         NewBackendServers=[{"ServerId": "i-sdk-3", "Port": 8080, "Weight": 70}])
    call("RemoveVServerGroupBackendServers", VServerGroupId=group_id,
         BackendServers=[{"ServerId": "i-sdk-3", "Port": 8080}])
    call("SetVServerGroupAttribute", VServerGroupId=group_id, VServerGroupName="sdk-group-2")
    assert call("DescribeVServerGroups", LoadBalancerId=lb)["VServerGroups"]["VServerGroup"][0]["VServerGroupName"] == "sdk-group-2"
    call("DescribeVServerGroupAttribute", VServerGroupId=group_id)

    ms = call("CreateMasterSlaveServerGroup", LoadBalancerId=lb, MasterSlaveServerGroupName="sdk-ms",
              MasterSlaveBackendServers=[{"ServerId": "i-sdk-1", "Port": 90, "Weight": 100, "ServerType": "Master"},
                                         {"ServerId": "i-sdk-2", "Port": 90, "Weight": 100, "ServerType": "Slave"}])
    ms_id = ms["MasterSlaveServerGroupId"]
    call("DescribeMasterSlaveServerGroups", LoadBalancerId=lb)
    call("DescribeMasterSlaveServerGroupAttribute", MasterSlaveServerGroupId=ms_id)

    call("CreateLoadBalancerHTTPListener", LoadBalancerId=lb, ListenerPort=80, BackendServerPort=8080, Bandwidth=-1,
         StickySession="on", StickySessionType="insert", CookieTimeout=600, HealthCheck="on",
         HealthCheckURI="/healthz", HealthCheckConnectPort=8080, HealthyThreshold=3, UnhealthyThreshold=3,
         HealthCheckTimeout=5, HealthCheckInterval=2, VServerGroupId=group_id)
    call("CreateLoadBalancerHTTPSListener", LoadBalancerId=lb, ListenerPort=443, BackendServerPort=8080,
         Bandwidth=-1, StickySession="off", HealthCheck="off", ServerCertificateId=cert_id, CACertificateId=ca_id)
    call("CreateLoadBalancerTCPListener", LoadBalancerId=lb, ListenerPort=22, BackendServerPort=22, Bandwidth=-1,
         MasterSlaveServerGroupId=ms_id, HealthCheckConnectTimeout=4, healthCheckInterval=3)
    call("CreateLoadBalancerUDPListener", LoadBalancerId=lb, ListenerPort=53, BackendServerPort=53, Bandwidth=-1)
    fails("CreateLoadBalancerUDPListener", "ListenerAlreadyExists", 400, LoadBalancerId=lb, ListenerPort=53,
          BackendServerPort=53, Bandwidth=-1)
    fails("CreateLoadBalancerHTTPListener", "MissingParameter", 400, LoadBalancerId=lb, ListenerPort=81,
          BackendServerPort=8080, Bandwidth=-1, StickySession="on", HealthCheck="off")

    attribute = {80: "HTTP", 443: "HTTPS", 22: "TCP", 53: "UDP"}
    for port, protocol in attribute.items():
        action = "DescribeLoadBalancer%sListenerAttribute" % protocol
        assert call(action, LoadBalancerId=lb, ListenerPort=port)["Status"] == "stopped"
        call("StartLoadBalancerListener", LoadBalancerId=lb, ListenerPort=port)
        wait_for(action, "running", LoadBalancerId=lb, ListenerPort=port)

    call("SetLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb, ListenerPort=80, Bandwidth=-1,
         StickySession="off", HealthCheck="off", Scheduler="wlc")
    wait_for("DescribeLoadBalancerHTTPListenerAttribute", "running", LoadBalancerId=lb, ListenerPort=80)
    http = call("DescribeLoadBalancerHTTPListenerAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert http["Scheduler"] == "wlc" and http["VServerGroupId"] == group_id
    call("SetLoadBalancerHTTPSListenerAttribute", LoadBalancerId=lb, ListenerPort=443, Bandwidth=-1,
         StickySession="off", HealthCheck="off", ServerCertificateId=cert_id)
    call("SetLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=22, Bandwidth=-1,
         PersistenceTimeout=30)
    call("SetLoadBalancerUDPListenerAttribute", LoadBalancerId=lb, ListenerPort=53, Bandwidth=-1, Scheduler="wlc")
    # A change to a running listener passes through "configuring" before it runs again.
    for port, protocol in attribute.items():
        wait_for("DescribeLoadBalancer%sListenerAttribute" % protocol, "running", LoadBalancerId=lb, ListenerPort=port)
    tcp = call("DescribeLoadBalancerTCPListenerAttribute", LoadBalancerId=lb, ListenerPort=22)
    assert tcp["MasterSlaveServerGroupId"] == ms_id and tcp["PersistenceTimeout"] == 30

    health = call("DescribeHealthStatus", LoadBalancerId=lb, ListenerPort=22)["BackendServers"]["BackendServer"]
    assert sorted((h["ServerId"], h["ServerHealthStatus"]) for h in health) == [
        ("i-sdk-1", "normal"), ("i-sdk-2", "normal")], health

    http_running = dict(LoadBalancerId=lb, ListenerPort=80)
    call("SetListenerAccessControlStatus", AccessControlStatus="open_white_list", **http_running)
    wait_for("DescribeLoadBalancerHTTPListenerAttribute", "running", **http_running)
    call("AddListenerWhiteListItem", SourceItems="192.0.2.1,198.51.100.0/24", **http_running)
    wait_for("DescribeLoadBalancerHTTPListenerAttribute", "running", **http_running)
    call("RemoveListenerWhiteListItem", SourceItems="192.0.2.1", **http_running)
    wait_for("DescribeLoadBalancerHTTPListenerAttribute", "running", **http_running)
    acl = call("DescribeListenerAccessControlAttribute", LoadBalancerId=lb, ListenerPort=80)
    assert acl["SourceItems"] == "198.51.100.0/24"

    rules = call("CreateRules", LoadBalancerId=lb, ListenerPort=80,
                 RuleList=[{"RuleName": "static", "Domain": "example.com", "Url": "/static",
                            "VServerGroupId": group_id}])["Rules"]["Rule"]
    rule_id = rules[0]["RuleId"]
    call("DescribeRules", LoadBalancerId=lb, ListenerPort=80)
    call("SetRule", RuleId=rule_id, VServerGroupId=group_id)
    assert call("DescribeRuleAttribute", RuleId=rule_id)["RuleName"] == "static"
    fails("DeleteVServerGroup", "ActionNotAllowed", 400, VServerGroupId=group_id)
    call("DeleteRules", RuleIds=[rule_id])

    call("AddTags", LoadBalancerId=lb, Tags=[{"TagKey": "env", "TagValue": "test"}])
    assert call("DescribeTags", LoadBalancerId=lb)["TagSets"]["TagSet"][0]["TagKey"] == "env"
    call("RemoveTags", LoadBalancerId=lb, Tags=[{"TagKey": "env"}])

    fails("DescribeLoadBalancerAttribute", "InvalidLoadBalancerId.NotFound", 404, LoadBalancerId="lb-doesnotexist")
    fails("DeleteServerCertificate", "CertificateAndPrivateKeyIsRefered", 400, ServerCertificateId=cert_id)

    for port in attribute:
        call("StopLoadBalancerListener", LoadBalancerId=lb, ListenerPort=port)
        wait_for("DescribeLoadBalancer%sListenerAttribute" % attribute[port], "stopped", LoadBalancerId=lb,
                 ListenerPort=port)
        call("DeleteLoadBalancerListener", LoadBalancerId=lb, ListenerPort=port)
    call("RemoveBackendServers", LoadBalancerId=lb, BackendServers=["i-sdk-1", "i-sdk-2"])
    call("DeleteVServerGroup", VServerGroupId=group_id)
    call("DeleteMasterSlaveServerGroup", MasterSlaveServerGroupId=ms_id)
    call("SetLoadBalancerStatus", LoadBalancerId=lb, LoadBalancerStatus="inactive")
    attr = call("DescribeLoadBalancerAttribute", LoadBalancerId=lb)
    assert attr["LoadBalancerStatus"] == "inactive" and attr["ListenerPorts"]["ListenerPort"] == []
    call("DeleteLoadBalancer", LoadBalancerId=lb)
    fails("DeleteLoadBalancer", "InvalidLoadBalancerId.NotFound", 404, LoadBalancerId=lb)
    call("DeleteServerCertificate", ServerCertificateId=cert_id)
    call("DeleteCACertificate", CACertificateId=ca_id)

    bad = AcsClient(KEY_ID, KEY_SECRET + "-wrong", REGION)
    try:
        bad.do_action_with_exception(request("DescribeRegions"))
        raise AssertionError("a wrong secret must be refused")
    except ServerException as e:
        assert (e.get_error_code(), e.get_error_msg()) == ("InternalError", "Illegal sign"), e
    print("LIFECYCLE OK: %d steps" % STEPS)


if __name__ == "__main__":
    main()
