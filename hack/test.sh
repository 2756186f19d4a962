#!/usr/bin/env bash
# The test command: sets up what is missing, starts the local control plane with its real node, builds the images
# and pushes them to the node's registry, runs the whole suite (unit, emulator conformance, official-SDK, cluster
# tests, and the chart installed and run on the real node), and always takes the cluster down. Needs root (the real
# node: a bridge, network namespaces, cgroups, iptables).
#
#   hack/test.sh [cargo test arguments]     e.g. hack/test.sh --test in_cluster
#
# The real node is always there, so the suite proves the install users make (images, Helm, in-cluster config) and
# tests/in_cluster.rs fails, never skips, when it is missing.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
cd "$REPO"

"$HACK/setup.sh"
trap '"$HACK/cluster.sh" down' EXIT
"$HACK/cluster.sh" up --real-node
eval "$("$HACK/cluster.sh" env)"
# The tests call kubectl and helm: the ones built for this control plane come first.
PATH="$("$HACK/build-tools.sh"):$PATH"
export PATH
SLB_SDK_PYTHON=$("$HACK/python-venv.sh")
export SLB_SDK_PYTHON
# One build, not kept for editing: incremental caches would double the target directory on disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
# The images, built twice to prove one digest, then pushed to the real node's registry for tests/in_cluster.rs.
"$HACK/image.sh" --verify --push "$SLB_REGISTRY"
cargo test --workspace --locked --no-fail-fast "$@"
