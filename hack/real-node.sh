# The real node of the local cluster (hack/cluster.sh up --real-node), sourced by hack/cluster.sh: a kubelet on
# containerd (Debian's containerd and runc) with pods on a CNI bridge, kube-proxy, an image registry on 127.0.0.1,
# and CoreDNS as the cluster DNS. Everything it makes is listed here, and node_down removes all of it.
#
# Address plan: all from 198.18.0.0/15, never from 10/8, 172.16/12 or 192.168/16.
#   198.18.0.0/17, 198.19.0.0/17   the SLB addresses the emulator hands out: not used here
#   198.18.128.0/20   the bridge slb0; 198.18.128.1 is the real node's IP and, with --real-node, the apiserver's
#                     address; the real node's pods get 198.18.129.0-198.18.143.254
#   198.18.144.0/20   the kwok nodes' InternalIPs (labels only, never dialled)
#   198.18.160.0/19   the kwok pods' IPs (never dialled)
#   198.19.128.0/20   Services: kubernetes is 198.19.128.1, kube-dns 198.19.128.10
# Nothing leaves this machine: pods have one route, 198.18.0.0/15 via the bridge (no default route), the CNI
# bridge does not masquerade (ipMasq false), kube-proxy masquerades only onto the bridge's own address, CoreDNS
# forwards nowhere, and while the node is up the FORWARD chain drops everything but bridge-to-bridge traffic.

