#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh machine, and only what is missing: Debian packages (those of
# the images and the real node too: buildah, skopeo, musl-tools; containerd, runc, the CNI plugins, iptables), the
# Rust components and the musl target, the Go-built control plane and real node (hack/build-tools.sh --real-node:
# also kubelet, kube-proxy, CoreDNS, pause and the registry) and the SDK virtualenv.
#
#   hack/setup.sh
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
log() { echo "setup: $*" >&2; }

missing=()
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
command -v openssl >/dev/null || missing+=(openssl)
command -v ss >/dev/null || missing+=(iproute2)
{ command -v setsid && command -v findmnt; } >/dev/null || missing+=(util-linux)
command -v cc >/dev/null || missing+=(build-essential)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v buildah >/dev/null || missing+=(buildah)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v musl-gcc >/dev/null || missing+=(musl-tools)
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { log "Go is required (go1.26+) to build the control plane from Go modules"; exit 1; }
command -v cargo >/dev/null || { log "Rust (cargo) is required"; exit 1; }
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  log "installing rustfmt and clippy"
  rustup component add rustfmt clippy >&2
fi
if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  log "installing the Rust target x86_64-unknown-linux-musl (static binaries for the images)"
  rustup target add x86_64-unknown-linux-musl >&2
fi

"$HACK/build-tools.sh" --real-node >/dev/null
"$HACK/python-venv.sh" >/dev/null
log "done"
