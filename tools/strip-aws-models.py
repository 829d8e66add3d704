#!/usr/bin/env python3
"""Copy AWS's service models (botocore JSON) into assets/aws-models without their
documentation strings, so the emulator can embed them (about 480 KB instead of 2.2 MB).

Usage: tools/strip-aws-models.py ../shared/reference/aws-models assets/aws-models
"""
import json
import os
import sys


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "documentation"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


src, dst = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    if not name.endswith(".json"):
        continue
    with open(os.path.join(src, name)) as f:
        model = strip(json.load(f))
    # Files are named by service only, so the code does not depend on API dates.
    service = model["metadata"]["endpointPrefix"].replace("api.", "")
    with open(os.path.join(dst, service + ".json"), "w") as f:
        json.dump(model, f, separators=(",", ":"), sort_keys=True)
    print(name, "->", service + ".json")
