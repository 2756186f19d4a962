#!/usr/bin/env bash
# A real local Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# and kwok (fake nodes and pods). Binaries come from hack/build-tools.sh (built from Go modules, cached by version).
# With --real-node, also a real node beside the kwok ones (hack/real-node.sh: kubelet, containerd, kube-proxy, a
# CNI bridge, CoreDNS and an image registry on 127.0.0.1; needs root), and the apiserver listens on the bridge.
#
#   hack/cluster.sh up [--nodes N] [--real-node]
#                                    start (idempotent) and wait until ready; creates N fake nodes (default 3)
#   hack/cluster.sh down             stop everything `up` started and remove its state (and the real node's)
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
source "$HACK/real-node.sh"
# The Service range, the kwok nodes' InternalIPs (198.18.144.0/20) and pod IPs (labels only, never dialled): see
# the address plan in hack/real-node.sh, which holds for both modes.
# Set by `up --real-node` (and remembered in $RUN/real-node): the real node's components, and the apiserver on the
# bridge's address instead of loopback.
REAL_NODE=false
[ ! -f "$RUN/real-node" ] || REAL_NODE=true
api_host() { if $REAL_NODE; then echo "$NODE_IP"; else echo 127.0.0.1; fi; }
components() {
  if $REAL_NODE; then
    echo etcd kube-apiserver kube-controller-manager kube-scheduler registry containerd kubelet kube-proxy kwok
  else
    echo "${COMPONENTS[@]}"
  fi
}

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }

pid_of() { [ -f "$RUN/$1.pid" ] && cat "$RUN/$1.pid"; }
running() { local pid; pid=$(pid_of "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

start() {
  local name=$1; shift
  if running "$name"; then return 0; fi
  # setsid: the component outlives the calling shell and gets its own process group for `down`.
  setsid "$@" >>"$RUN/logs/$name.log" 2>&1 < /dev/null &
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
                      "https://$(api_host):$APISERVER_PORT/readyz" ;;
    kube-controller-manager) curl -fsSk "https://127.0.0.1:$KCM_PORT/healthz" ;;
    kube-scheduler) curl -fsSk "https://127.0.0.1:$SCHEDULER_PORT/healthz" ;;
    kwok) running kwok ;;
    *) node_healthy "$1" ;;
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
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$KUBERNETES_SERVICE_IP,IP:$NODE_IP" \
      > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile apiserver.ext -out apiserver.crt
    client_cert admin "/O=system:masters/CN=slb-operator-admin"
    # The apiserver's identity towards kubelets (logs, exec); kubelets authorise it by SubjectAccessReview.
    client_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >"$RUN/logs/pki.log" 2>&1 || die "certificate generation failed; see $RUN/logs/pki.log"
  write_kubeconfig "$KC" admin
}

# NAME SUBJECT: a client certificate NAME.crt/NAME.key signed by the local CA (run in $PKI).
client_cert() {
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=clientAuth" > client.ext
  openssl req -new -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out "$1.crt"
}

# FILE NAME: a kubeconfig for the client certificate NAME.
write_kubeconfig() {
  cat >"$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: slb-local
  cluster:
    server: https://$(api_host):$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: slb-$2
  user:
    client-certificate: $PKI/$2.crt
    client-key: $PKI/$2.key
contexts:
- name: slb-local
  context: {cluster: slb-local, user: slb-$2, namespace: default}
current-context: slb-local
KUBECONFIG
}

create_nodes() {
  local count=$1 i
  # One apply for all of them (a kubectl start per node took minutes at 200), then one wait for all, with
  # time that grows with the count: kwok marks about 20 nodes a second Ready on a busy 2-core machine.
  for i in $(seq 1 "$count"); do
    # The Alibaba providerID form is <region>.<ecs-instance-id>; the InternalIP is a label only, never dialled.
    cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    topology.kubernetes.io/region: $REGION
spec:
  providerID: $REGION.$(printf 'i-%04d' "$i")
status:
  addresses:
  - type: InternalIP
    address: 198.18.$((144 + i / 250)).$((i % 250 + 1))
  - type: Hostname
    address: kwok-node-$i
NODE
  done > "$RUN/nodes.yaml"
  # create, not apply: a Node's addresses are taken from the manifest only on create. Nodes left from an
  # earlier `up` are kept as they are.
  if ! "$BIN/kubectl" --kubeconfig "$KC" create -f "$RUN/nodes.yaml" >/dev/null 2>"$RUN/logs/nodes.err" &&
    grep -v AlreadyExists "$RUN/logs/nodes.err" >&2; then
    die "creating the nodes failed"
  fi
  local seconds=$((60 + count / 2))
  wait_for "$count nodes to be Ready" "$seconds" "$BIN/kubectl" --kubeconfig "$KC" wait --for=condition=Ready \
    node -l type=kwok --timeout="${seconds}s"
}

