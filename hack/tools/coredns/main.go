// CoreDNS for the local real node's cluster DNS (hack/cluster.sh up --real-node), with only the plugins its
// Corefile uses: the cluster zone from the kubernetes plugin, no forwarding anywhere (nothing leaves this machine).
// Built by hack/build-tools.sh from the coredns Go module (version pinned in go.mod), packed by hack/image.sh.
package main

import (
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
