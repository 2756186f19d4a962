# Versions of the local control plane's tools; sourced by hack/ scripts. The Go wrapper modules in hack/tools pin the same.
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.21.4
# The real node's cluster DNS (hack/cluster.sh up --real-node); hack/tools/coredns/go.mod pins the same.
COREDNS_VERSION=v1.15.0

tools_bin_dir() {
  echo "${SLB_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/slb-operator-tools}/$K8S_VERSION-etcd$ETCD_VERSION-kwok$KWOK_VERSION-helm$HELM_VERSION"
}
