#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes manifest check can fail: broken copies of a manifest are each rejected, with the field.

Usage: broken_manifests_test.py CHECKER MANIFEST (run with the Python that has kubernetes-validate)."""

import os
import subprocess
import sys
import tempfile

# (what is broken, text in the manifest, its replacement, what the error must name)
BREAKS = [
    ("a number that is text", "backoffLimitPerIndex: 1", "backoffLimitPerIndex: one",
     "spec.backoffLimitPerIndex: 'one' is not of type"),
    ("a misspelt field", "restartPolicy: Never", "restartPolice: Never",
     "'restartPolice' was unexpected"),
    ("a required field missing", "      containers:\n", "      initContainers:\n",
     "'containers' is a required property"),
    ("an API version that does not exist", "apiVersion: batch/v1", "apiVersion: batch/v7",
     "Couldn't find schema for kind Job with api version batch/v7"),
]


def main():
    checker, manifest = sys.argv[1], sys.argv[2]
    with open(manifest) as f:
        original = f.read()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for what, old, new, expected in BREAKS:
            if original.count(old) != 1:
                failures.append(f"{manifest} no longer has exactly one {old!r}: update this test")
                continue
            broken = os.path.join(tmp, "broken.yaml")
            with open(broken, "w") as f:
                f.write(original.replace(old, new))
            p = subprocess.run([sys.executable, checker, broken], capture_output=True, text=True)
            if p.returncode != 1 or expected not in p.stderr:
                failures.append(f"{what}: exit {p.returncode}, expected 1 and {expected!r} in:\n"
                                f"{p.stdout}{p.stderr}")
            else:
                print(f"rejected, {what}: {p.stderr.splitlines()[0]}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
