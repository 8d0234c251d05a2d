package consul_test

import (
	"fmt"
	"log"
	"net/url"

	"github.com/atomix/go-client/drivers/consul"
)

// Reads are linearizable unless the configuration says otherwise: here a
// client that prefers fast reads served by any server, and blocking
// queries that give up after a minute.
func ExampleConsistency() {
	u, _ := url.Parse("consul://127.0.0.1:8500?consistency=stale&wait=1m")
	cfg, err := consul.ParseURL(u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Consistency, cfg.WaitTime)

	// The same in code; the zero value is consul.ConsistencyConsistent.
	cfg = consul.Config{Options: consul.Options{Consistency: consul.ConsistencyStale}}
	fmt.Println(cfg.Consistency)
	// Output:
	// stale 1m0s
	// stale
}
