#!/usr/bin/env bash
# The scale benchmark (docs/benchmarks.md): brings up its own local control plane with N kwok nodes, runs
# benches/scale.rs against it (the operator binary, an in-process emulator with a QPS limit and 30 ms per
# call), prints one table per run, writes docs/benchmarks.md and its plots, and always takes its control plane
# down at the end. A full run (500 Services on 200 nodes, then 50 under the global limit) took 25 minutes on 2 cores.
#
#   hack/bench-scale.sh [--nodes N] [benchmark options]     e.g. --services 100 --idle 2m; see --help
#
# Its control plane must not collide with another one on the machine (hack/test.sh's, say): the ports and the
# directory come from the environment, with defaults apart from hack/cluster.sh's own:
#   SLB_ETCD_PORT (2579), SLB_ETCD_PEER_PORT (2580), SLB_APISERVER_PORT (6643), SLB_KCM_PORT (10357),
#   SLB_SCHEDULER_PORT (10359), SLB_CLUSTER_DIR (.run/bench-cluster)
# SLB_BENCH_PROFILE=dev builds the benchmark and the operator without optimisation (quick where the debug build
# exists; CPU seconds are then higher than a release build's): the cargo profile, `bench` (optimised) by default.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
cd "$REPO"

nodes=200
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) nodes=${2:?--nodes needs a number}; shift 2 ;;
    --nodes=*) nodes=${1#--nodes=}; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
               echo; echo "benchmark options (cargo bench --bench scale -- --help):"
               cargo bench --locked --bench scale -- --help; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done

export SLB_ETCD_PORT=${SLB_ETCD_PORT:-2579} SLB_ETCD_PEER_PORT=${SLB_ETCD_PEER_PORT:-2580}
export SLB_APISERVER_PORT=${SLB_APISERVER_PORT:-6643} SLB_KCM_PORT=${SLB_KCM_PORT:-10357}
export SLB_SCHEDULER_PORT=${SLB_SCHEDULER_PORT:-10359}
export SLB_CLUSTER_DIR=${SLB_CLUSTER_DIR:-$REPO/.run/bench-cluster}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

"$HACK/setup.sh"
# Built before the control plane starts, so the build does not compete with it.
profile=(--profile "${SLB_BENCH_PROFILE:-bench}")
cargo bench --locked "${profile[@]}" --bench scale --no-run
trap '"$HACK/cluster.sh" down' EXIT
"$HACK/cluster.sh" up --nodes "$nodes"
eval "$("$HACK/cluster.sh" env)"
cargo bench --locked "${profile[@]}" --bench scale -- "${args[@]}"
