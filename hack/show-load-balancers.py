"""Lists the load balancers of an SLB endpoint, with their listeners (state, backend health) and backends, through
the official Python SDK (aliyun-python-sdk-core + aliyun-python-sdk-slb), unchanged.

Usage: show-load-balancers.py HOST:PORT ACCESS_KEY_ID ACCESS_KEY_SECRET REGION   (plain HTTP, as the emulator serves)
"""

import collections
import json
import sys

from aliyunsdkcore.client import AcsClient
from aliyunsdkslb.request.v20140515.DescribeHealthStatusRequest import DescribeHealthStatusRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerAttributeRequest import DescribeLoadBalancerAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerHTTPListenerAttributeRequest import (
    DescribeLoadBalancerHTTPListenerAttributeRequest)
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerHTTPSListenerAttributeRequest import (
    DescribeLoadBalancerHTTPSListenerAttributeRequest)
from aliyunsdkslb.request.v20140515.DescribeLoadBalancersRequest import DescribeLoadBalancersRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerTCPListenerAttributeRequest import (
    DescribeLoadBalancerTCPListenerAttributeRequest)
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerUDPListenerAttributeRequest import (
    DescribeLoadBalancerUDPListenerAttributeRequest)
from aliyunsdkslb.request.v20140515.DescribeVServerGroupAttributeRequest import DescribeVServerGroupAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeVServerGroupsRequest import DescribeVServerGroupsRequest

LISTENER_ATTRIBUTE = {
    "http": DescribeLoadBalancerHTTPListenerAttributeRequest,
    "https": DescribeLoadBalancerHTTPSListenerAttributeRequest,
    "tcp": DescribeLoadBalancerTCPListenerAttributeRequest,
    "udp": DescribeLoadBalancerUDPListenerAttributeRequest,
}

endpoint, key_id, key_secret, region = sys.argv[1:5]
client = AcsClient(key_id, key_secret, region)


def call(request, **params):
    request.set_endpoint(endpoint)
    request.set_protocol_type("http")
    for name, value in params.items():
        getattr(request, "set_" + name)(value)
    return json.loads(client.do_action_with_exception(request))


balancers = call(DescribeLoadBalancersRequest())["LoadBalancers"]["LoadBalancer"]
if not balancers:
    print("no load balancers")
for lb in balancers:
    lb_id = lb["LoadBalancerId"]
    attribute = call(DescribeLoadBalancerAttributeRequest(), LoadBalancerId=lb_id)
    print("%s  %-28s %-15s %-8s %s" % (lb_id, lb["LoadBalancerName"], lb["Address"], lb["AddressType"],
                                        lb["LoadBalancerStatus"]))
    # Backend health per listener port, as counts of each health status.
    health = collections.defaultdict(collections.Counter)
    backends = call(DescribeHealthStatusRequest(), LoadBalancerId=lb_id).get("BackendServers", {})
    for backend in backends.get("BackendServer", []):
        health[backend["ListenerPort"]][backend["ServerHealthStatus"]] += 1
    for listener in attribute.get("ListenerPortsAndProtocol", {}).get("ListenerPortAndProtocol", []):
        protocol, port = listener["ListenerProtocol"], listener["ListenerPort"]
        state = call(LISTENER_ATTRIBUTE[protocol](), LoadBalancerId=lb_id, ListenerPort=port)["Status"]
        counts = ", ".join("%d %s" % (n, status) for status, n in sorted(health[port].items())) or "no backends"
        print("    listener %-5s %-5s %-8s backends: %s" % (protocol.upper(), port, state, counts))
    groups = call(DescribeVServerGroupsRequest(), LoadBalancerId=lb_id).get("VServerGroups", {}).get("VServerGroup", [])
    for group in groups:
        print("    vserver group %s  %s" % (group["VServerGroupId"], group["VServerGroupName"]))
        attribute = call(DescribeVServerGroupAttributeRequest(), VServerGroupId=group["VServerGroupId"])
        for server in attribute.get("BackendServers", {}).get("BackendServer", []):
            print("        backend %s:%s weight %s" % (server["ServerId"], server["Port"], server["Weight"]))
