#!/usr/bin/env bash
# etc/kubernetes: the fleet manifests (docs/fleet.md). With kubectl and a
# reachable cluster API, `kubectl apply --dry-run=client` validates them
# against the cluster's schemas; without one (CI, this machine) kubectl
# cannot even map kinds, so a schema check does: every document parses,
# has apiVersion/kind/metadata.name of a known kind, the DaemonSet runs with
# hostNetwork, mounts what the config names and scrapes what the
# ServiceMonitor selects; and the turnwarden.yaml in the ConfigMap passes
# `turnwarden check-config` (its absolute paths moved into a temp dir).
# Usage: kubernetes_test.sh BUILD/turnwarden
set -euo pipefail
binary="$1"
dir="${TW_SOURCE_DIR:?}/etc/kubernetes"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if command -v kubectl >/dev/null 2>&1 && kubectl version --request-timeout=3s >/dev/null 2>&1; then
  kubectl apply --dry-run=client -f "$dir"
  echo "kubectl dry-run: ok"
else
  echo "kubectl or a cluster API is not available: schema check only"
fi

python3 - "$dir" "$tmp" <<'PY'
import glob, os, sys, yaml
src, tmp = sys.argv[1], sys.argv[2]
known = {("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"),
         ("apps/v1", "DaemonSet"), ("apps/v1", "StatefulSet"),
         ("networking.k8s.io/v1", "NetworkPolicy"), ("monitoring.coreos.com/v1", "ServiceMonitor"),
         ("v1", "ServiceAccount"), ("rbac.authorization.k8s.io/v1", "ClusterRole"),
         ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")}
docs = []
for path in sorted(glob.glob(os.path.join(src, "*.yaml"))):
    for d in yaml.safe_load_all(open(path)):
        if d is None:
            continue
        where = f"{os.path.basename(path)}: {d.get('kind')}/{d.get('metadata', {}).get('name')}"
        assert (d.get("apiVersion"), d.get("kind")) in known, f"{where}: unknown apiVersion/kind"
        assert d["metadata"].get("name"), f"{where}: no metadata.name"
        docs.append((where, d))
by_kind = {}
for where, d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
ds = by_kind["DaemonSet"][0]
pod = ds["spec"]["template"]["spec"]
assert pod.get("hostNetwork") is True, "the relay DaemonSet must use hostNetwork"
assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()
volumes = {v["name"] for v in pod["volumes"]}
for c in pod["containers"] + pod.get("initContainers", []):
    for m in c.get("volumeMounts", []):
        assert m["name"] in volumes, f"mount {m['name']} has no volume"
sm = by_kind["ServiceMonitor"][0]
svc = [s for s in by_kind["Service"] if s["metadata"].get("labels", {}).items() >= sm["spec"]["selector"]["matchLabels"].items()]
assert svc, "no Service carries the ServiceMonitor's labels"
assert any(p["name"] == sm["spec"]["endpoints"][0]["port"] for p in svc[0]["spec"]["ports"])
assert by_kind["StatefulSet"], "no Redis StatefulSet"
config = by_kind["ConfigMap"][0]["data"]["turnwarden.yaml"]
for path in ("/etc/turnwarden/redis/password", "/etc/turnwarden/admin/token"):
    os.makedirs(os.path.dirname(tmp + path), exist_ok=True)
    with open(tmp + path, "w") as f:
        f.write("0123456789abcdef0123456789abcdef\n")
    os.chmod(tmp + path, 0o600)
config = config.replace("/etc/turnwarden/", tmp + "/etc/turnwarden/").replace("/var/lib/turnwarden/", tmp + "/")
cfg = yaml.safe_load(config)
# The public address: on EKS/GKE/AKS status.hostIP is private, so the init container reads
# the node's annotation or ExternalIP through the API, as the pod's own service account.
assert cfg["relay"]["addresses"] == ["__HOST_IP__"], "relay addresses: the node's own address"
assert cfg["relay"]["external_address"] == "__PUBLIC_IP__", "external_address comes from the node"
assert cfg["metrics"]["listen"].startswith("__HOST_IP__:"), "/metrics listens on the private address, never 0.0.0.0"
init = [c for c in pod["initContainers"] if c["name"] == "config"][0]
script = "\n".join(init["command"])
for needle in ("turnwarden\\.io/external-address", 'type=="ExternalIP"', "exit 1", "__PUBLIC_IP__", "__HOST_IP__"):
    assert needle in script, f"init container script lacks {needle}"
env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in init["env"]}
assert env == {"HOST_IP": "status.hostIP", "NODE_NAME": "spec.nodeName"}, env
sa = pod.get("serviceAccountName")
assert sa and any(d["metadata"]["name"] == sa for d in by_kind["ServiceAccount"]), "no ServiceAccount"
role = by_kind["ClusterRole"][0]
assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}], "RBAC: get nodes only"
binding = by_kind["ClusterRoleBinding"][0]
assert binding["roleRef"]["name"] == role["metadata"]["name"]
assert {"kind": "ServiceAccount", "name": sa, "namespace": "turnwarden"} in binding["subjects"]
# What the init container writes, with a private node address and a public one.
config = config.replace("__HOST_IP__", "127.0.0.1").replace("__PUBLIC_IP__", "203.0.113.10")
open(os.path.join(tmp, "turnwarden.yaml"), "w").write(config)
print(f"schema check: {len(docs)} documents ok")
PY
"$binary" check-config "$tmp/turnwarden.yaml"
