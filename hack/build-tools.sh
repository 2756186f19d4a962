#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules (hack/tools/*/go.mod) into a cache outside the repo,
# keyed by version. Only what is missing is built. Prints the bin directory.
#
#   hack/build-tools.sh [--real-node]   --real-node: also what the real node needs (hack/cluster.sh up --real-node):
#                                       kubelet and kube-proxy, CoreDNS, the pause program and the image registry
set -euo pipefail
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath
HACK=$(cd "$(dirname "$0")" && pwd)
source "$HACK/versions.sh"
BIN=$(tools_bin_dir)
mkdir -p "$BIN"
real_node=false
[ "${1:-}" != --real-node ] || real_node=true

log() { echo "build-tools: $*" >&2; }

# Commands of the Kubernetes wrapper module (`build_kubernetes kubelet ...`), stamped with $K8S_VERSION as a release
# build is, so that `--version` and the apiserver's discovery report it.
build_kubernetes() {
  local minor vx="" pkg
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    vx="$vx -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    vx="$vx -X $pkg.gitTreeState=clean -X $pkg.buildDate=2026-01-01T00:00:00Z"
  done
  (cd "$HACK/tools/k8s" && go build -tags selinux,notest,grpcnotrace -ldflags "-s -w -buildid= $vx" -o "$BIN/" \
    "${@/#/k8s.io/kubernetes/cmd/}")
}

if ! "$BIN/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION" \
   || [ ! -x "$BIN/kube-controller-manager" ] || [ ! -x "$BIN/kube-scheduler" ] || [ ! -x "$BIN/kubectl" ]; then
  log "building Kubernetes $K8S_VERSION (apiserver, controller-manager, scheduler, kubectl)"
  build_kubernetes kube-apiserver kube-controller-manager kube-scheduler kubectl
fi

if [ ! -x "$BIN/etcd" ]; then
  log "building etcd $ETCD_VERSION"
  (cd "$HACK/tools/etcd" && go build -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3 && mv "$BIN/etcd.tmp" "$BIN/etcd")
fi

if [ ! -x "$BIN/kwok" ]; then
  log "building kwok $KWOK_VERSION"
  (cd "$HACK/tools/kwok" && go build -ldflags "-s -w" -o "$BIN/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok && mv "$BIN/kwok.tmp" "$BIN/kwok")
fi
# kwok needs Stage objects; take the defaults kwokctl uses from the kwok module itself.
if [ ! -s "$BIN/kwok-stages.yaml" ]; then
  stages=$(cd "$HACK/tools/kwok" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | jq -r .Dir)/kustomize/stage
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
           pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    cat "$stages/$f.yaml"; echo '---'
  done > "$BIN/kwok-stages.yaml"
fi

if [ ! -x "$BIN/helm" ]; then
  log "building helm $HELM_VERSION"
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  (cd "$HACK/tools/helm" && go build -o "$BIN/helm.tmp" -ldflags "-s -w \
     -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
     -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor \
     -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" \
     helm.sh/helm/v3/cmd/helm && mv "$BIN/helm.tmp" "$BIN/helm")
fi

if $real_node; then
  # kubelet and kube-proxy from the same wrapper module, so the same Kubernetes version and the same flags.
  if ! "$BIN/kubelet" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION" || [ ! -x "$BIN/kube-proxy" ]; then
    log "building Kubernetes $K8S_VERSION (kubelet, kube-proxy)"
    build_kubernetes kubelet kube-proxy
  fi
  # Its output read whole: `| grep -q` would stop reading at the first line, and the SIGPIPE CoreDNS then gets on
  # its second line fails the pipeline (pipefail), which rebuilt CoreDNS now and then.
  if [[ "$("$BIN/coredns" -version 2>/dev/null || true)" != "CoreDNS-${COREDNS_VERSION#v}"* ]]; then
    log "building CoreDNS $COREDNS_VERSION"
    (cd "$HACK/tools/coredns" && go build -ldflags "-s -w -buildid=" -o "$BIN/coredns.tmp" . && mv "$BIN/coredns.tmp" "$BIN/coredns")
  fi
  # Rebuilt when their source changes: they are ours, not versioned modules.
  for tool in pause registry; do
    stamp=$(cat "$HACK/tools/$tool/go.mod" "$HACK/tools/$tool/main.go" | sha256sum | cut -c1-16)
    [ -x "$BIN/$tool" ] && [ "$(cat "$BIN/$tool.source" 2>/dev/null)" = "$stamp" ] && continue
    log "building $tool"
    (cd "$HACK/tools/$tool" && go build -ldflags "-s -w -buildid=" -o "$BIN/$tool.tmp" . && mv "$BIN/$tool.tmp" "$BIN/$tool")
    echo "$stamp" >"$BIN/$tool.source"
  done
fi

echo "$BIN"
