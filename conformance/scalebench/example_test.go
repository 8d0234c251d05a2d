package scalebench_test

import (
	"context"
	"testing"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/conformance/scalebench"
	"github.com/atomix/go-client/drivers/memory"
)

// A driver's test package measures its scale with one Benchmark function
// per kind, each given a client on the driver's test backend (here the
// memory driver) and run by go test -bench 'Scale'.
func Example() {
	newClient := func() *atomix.Client { return atomix.NewClient(atomix.WithDriver(memory.New())) }

	_ = func(b *testing.B) { scalebench.LockContention(b, newClient()) }
	_ = func(b *testing.B) { scalebench.ListOps(b, newClient()) }
	_ = func(b *testing.B) {
		m, err := atomix.GetMap[string, string](context.Background(), "m", atomix.WithClient(newClient()))
		if err != nil {
			b.Fatal(err)
		}
		scalebench.Throughput(b, func(ctx context.Context, i int) error {
			_, err := m.Put(ctx, "key", "value")
			return err
		})
	}
}