BRIDGE=${SLB_NODE_BRIDGE:-slb0}
NODE_IP=198.18.128.1
NODE_PREFIX=20
POD_CIDR=198.18.128.0/20
POD_RANGE_START=198.18.129.0
POD_RANGE_END=198.18.143.254
CLUSTER_ROUTE=198.18.0.0/15
KWOK_POD_CIDR=198.18.160.0/19
SERVICE_CIDR=198.19.128.0/20
KUBERNETES_SERVICE_IP=198.19.128.1
DNS_SERVICE_IP=198.19.128.10
NODE_NAME=${SLB_NODE_NAME:-slb-node-1}
NODE_ECS_ID=i-node0001
NODE_TAINT=node.slb.operator.dev/real
# Outside the repository: containerd and kubelet mount (overlay, tmpfs, network namespaces) under these.
NODE_ROOT=${SLB_NODE_ROOT:-/var/lib/slb-operator-node}
NODE_STATE=${SLB_NODE_STATE:-/run/slb-operator-node}
CONTAINERD_SOCK=$NODE_STATE/containerd.sock
REGISTRY_PORT=${SLB_REGISTRY_PORT:-5000}
REGISTRY=127.0.0.1:$REGISTRY_PORT
KUBELET_HEALTHZ_PORT=${SLB_KUBELET_HEALTHZ_PORT:-10248}
KUBELET_PORT=${SLB_KUBELET_PORT:-10250}
KUBE_PROXY_HEALTHZ_PORT=${SLB_KUBE_PROXY_HEALTHZ_PORT:-10256}
KUBE_PROXY_METRICS_PORT=${SLB_KUBE_PROXY_METRICS_PORT:-10249}
GUARD_CHAIN=SLB-NODE-GUARD
PAUSE_IMAGE=$REGISTRY/pause:1.0.0
COREDNS_IMAGE=$REGISTRY/coredns:${COREDNS_VERSION#v}

node_ctr() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# What the real node needs from Debian, installed by hack/setup.sh.
node_check_host() {
  local missing=() tool
  for tool in containerd runc ctr iptables buildah skopeo; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  [ ${#missing[@]} -eq 0 ] || die "missing for --real-node: ${missing[*]} (run hack/setup.sh)"
  [ "$(id -u)" -eq 0 ] || die "--real-node needs root (a bridge, network namespaces, cgroups, iptables)"
  local owner name pid
  owner=$(cat "$NODE_STATE/owner" 2>/dev/null || true)
  if [ -n "$owner" ] && [ "$owner" != "$RUN" ]; then
    for name in containerd kubelet kube-proxy registry; do
      pid=$(cat "$owner/$name.pid" 2>/dev/null || true)
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        die "another real node is up, started from $owner; take it down there first"
      fi
    done
    # Its processes are gone (a checkout removed, a machine restarted mid-run): what is left is ours to clear.
    log "clearing what a real node started from $owner left behind (none of its processes runs)"
    node_down
  fi
}

# The bridge, the host's sysctls and the FORWARD guard; before the apiserver, which listens on the bridge.
node_network_up() {
  mkdir -p "$NODE_STATE" "$NODE_ROOT"
  echo "$RUN" >"$NODE_STATE/owner"
  # Host directories kubelet and the CNI plugins create at fixed paths: removed by `down` if they were not there.
  local dir
  for dir in /var/log/containers /var/lib/cni; do
    [ -e "$dir" ] || [ -e "$NODE_STATE/created${dir//\//.}" ] || echo "$dir" >"$NODE_STATE/created${dir//\//.}"
  done
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NODE_IP/$NODE_PREFIX" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  # The host's own traffic to Service addresses goes to the bridge too, never to the default route.
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  # Kept to be restored by `down`: forwarding (pod -> Service -> pod on the bridge) and bridged traffic through
  # iptables (kube-proxy's rules for replies between pods on the same bridge).
  local key file
  for key in net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables; do
    file=$NODE_STATE/sysctl.${key//\//.}
    [ -f "$file" ] || cat "/proc/sys/$key" >"$file"
    echo 1 >"/proc/sys/$key"
  done
  if ! iptables -w -S "$GUARD_CHAIN" >/dev/null 2>&1; then
    iptables -w -N "$GUARD_CHAIN"
    iptables -w -A "$GUARD_CHAIN" -i "$BRIDGE" -o "$BRIDGE" -s "$CLUSTER_ROUTE" -d "$CLUSTER_ROUTE" -j RETURN
    iptables -w -A "$GUARD_CHAIN" -j DROP
  fi
  iptables -w -C FORWARD -j "$GUARD_CHAIN" 2>/dev/null || iptables -w -I FORWARD 1 -j "$GUARD_CHAIN"
}

node_pki() {
  [ -s "$PKI/node.crt" ] && return 0
  (
    cd "$PKI"
    client_cert node "/O=system:nodes/CN=system:node:$NODE_NAME"
    client_cert kube-proxy "/CN=system:kube-proxy"
  ) >>"$RUN/logs/pki.log" 2>&1 || die "certificate generation failed; see $RUN/logs/pki.log"
  write_kubeconfig "$RUN/node.kubeconfig" node
  write_kubeconfig "$RUN/kube-proxy.kubeconfig" kube-proxy
}

# FILE NAME: writes stdin to FILE unless FILE already holds it, and prints NAME if it did not. kube-proxy exits as
# soon as its configuration file is written to (it watches it), and containerd reloads the CNI directory: an `up`
# over a running node must leave unchanged files untouched.
write_if_changed() {
  local file=$1 name=$2
  cat >"$file.new"
  if cmp -s "$file.new" "$file"; then rm -f "$file.new"; else mv "$file.new" "$file"; echo "$name"; fi
}

# Writes the node's configuration files; prints the names of the ones that changed.
node_configs() {
  local dir=$NODE_STATE
  mkdir -p "$dir/cni" "$NODE_ROOT/containerd" "$NODE_ROOT/kubelet" "$NODE_ROOT/cni-ipam" "$NODE_ROOT/pod-logs"
  write_if_changed "$dir/containerd.toml" containerd <<TOML
version = 2
root = "$NODE_ROOT/containerd"
state = "$NODE_STATE/containerd"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Lowering oom_score_adj is refused on this kind of host; without this runc fails with
  # "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  disable_apparmor = true
  # The pods' network namespaces under our state directory, not /var/run/netns: down finds them all there.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$NODE_STATE/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni"
    max_conf_num = 1
  # The local registry speaks plain HTTP on loopback; images reach the node the way users' images do.
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REGISTRY"]
    endpoint = ["http://$REGISTRY"]
TOML
  write_if_changed "$dir/cni/10-slb-node.conflist" cni <<JSON
{
  "cniVersion": "1.0.0",
  "name": "slb-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_ROOT/cni-ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "rangeStart": "$POD_RANGE_START", "rangeEnd": "$POD_RANGE_END", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "$CLUSTER_ROUTE"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}, "snat": false}
  ]
}
JSON
  write_if_changed "$dir/kubelet.yaml" kubelet <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This host has cgroup v1 hierarchies (cgroup2 only at /sys/fs/cgroup/unified); kubelet 1.36 refuses v1 unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
# No upstream resolver: pods with dnsPolicy Default get none, and nothing is asked outside this machine.
resolvConf: ""
providerID: $REGION.$NODE_ECS_ID
registerWithTaints:
- {key: $NODE_TAINT, value: "true", effect: NoSchedule}
failSwapOn: false
serializeImagePulls: false
podLogsDir: $NODE_ROOT/pod-logs
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
YAML
  write_if_changed "$dir/kube-proxy.yaml" kube-proxy <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $RUN/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
clusterCIDR: $POD_CIDR
# Service traffic is masqueraded onto the bridge's address (the only one it can leave by), so replies between
# pods on the one bridge come back through the host; no sysctl or conntrack setting is changed.
iptables: {masqueradeAll: true, localhostNodePorts: false}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
nodePortAddresses: [$NODE_IP/32]
YAML
}

node_healthy() {
  case $1 in
    registry) curl -fsS "http://$REGISTRY/v2/" ;;
    containerd) ctr --address "$CONTAINERD_SOCK" version ;;
    kubelet) curl -fsS "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz" ;;
    kube-proxy) curl -fsS "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/livez" ;;
  esac
}

