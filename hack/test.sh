#!/usr/bin/env bash
# The test command: sets up what is missing, starts the local control plane, runs the whole suite
# (unit, emulator conformance, official-SDK, and cluster tests), and always takes the control plane down.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
cd "$REPO"

"$HACK/setup.sh"
trap '"$HACK/cluster.sh" down' EXIT
"$HACK/cluster.sh" up
eval "$("$HACK/cluster.sh" env)"
# The tests call kubectl and helm: the ones built for this control plane come first.
PATH="$("$HACK/build-tools.sh"):$PATH"
export PATH
SLB_SDK_PYTHON=$("$HACK/python-venv.sh")
export SLB_SDK_PYTHON
# One build, not kept for editing: incremental caches would double the target directory on disk.
CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0} cargo test --workspace --locked --no-fail-fast "$@"
