#!/usr/bin/env bash
# A real local Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# and kwok (fake nodes and pods). Binaries come from hack/build-tools.sh (built from Go modules, cached by version).
#
#   hack/cluster.sh up [--nodes N]   start (idempotent) and wait until ready; creates N fake nodes (default 3)
#   hack/cluster.sh down             stop everything `up` started and remove its state
#   hack/cluster.sh status           show each component and whether it is healthy
#   hack/cluster.sh env              print `export KUBECONFIG=...` (use: eval "$(hack/cluster.sh env)")
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
source "$HACK/versions.sh"
RUN=${SLB_CLUSTER_DIR:-$REPO/.run/cluster}
PKI=$RUN/pki
KC=$RUN/admin.kubeconfig
REGION=${SLB_CLUSTER_REGION:-cn-hangzhou}
ETCD_PORT=${SLB_ETCD_PORT:-2379}
ETCD_PEER_PORT=${SLB_ETCD_PEER_PORT:-2380}
APISERVER_PORT=${SLB_APISERVER_PORT:-6443}
KCM_PORT=${SLB_KCM_PORT:-10257}
SCHEDULER_PORT=${SLB_SCHEDULER_PORT:-10259}
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }

pid_of() { [ -f "$RUN/$1.pid" ] && cat "$RUN/$1.pid"; }
running() { local pid; pid=$(pid_of "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

start() {
  local name=$1; shift
  if running "$name"; then return 0; fi
  # setsid: the component outlives the calling shell and gets its own process group for `down`.
  setsid "$@" >"$RUN/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_for() {
  local what=$1 seconds=$2; shift 2
  for _ in $(seq "$((seconds * 2))"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "timed out after ${seconds}s waiting for $what; last lines of the logs:"
  tail -n 20 "$RUN"/logs/*.log >&2 || true
  return 1
}

healthy() {
  case $1 in
    etcd) curl -fsS "http://127.0.0.1:$ETCD_PORT/health" ;;
    kube-apiserver) curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
                      "https://127.0.0.1:$APISERVER_PORT/readyz" ;;
    kube-controller-manager) curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz" ;;
    kube-scheduler) curl -fsSk "https://127.0.0.1:$SCHEDULER_PORT/healthz" ;;
    kwok) running kwok ;;
  esac
}

make_pki() {
  [ -s "$PKI/admin.crt" ] && return 0
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=slb-operator-local-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -keyout ca.key -out ca.crt
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1" \
      > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile apiserver.ext -out apiserver.crt
    openssl req -new -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=slb-operator-admin" -keyout admin.key -out admin.csr
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=clientAuth" > client.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out admin.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >"$RUN/logs/pki.log" 2>&1 || die "certificate generation failed; see $RUN/logs/pki.log"
  cat >"$KC" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: slb-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: slb-admin
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: slb-local
  context: {cluster: slb-local, user: slb-admin, namespace: default}
current-context: slb-local
KUBECONFIG
}

create_nodes() {
  local count=$1 i name
  for i in $(seq 1 "$count"); do
    name=$(printf 'kwok-node-%d' "$i")
    "$BIN/kubectl" --kubeconfig "$KC" get node "$name" >/dev/null 2>&1 && continue
    # The Alibaba providerID form is <region>.<ecs-instance-id>; the InternalIP is a label only, never dialled.
    "$BIN/kubectl" --kubeconfig "$KC" create -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    topology.kubernetes.io/region: $REGION
spec:
  providerID: $REGION.$(printf 'i-%04d' "$i")
status:
  addresses:
  - type: InternalIP
    address: 10.240.0.$((10 + i))
  - type: Hostname
    address: $name
NODE
  done
  wait_for "nodes to be Ready" 60 "$BIN/kubectl" --kubeconfig "$KC" wait --for=condition=Ready node --all --timeout=1s
}

cmd_up() {
  local nodes=3
  while [ $# -gt 0 ]; do
    case $1 in
      --nodes) nodes=${2:?--nodes needs a number}; shift 2 ;;
      --nodes=*) nodes=${1#--nodes=}; shift ;;
      *) die "unknown flag for up: $1" ;;
    esac
  done
  BIN=$("$HACK/build-tools.sh")
  mkdir -p "$RUN/logs" "$RUN/etcd"
  make_pki

  start etcd "$BIN/etcd" --name=slb-local --data-dir="$RUN/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="slb-local=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls="" \
    --unsafe-no-fsync=true --log-level=warn
  wait_for etcd 30 healthy etcd

  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --endpoint-reconciler-type=none \
    --cert-dir="$RUN/apiserver-certs" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false --v=1
  wait_for kube-apiserver 90 healthy kube-apiserver

  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$KC" --authentication-kubeconfig="$KC" --authorization-kubeconfig="$KC" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --controllers='*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller' \
    --profiling=false --v=1
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$KC" --authentication-kubeconfig="$KC" --authorization-kubeconfig="$KC" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false --v=1
  wait_for kube-controller-manager 60 healthy kube-controller-manager
  wait_for kube-scheduler 60 healthy kube-scheduler

  start kwok "$BIN/kwok" --kubeconfig="$KC" --config="$BIN/kwok-stages.yaml" \
    --manage-all-nodes=true --cidr=10.244.0.0/16 --node-ip=10.240.0.10 --node-lease-duration-seconds=40
  wait_for kwok 10 healthy kwok

  create_nodes "$nodes"
  wait_for "the default ServiceAccount" 60 "$BIN/kubectl" --kubeconfig "$KC" -n default get serviceaccount default
  log "ready: $(curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/version" | jq -r .gitVersion), $nodes nodes; KUBECONFIG=$KC"
}

cmd_down() {
  local name pid
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    pid=$(pid_of "$name" || true)
    [ -n "$pid" ] || continue
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    pid=$(pid_of "$name" || true)
    [ -n "$pid" ] || continue
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$RUN/$name.pid"
  done
  rm -rf "$RUN"
  log "down"
}

cmd_status() {
  local name state rc=0
  for name in "${COMPONENTS[@]}"; do
    if ! running "$name"; then state="stopped"; rc=1
    elif healthy "$name" >/dev/null 2>&1; then state="healthy (pid $(pid_of "$name"))"
    else state="unhealthy (pid $(pid_of "$name"))"; rc=1
    fi
    printf '%-24s %s\n' "$name" "$state"
  done
  return $rc
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) echo "export KUBECONFIG=$KC" ;;
  *) echo "usage: $0 up [--nodes N] | down | status | env" >&2; exit 2 ;;
esac
