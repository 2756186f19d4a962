#!/usr/bin/env bash
# The demo, installed as users install the operator: sets up what is missing, builds the images, brings up the
# local cluster with its real node, installs the SLB emulator and the operator with Helm (images pinned by digest,
# pulled from the cluster's registry), applies the examples, waits for them to be Ready and shows the load
# balancers the operator made. Needs root (the real node). Everything stays running; `hack/demo.sh down` stops it.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
cd "$REPO"
RUN=$REPO/.run/demo
NS=slb-system
log() { echo "demo: $*" >&2; }

if [ "${1:-}" = down ]; then
  rm -rf "$RUN"
  "$HACK/cluster.sh" down
  exit 0
fi
started=$(date +%s)

"$HACK/setup.sh"
"$HACK/cluster.sh" up --real-node
eval "$("$HACK/cluster.sh" env)"
BIN=$("$HACK/build-tools.sh")
kubectl() { "$BIN/kubectl" "$@"; }
helm() { "$BIN/helm" "$@"; }
mkdir -p "$RUN"

log "building the images and pushing them to the cluster's registry ($SLB_REGISTRY)"
"$HACK/image.sh" --push "$SLB_REGISTRY"
digest() { cat "${CARGO_TARGET_DIR:-$REPO/target}/image/$1/digest"; }

# Both run on the real node (kwok nodes run no containers): its label, and the toleration of its taint.
cat >"$RUN/real-node.yaml" <<YAML
nodeSelector: {type: real}
tolerations:
- {key: node.slb.operator.dev/real, operator: Exists, effect: NoSchedule}
YAML
# The emulator knows every node as a running ECS instance (from the nodes' providerIDs), and the ECS instances the
# examples name as explicit backends.
ecs=$( { kubectl get nodes -o json | jq -r '.items[].spec.providerID // empty | split(".")[1]'
         grep -ho 'serverId: i-[a-z0-9]*' examples/*.yaml | cut -d' ' -f2; } | sort -u | jq -R . | jq -sc .)

log "installing the SLB emulator (Helm, hack/charts/slb-emulator)"
helm upgrade --install slb-emulator hack/charts/slb-emulator -n "$NS" --create-namespace --wait --timeout 180s \
  -f "$RUN/real-node.yaml" --set image.repository="$SLB_REGISTRY/slb-emulator" \
  --set image.digest="$(digest slb-emulator)" --set-json "ecsInstances=$ecs" >/dev/null

log "installing the operator (Helm, charts/slb-operator), 2 replicas"
kubectl apply --server-side -f charts/slb-operator/crds/ >/dev/null
helm upgrade --install slb-operator charts/slb-operator -n "$NS" --wait --timeout 180s \
  -f "$RUN/real-node.yaml" --set image.repository="$SLB_REGISTRY/slb-operator" \
  --set image.digest="$(digest slb-operator)" --set slb.clusterId=demo \
  --set slb.endpoint="http://slb-emulator.$NS.svc.cluster.local:9080" \
  --set credentials.existingSecret=slb-emulator-keys >/dev/null

# The HTTPS example takes its certificate from a kubernetes.io/tls Secret, as cert-manager would write it.
if ! kubectl -n default get secret web-tls >/dev/null 2>&1; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj "/CN=www.example.com" \
    -keyout "$RUN/web-tls.key" -out "$RUN/web-tls.crt" 2>/dev/null
  kubectl -n default create secret tls web-tls --cert "$RUN/web-tls.crt" --key "$RUN/web-tls.key" >/dev/null
fi
kubectl apply -f examples/ >/dev/null
log "waiting for the examples to become Ready"
kinds=slbinstances,slblisteners,slbvservergroups,slbmasterslaveservergroups,slbrules
# unready RESOURCES CONDITION [kubectl flags]: the objects whose CONDITION is not True, and why.
unready() {
  kubectl -n default get "$1" "${@:3}" -o json \
    | jq -r --arg type "$2" '.items[] | select(([.status.conditions[]? | select(.type == $type and .status == "True")] | length) == 0)
             | "\(.kind)/\(.metadata.name): \([.status.conditions[]? | select(.type == $type) | "\(.reason): \(.message)"] | first // "no status yet")"'
}
not_ready() {
  unready "$kinds" Ready
  unready services slb.operator.dev/LoadBalancerReady --field-selector spec.type=LoadBalancer
}
for _ in $(seq 180); do
  [ -z "$(not_ready)" ] && break
  sleep 1
done
if [ -n "$(not_ready)" ]; then
  not_ready
  log "some examples did not become Ready; the operator's log: kubectl -n $NS logs deploy/slb-operator"
  exit 1
fi
echo
echo "== The operator and the emulator, installed with Helm on the real node"
helm list -n "$NS"
kubectl -n "$NS" get pods -o wide
echo "leader: $(kubectl -n "$NS" get lease slb-operator -o jsonpath='{.spec.holderIdentity}')"
echo
echo "== The custom resources"
kubectl -n default get slb
echo
echo "== The Service of type LoadBalancer, with the address of its SLB"
condition='.status.conditions[?(@.type=="slb.operator.dev/LoadBalancerReady")]'
kubectl -n default get services --field-selector spec.type=LoadBalancer \
  -o custom-columns="NAME:.metadata.name,ADDRESS:.status.loadBalancer.ingress[0].ip,LOADBALANCERREADY:$condition.status,MESSAGE:$condition.message"
echo
echo "== The load balancers in SLB, listed by the official Python SDK through the emulator's Service"
emulator=$(kubectl -n "$NS" get service slb-emulator -o jsonpath='{.spec.clusterIP}'):9080
"$("$HACK/python-venv.sh")" "$HACK/show-load-balancers.py" "$emulator" LTAIDemoAccessKeyId DemoAccessKeySecret cn-hangzhou
echo
log "done in $(( $(date +%s) - started ))s; stop everything with: hack/demo.sh down"
