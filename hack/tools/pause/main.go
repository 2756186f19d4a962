// The pod sandbox process of the local real node (hack/cluster.sh up --real-node): it holds the pod's namespaces,
// reaps the children it inherits, and exits 0 on SIGINT or SIGTERM. Kubernetes' own pause is C and not a Go
// module, so this stands in for it; it is built by hack/build-tools.sh and packed by hack/image.sh.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
