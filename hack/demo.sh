#!/usr/bin/env bash
# The demo: sets up what is missing, brings up the local control plane and the SLB emulator, runs the operator
# against them, applies the examples, and shows the load balancers the operator made.
# Everything stays running afterwards; `hack/demo.sh down` stops it all.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
cd "$REPO"
RUN=$REPO/.run/demo
EMULATOR_ADDR=127.0.0.1:9080
ACCESS_KEY_ID=demo-access-key
ACCESS_KEY_SECRET=demo-access-secret
log() { echo "demo: $*" >&2; }

stop_pid() { if [ -f "$1" ]; then kill "$(cat "$1")" 2>/dev/null || true; rm -f "$1"; fi; }
if [ "${1:-}" = down ]; then
  stop_pid "$RUN/operator.pid"; stop_pid "$RUN/emulator.pid"
  rm -rf "$RUN"
  "$HACK/cluster.sh" down
  exit 0
fi

"$HACK/setup.sh"
"$HACK/cluster.sh" up
eval "$("$HACK/cluster.sh" env)"
BIN=$("$HACK/build-tools.sh")
kubectl() { "$BIN/kubectl" "$@"; }
mkdir -p "$RUN"

log "building the emulator and the operator"
cargo build --locked --quiet -p slb-emulator -p slb-operator --bins
TARGET=${CARGO_TARGET_DIR:-$REPO/target}/debug

stop_pid "$RUN/emulator.pid"
setsid "$TARGET/slb-emulator" --listen "$EMULATOR_ADDR" \
  --access-key-id "$ACCESS_KEY_ID" --access-key-secret "$ACCESS_KEY_SECRET" \
  --state-file "$RUN/emulator-state.json" >"$RUN/emulator.log" 2>&1 </dev/null &
echo $! >"$RUN/emulator.pid"
for _ in $(seq 40); do curl -fsS "http://$EMULATOR_ADDR/__admin/counters" >/dev/null 2>&1 && break; sleep 0.25; done
log "emulator listening on http://$EMULATOR_ADDR"

kubectl apply --server-side -f crds/ >/dev/null
stop_pid "$RUN/operator.pid"
ALIBABA_CLOUD_ACCESS_KEY_ID=$ACCESS_KEY_ID ALIBABA_CLOUD_ACCESS_KEY_SECRET=$ACCESS_KEY_SECRET \
  setsid "$TARGET/slb-operator" run --endpoint "http://$EMULATOR_ADDR" --region cn-hangzhou \
  --cluster-id demo --watch-namespace default --metrics-addr 127.0.0.1:9090 >"$RUN/operator.log" 2>&1 </dev/null &
echo $! >"$RUN/operator.pid"
log "operator running (log: $RUN/operator.log)"

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
for _ in $(seq 120); do
  [ -z "$(not_ready)" ] && break
  sleep 1
done
if [ -n "$(not_ready)" ]; then
  not_ready
  log "some examples did not become Ready; the operator's log is $RUN/operator.log"
  exit 1
fi
echo
echo "== The custom resources"
kubectl -n default get slb
echo
echo "== The Service of type LoadBalancer, with the address of its SLB"
kubectl -n default get services --field-selector spec.type=LoadBalancer
condition='.status.conditions[?(@.type=="slb.operator.dev/LoadBalancerReady")]'
kubectl -n default get services --field-selector spec.type=LoadBalancer \
  -o custom-columns="NAME:.metadata.name,LOADBALANCERREADY:$condition.status,MESSAGE:$condition.message"
echo
echo "== The load balancers in SLB, listed by the official Python SDK against the emulator"
"$("$HACK/python-venv.sh")" "$HACK/show-load-balancers.py" "$EMULATOR_ADDR" "$ACCESS_KEY_ID" "$ACCESS_KEY_SECRET" cn-hangzhou
echo
log "stop everything with: hack/demo.sh down"
