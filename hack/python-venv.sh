#!/usr/bin/env bash
# Creates (once) a virtualenv outside the repo with the official SLB SDKs, and prints its python.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
req="$HACK/requirements-sdk.txt"
key=$(sha256sum "$req" | cut -c1-12)
venv="${SLB_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slb-operator-tools}/venv-$key"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
