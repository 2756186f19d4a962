#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh machine, and only what is missing:
# Debian packages, the Rust components, the Go-built control plane (hack/build-tools.sh) and the SDK virtualenv.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
log() { echo "setup: $*" >&2; }

missing=()
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
command -v openssl >/dev/null || missing+=(openssl)
command -v ss >/dev/null || missing+=(iproute2)
command -v setsid >/dev/null || missing+=(util-linux)
command -v cc >/dev/null || missing+=(build-essential)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { log "Go is required (go1.26+) to build the control plane from Go modules"; exit 1; }
command -v cargo >/dev/null || { log "Rust (cargo) is required"; exit 1; }
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  log "installing rustfmt and clippy"
  rustup component add rustfmt clippy >&2
fi

"$HACK/build-tools.sh" >/dev/null
"$HACK/python-venv.sh" >/dev/null
log "done"
