#!/usr/bin/env bash
# The test command: sets up what is missing, starts the local control plane, runs the whole suite
# (unit, emulator conformance, official-SDK, and cluster tests), and always takes the control plane down.
#
#   hack/test.sh [--real-node] [cargo test arguments]
#     --real-node   also the in-cluster tests (tests/in_cluster.rs): the cluster gets its real node, the images are
#                   built (hack/image.sh) and pushed to its registry, and the chart runs in the cluster. Needs root.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
cd "$REPO"
real_node=()
if [ "${1:-}" = --real-node ]; then real_node=(--real-node); shift; fi

"$HACK/setup.sh" "${real_node[@]}"
trap '"$HACK/cluster.sh" down' EXIT
"$HACK/cluster.sh" up "${real_node[@]}"
eval "$("$HACK/cluster.sh" env)"
# The tests call kubectl and helm: the ones built for this control plane come first.
PATH="$("$HACK/build-tools.sh"):$PATH"
export PATH
SLB_SDK_PYTHON=$("$HACK/python-venv.sh")
export SLB_SDK_PYTHON
# The images, built twice to prove one digest, then pushed to the real node's registry.
if [ ${#real_node[@]} -gt 0 ]; then "$HACK/image.sh" --verify --push "$SLB_REGISTRY"; fi
rc=0
# One build, not kept for editing: incremental caches would double the target directory on disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
cargo test --workspace --locked --no-fail-fast "$@" || rc=$?
if [ ${#real_node[@]} -gt 0 ]; then
  cargo test --locked --no-fail-fast --test in_cluster -- --ignored || rc=$?
fi
exit $rc