cmd_up() {
  local nodes=3 real_node=false
  while [ $# -gt 0 ]; do
    case $1 in
      --nodes) nodes=${2:?--nodes needs a number}; shift 2 ;;
      --nodes=*) nodes=${1#--nodes=}; shift ;;
      --real-node) real_node=true; shift ;;
      *) die "unknown flag for up: $1" ;;
    esac
  done
  if $real_node && ! $REAL_NODE && running kube-apiserver; then
    die "the cluster is up without a real node; run \`$0 down\` first"
  fi
  if $real_node || $REAL_NODE; then
    REAL_NODE=true
    node_check_host
    BIN=$("$HACK/build-tools.sh" --real-node)
  else
    BIN=$("$HACK/build-tools.sh")
  fi
  mkdir -p "$RUN/logs" "$RUN/etcd"
  if $REAL_NODE; then touch "$RUN/real-node"; node_network_up; fi
  make_pki
  if $REAL_NODE; then node_pki; fi

  start etcd "$BIN/etcd" --name=slb-local --data-dir="$RUN/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="slb-local=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls="" \
    --unsafe-no-fsync=true --log-level=warn
  wait_for etcd 30 healthy etcd

  # With a real node, pods reach the apiserver through the kubernetes Service: it listens on the bridge, and the
  # lease reconciler publishes that address as the Service's endpoint.
  local reconciler=none
  if $REAL_NODE; then reconciler=lease; fi
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address="$(api_host)" --advertise-address="$(api_host)" --secure-port="$APISERVER_PORT" \
    --endpoint-reconciler-type="$reconciler" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" --kubelet-preferred-address-types=InternalIP \
    --cert-dir="$RUN/apiserver-certs" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false --v=1
  wait_for kube-apiserver 90 healthy kube-apiserver

  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$KC" --authentication-kubeconfig="$KC" --authorization-kubeconfig="$KC" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --controllers='*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller' \
    --kube-api-qps=200 --kube-api-burst=400 --profiling=false --v=1
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$KC" --authentication-kubeconfig="$KC" --authorization-kubeconfig="$KC" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false \
    --kube-api-qps=200 --kube-api-burst=400 --profiling=false --v=1
  wait_for kube-controller-manager 60 healthy kube-controller-manager
  wait_for kube-scheduler 60 healthy kube-scheduler

  if $REAL_NODE; then node_up; fi

  # kwok manages only its own nodes (the annotation create_nodes puts on them), never the real one.
  start kwok "$BIN/kwok" --kubeconfig="$KC" --config="$BIN/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr="$KWOK_POD_CIDR" --node-ip=198.18.144.1 --node-lease-duration-seconds=40
  wait_for kwok 10 healthy kwok

  create_nodes "$nodes"
  wait_for "the default ServiceAccount" 60 "$BIN/kubectl" --kubeconfig "$KC" -n default get serviceaccount default
  local real=""
  if $REAL_NODE; then real=" and the real node $NODE_NAME (registry $REGISTRY)"; fi
  log "ready: $(curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://$(api_host):$APISERVER_PORT/version" | jq -r .gitVersion), $nodes kwok nodes$real; KUBECONFIG=$KC"
}

# Stops a component started by `start`: SIGTERM to its process group, SIGKILL after 10 s.
stop_component() {
  local pid
  pid=$(pid_of "$1" || true)
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$RUN/$1.pid"
}

cmd_down() {
  local name pid
  # The real node first, while its containers can still be listed; also when `up` stopped half way.
  local owner=""
  owner=$(cat "$NODE_STATE/owner" 2>/dev/null || true)
  if [ "$owner" = "$RUN" ] || { $REAL_NODE && [ -z "$owner" ]; }; then
    BIN=$(tools_bin_dir)
    node_down
  fi
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
  for name in $(components); do
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
  env) echo "export KUBECONFIG=$KC"
       if $REAL_NODE; then echo "export SLB_REGISTRY=$REGISTRY"; fi ;;
  *) echo "usage: $0 up [--nodes N] [--real-node] | down | status | env" >&2; exit 2 ;;
esac
