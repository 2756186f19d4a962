"""Lists the load balancers of an SLB endpoint, with their listeners and backends, through the official
Python SDK (aliyun-python-sdk-core + aliyun-python-sdk-slb), unchanged.

Usage: show-load-balancers.py HOST:PORT ACCESS_KEY_ID ACCESS_KEY_SECRET REGION   (plain HTTP, as the emulator serves)
"""

import json
import sys

from aliyunsdkcore.client import AcsClient
from aliyunsdkslb.request.v20140515.DescribeLoadBalancerAttributeRequest import DescribeLoadBalancerAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeLoadBalancersRequest import DescribeLoadBalancersRequest
from aliyunsdkslb.request.v20140515.DescribeVServerGroupAttributeRequest import DescribeVServerGroupAttributeRequest
from aliyunsdkslb.request.v20140515.DescribeVServerGroupsRequest import DescribeVServerGroupsRequest

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
    for listener in attribute.get("ListenerPortsAndProtocol", {}).get("ListenerPortAndProtocol", []):
        print("    listener %-5s %-5s" % (listener["ListenerProtocol"].upper(), listener["ListenerPort"]))
    groups = call(DescribeVServerGroupsRequest(), LoadBalancerId=lb_id).get("VServerGroups", {}).get("VServerGroup", [])
    for group in groups:
        print("    vserver group %s  %s" % (group["VServerGroupId"], group["VServerGroupName"]))
        attribute = call(DescribeVServerGroupAttributeRequest(), VServerGroupId=group["VServerGroupId"])
        for server in attribute.get("BackendServers", {}).get("BackendServer", []):
            print("        backend %s:%s weight %s" % (server["ServerId"], server["Port"], server["Weight"]))
