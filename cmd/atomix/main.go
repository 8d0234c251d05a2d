// Command atomix runs a command under a distributed lock or while leading
// an election, reads and changes counters, maps, values and sets, and
// certifies and benchmarks a backend, over any atomix driver: etcd, Redis
// and Consul (mem:// works too, within the one process).
//
// Install it with
//
//	go install github.com/atomix/go-client/cmd/atomix@latest
//
// and run `atomix --help` for the commands. The backend is given by --url
// or the ATOMIX_URL environment variable, as for atomix.Open.
package main

import (
	"os"

	"github.com/atomix/go-client/cmd/atomix/internal/cli"
	_ "github.com/atomix/go-client/drivers/consul"
	_ "github.com/atomix/go-client/drivers/etcd"
	_ "github.com/atomix/go-client/drivers/memory"
	_ "github.com/atomix/go-client/drivers/redis"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
