#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks Kubernetes manifests against the API's schemas, offline.

Every document of every file is validated strictly (unknown fields are errors, as `kubectl create`
with server-side field validation rejects them) against the schemas kubernetes-validate bundles, for
each Kubernetes version given (default: 1.29, the oldest sweeps/deploy/k8s_indexed_job.yaml supports
because of backoffLimitPerIndex, and the newest the package knows). A kind without a schema is an
error too. It uses kubernetes-validate's library, not its command line, which fails on a manifest
that has metadata.generateName and no name (kubernetes-validate 1.37.0).

Usage: check_k8s_manifests.py [--kubernetes-version V]... MANIFEST...
Exit: 0 all valid, 1 something invalid (each error on stderr), 2 usage or kubernetes-validate missing."""

import argparse
import sys

try:
    import kubernetes_validate
    import kubernetes_validate.utils
    import yaml
except ImportError as e:
    print(f"check_k8s_manifests.py: error: {e.name} is not installed for {sys.executable}; "
          "bash cmake/install-deps.sh installs kubernetes-validate (tests/sweep/deploy/requirements.txt) "
          "into mlflow/.venv", file=sys.stderr)
    sys.exit(2)

OLDEST = "1.29.0"


def describe(doc):
    meta = doc.get("metadata") or {}
    name = meta.get("name") or (meta.get("generateName", "") + "*")
    return f"{doc.get('kind', '?')} {name}"


def check_file(path, versions):
    """Returns the number of errors, each printed as FILE: KIND NAME: Kubernetes V: PATH: MESSAGE."""
    try:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    if not docs:
        print(f"{path}: no Kubernetes object in the file", file=sys.stderr)
        return 1
    errors = 0
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
            print(f"{path}: a document without kind and apiVersion", file=sys.stderr)
            errors += 1
            continue
        for version in versions:
            where = f"{path}: {describe(doc)}: Kubernetes {version}"
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                field = ".".join(str(p) for p in e.path) or "(top level)"
                print(f"{where}: {field}: {e.message}", file=sys.stderr)
                errors += 1
            except kubernetes_validate.SchemaNotFoundError as e:
                print(f"{where}: {e.message}", file=sys.stderr)
                errors += 1
            else:
                print(f"{where}: valid")
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kubernetes-version", action="append", metavar="V",
                    help=f"validate against this version (repeatable; default {OLDEST} and the newest known)")
    ap.add_argument("manifests", nargs="+", metavar="MANIFEST")
    args = ap.parse_args()
    versions = args.kubernetes_version or [OLDEST, kubernetes_validate.latest_version()]
    known = kubernetes_validate.utils.all_versions()
    for v in versions:
        if v not in known:
            ap.error(f"--kubernetes-version {v}: kubernetes-validate {kubernetes_validate.__version__} "
                     f"has the schemas of {', '.join(sorted(set(known), key=known.index))}")
    errors = sum(check_file(path, versions) for path in args.manifests)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