# The registry, the node's images, containerd, kubelet and kube-proxy; after the control plane.
node_up() {
  start registry "$BIN/registry" --listen "$REGISTRY"
  wait_for registry 20 node_healthy registry
  # The registry keeps images in memory: asked, not remembered, so a restarted registry gets them again.
  if ! curl -fs -o /dev/null "http://$REGISTRY/v2/pause/manifests/1.0.0" \
     || ! curl -fs -o /dev/null "http://$REGISTRY/v2/coredns/manifests/${COREDNS_VERSION#v}"; then
    log "building and pushing the node's images (pause, coredns)"
    "$HACK/image.sh" --push "$REGISTRY" pause coredns >"$RUN/logs/node-images.log" 2>&1 \
      || { tail -n 20 "$RUN/logs/node-images.log" >&2; die "the node's images failed to build"; }
  fi
  # A component whose configuration changed under it (another `up` with other settings) starts again with it.
  local changed name
  changed=$(node_configs)
  for name in containerd kubelet kube-proxy; do
    if grep -qx "$name" <<<"$changed" && running "$name"; then
      log "$name's configuration changed: restarting it"
      stop_component "$name"
    fi
  done
  start containerd containerd --config "$NODE_STATE/containerd.toml"
  wait_for containerd 30 node_healthy containerd
  # Like a kubeadm control-plane node, it takes only the pods that ask for it (its taint) and is no load balancer
  # backend (the exclusion label): Services keep the kwok nodes as backends, whose ECS IDs the tests' emulators know.
  local labels=type=real,topology.kubernetes.io/region=$REGION,node.kubernetes.io/instance-type=local
  labels+=,node.kubernetes.io/exclude-from-external-load-balancers=true
  start kubelet "$BIN/kubelet" --config="$NODE_STATE/kubelet.yaml" --kubeconfig="$RUN/node.kubeconfig" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$NODE_ROOT/kubelet" \
    --cert-dir="$NODE_ROOT/kubelet/pki" --node-labels="$labels" --v=1
  wait_for kubelet 60 node_healthy kubelet
  start kube-proxy "$BIN/kube-proxy" --config="$NODE_STATE/kube-proxy.yaml" --v=1
  wait_for kube-proxy 60 node_healthy kube-proxy
  wait_for "node $NODE_NAME to be Ready" 120 \
    "$BIN/kubectl" --kubeconfig "$KC" wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
  node_dns_up
}

node_dns_up() {
  "$BIN/kubectl" --kubeconfig "$KC" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  # The cluster zone only: no forward plugin, so no name is ever asked outside this machine.
  Corefile: |
    .:53 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            ttl 30
        }
        cache 30
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: 1
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      serviceAccountName: coredns
      dnsPolicy: Default
      priorityClassName: system-cluster-critical
      nodeSelector: {type: real}
      tolerations:
      - {key: $NODE_TAINT, operator: Exists, effect: NoSchedule}
      containers:
      - name: coredns
        image: $COREDNS_IMAGE
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
        livenessProbe:
          httpGet: {path: /health, port: 8080}
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 2
        resources:
          requests: {cpu: 20m, memory: 32Mi}
          limits: {memory: 128Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
        volumeMounts:
        - {name: config, mountPath: /etc/coredns, readOnly: true}
      volumes:
      - name: config
        configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: $DNS_SERVICE_IP
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
YAML
  wait_for "CoreDNS to be available" 120 \
    "$BIN/kubectl" --kubeconfig "$KC" -n kube-system rollout status deployment/coredns --timeout=1s
}

