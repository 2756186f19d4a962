"""A lifecycle driven by the newer official client (alibabacloud-slb20140515 on alibabacloud-tea-openapi),
unchanged, against an emulator.

Usage: lifecycle_tea.py ENDPOINT ACCESS_KEY_ID ACCESS_KEY_SECRET [v2|acs3]   (ENDPOINT is host:port, plain HTTP)

`v2` (the default here) configures `signature_algorithm='v2'`, the client's switch to the HMAC-SHA1 query
signature that API version 2014-05-15 defines (POST, parameters in the query string, Format=json). `acs3` keeps
the client's own default, the ACS3-HMAC-SHA256 header signature.
"""

import sys
import time

from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.utils_models import Config

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


def wait_running(port):
    for _ in range(100):
        body = call("describe_load_balancer_tcplistener_attribute",
                    models.DescribeLoadBalancerTCPListenerAttributeRequest(region_id=REGION, load_balancer_id=LB[0],
                                                                           listener_port=port))
        if body.status == "running":
            return body
        time.sleep(0.05)
    raise AssertionError("listener %d never ran" % port)


LB = []


def main():
    regions = call("describe_regions", models.DescribeRegionsRequest(region_id=REGION))
    assert REGION in [r.region_id for r in regions.regions.region]

    created = call("create_load_balancer", models.CreateLoadBalancerRequest(
        region_id=REGION, load_balancer_name="tea-lb", address_type="internet", client_token="tea-token-" + MODE))
    lb = created.load_balancer_id
    LB.append(lb)
    again = call("create_load_balancer", models.CreateLoadBalancerRequest(
        region_id=REGION, load_balancer_name="tea-lb", address_type="internet", client_token="tea-token-" + MODE))
    assert again.load_balancer_id == lb

    listed = call("describe_load_balancers", models.DescribeLoadBalancersRequest(region_id=REGION,
                                                                                 load_balancer_id=lb))
    assert [x.load_balancer_name for x in listed.load_balancers.load_balancer] == ["tea-lb"]

    call("add_backend_servers", models.AddBackendServersRequest(
        region_id=REGION, load_balancer_id=lb, backend_servers='[{"ServerId":"i-tea-1","Weight":100}]'))
    call("create_load_balancer_tcplistener", models.CreateLoadBalancerTCPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=443, backend_server_port=8443, bandwidth=-1))
    call("start_load_balancer_listener", models.StartLoadBalancerListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=443))
    tcp = wait_running(443)
    assert tcp.backend_server_port == 8443 and tcp.health_check == "on"
    health = call("describe_health_status", models.DescribeHealthStatusRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=443))
    assert [(s.server_id, s.server_health_status) for s in health.backend_servers.backend_server] == [
        ("i-tea-1", "normal")]

    attr = call("describe_load_balancer_attribute", models.DescribeLoadBalancerAttributeRequest(
        region_id=REGION, load_balancer_id=lb))
    assert attr.listener_ports.listener_port == [443]
    assert attr.listener_ports_and_protocol.listener_port_and_protocol[0].listener_protocol == "tcp"
    assert attr.backend_servers.backend_server[0].server_id == "i-tea-1"

    fails("describe_load_balancer_attribute", models.DescribeLoadBalancerAttributeRequest(
        region_id=REGION, load_balancer_id="lb-doesnotexist"), "InvalidLoadBalancerId.NotFound", 404)

    call("stop_load_balancer_listener", models.StopLoadBalancerListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=443))
    call("delete_load_balancer", models.DeleteLoadBalancerRequest(region_id=REGION, load_balancer_id=lb))
    fails("delete_load_balancer", models.DeleteLoadBalancerRequest(region_id=REGION, load_balancer_id=lb),
          "InvalidLoadBalancerId.NotFound", 404)

    global CLIENT
    CLIENT = client(KEY_SECRET + "-wrong")
    fails("describe_regions", models.DescribeRegionsRequest(region_id=REGION), "InternalError", 400)
    print("TEA LIFECYCLE OK (%s): %d steps" % (MODE, STEPS))


if __name__ == "__main__":
    main()
