"""Signs parameter sets with the official SDK's RPC signer (aliyunsdkcore), for the differential test.

stdin:  JSON list of {"method": "GET"|"POST", "params": {name: value}, "secret": str}
stdout: JSON list of {"string_to_sign": str, "signature": str}, in the same order.
"""
import json
import sys

from aliyunsdkcore.auth.composer import rpc_signature_composer as composer

# The composer's helpers are module-private by convention (double underscore, no mangling at module level).
compose_string_to_sign = getattr(composer, "__compose_string_to_sign")
get_signature = getattr(composer, "__get_signature")

results = []
for case in json.load(sys.stdin):
    string_to_sign = compose_string_to_sign(case["method"], dict(case["params"]))
    results.append({"string_to_sign": string_to_sign, "signature": get_signature(string_to_sign, case["secret"])})
json.dump(results, sys.stdout)
