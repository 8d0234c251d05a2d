package conformance

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// pooledConnections ignores the goroutines that keep an idle pooled HTTP
// connection (Consul's client): the pool, not a watch, owns them.
var pooledConnections = []goleak.Option{
	goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
}

// requireNoNewGoroutines fails t if goroutines started after baseline (a
// goleak.IgnoreCurrent taken once the clients were set up and warmed up) are
// still running after d. It is only meaningful in a test that runs alone:
// the WatchCleanup subtests are sequential for that reason.
func requireNoNewGoroutines(t testing.TB, baseline goleak.Option, d time.Duration) {
	t.Helper()
	opts := append([]goleak.Option{baseline}, pooledConnections...)
	deadline := time.Now().Add(d)
	for {
		err := goleak.Find(opts...) // retries for a short while itself
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines left behind by closed watches: %v", err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