# Removes what node_up and node_network_up made; safe to run when they did not run or half ran.
node_down() {
  local name pid netns id chain table
  # The pods: their network namespaces (from the sandboxes' specs), then every container and its shim.
  if [ -S "$CONTAINERD_SOCK" ]; then
    for id in $(node_ctr containers list -q 2>/dev/null); do
      echo "$id" >>"$NODE_STATE/containers"
      node_ctr containers info "$id" 2>/dev/null \
        | jq -r '.Spec.linux.namespaces[]? | select(.type == "network") | .path // empty' 2>/dev/null
    done | sort -u >"$NODE_STATE/netns" 2>/dev/null || true
  fi
  for name in kube-proxy kubelet; do stop_component "$name"; done
  if [ -d "$NODE_STATE/runc/k8s.io" ]; then
    for id in $(runc --root "$NODE_STATE/runc/k8s.io" list -q 2>/dev/null); do
      runc --root "$NODE_STATE/runc/k8s.io" delete --force "$id" >/dev/null 2>&1 || true
    done
  fi
  stop_component containerd
  # The shims outlive containerd by design: they are the ones serving our socket.
  for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  stop_component registry
  if [ -f "$NODE_STATE/netns" ]; then
    while read -r netns; do
      [ -n "$netns" ] && [ -e "$netns" ] || continue
      umount "$netns" 2>/dev/null || umount -l "$netns" 2>/dev/null || true
      rm -f "$netns"
    done <"$NODE_STATE/netns"
  fi
  # Every mount under the node's directories, deepest first.
  { findmnt -rn -o TARGET | grep -E "^($NODE_ROOT|$NODE_STATE)(/|$)" || true; } | sort -r | while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
  done
  # iptables: kube-proxy's own clean-up, then whatever kubelet, kube-proxy, the CNI plugins and the guard left.
  [ ! -x "${BIN:-}/kube-proxy" ] || "$BIN/kube-proxy" --cleanup --proxy-mode=iptables >/dev/null 2>&1 || true
  local ipt
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for table in filter nat mangle raw; do
      { "$ipt" -w -t "$table" -S 2>/dev/null || true; } \
        | { grep -E -- '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-|SLB-NODE)' || true; } \
        | sed 's/^-A /-D /' | while read -r rule; do eval "$ipt -w -t $table $rule" 2>/dev/null || true; done
      for chain in $({ "$ipt" -w -t "$table" -S 2>/dev/null || true; } | sed -n -E 's/^-N ((KUBE-|CNI-|SLB-NODE)[^ ]*)$/\1/p'); do
        "$ipt" -w -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $({ "$ipt" -w -t "$table" -S 2>/dev/null || true; } | sed -n -E 's/^-N ((KUBE-|CNI-|SLB-NODE)[^ ]*)$/\1/p'); do
        "$ipt" -w -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE"; fi
  # The pods' cgroups, once their processes are gone.
  local cgroup
  for cgroup in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$cgroup" ] || continue
    for _ in 1 2 3 4 5; do
      find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$cgroup" ] || break
      sleep 0.5
    done
  done
  local file key
  for file in "$NODE_STATE"/sysctl.*; do
    [ -f "$file" ] || continue
    key=${file##*/sysctl.}
    cat "$file" >"/proc/sys/${key//.//}" 2>/dev/null || true
  done
  # kubelet links every container's log from /var/log/containers (a fixed path) to its own directory.
  [ ! -d /var/log/containers ] || find /var/log/containers -maxdepth 1 -lname "$NODE_ROOT/*" -delete 2>/dev/null || true
  # libcni's cache of each sandbox's results (bridge and loopback), at a fixed path.
  rm -f /var/lib/cni/results/slb-node-* 2>/dev/null || true
  if [ -f "$NODE_STATE/containers" ]; then
    while read -r id; do rm -f /var/lib/cni/results/*-"$id"-* 2>/dev/null || true; done <"$NODE_STATE/containers"
  fi
  for file in "$NODE_STATE"/created.*; do
    [ -f "$file" ] || continue
    find "$(cat "$file")" -depth -type d -empty -delete 2>/dev/null || true
  done
  rm -rf "$NODE_STATE" "$NODE_ROOT"
}
