// The local real node's image registry (hack/cluster.sh up --real-node): an in-memory OCI distribution registry
// on 127.0.0.1, from go-containerregistry. hack/image.sh --push copies the images in unchanged (same digests),
// and the node's containerd pulls them from it as from any registry.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5000", "address to serve on")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()
	logger := log.New(io.Discard, "", 0)
	if *verbose {
		logger = log.Default()
	}
	server := &http.Server{
		Addr:              *listen,
		Handler:           registry.New(registry.Logger(logger)),
		ReadHeaderTimeout: 30 * time.Second,
	}
	log.Fatal(server.ListenAndServe())
}
