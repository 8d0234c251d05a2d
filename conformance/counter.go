package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
)

func testCounter(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureCounter)
	parallel(t, "Operations", h, testCounterOperations)
	parallel(t, "ConcurrentCompareAndSet", h, testCounterConcurrentCompareAndSet)
	parallel(t, "ConcurrentIncrement", h, testCounterConcurrentIncrement)
	parallel(t, "Overflow", h, testCounterOverflow)
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, h, counterKind) })
	parallel(t, "InvalidName", h, func(t *testing.T, e *env) {
		_, err := e.client().GetCounter(e.ctx, "")
		require.ErrorIs(t, err, atomix.ErrInvalid)
	})
	parallel(t, "Closed", h, func(t *testing.T, e *env) {
		c := e.counter(e.client(), "c")
		require.NoError(t, c.Close(e.ctx))
		requireCounterClosed(t, e.ctx, c)
		requireCloseAgain(t, c.Close(e.ctx))
	})
	parallel(t, "ClientClosed", h, func(t *testing.T, e *env) {
		client := e.client()
		c := e.counter(client, "c")
		require.NoError(t, client.Close(e.ctx))
		requireCounterClosed(t, e.ctx, c)
		_, err := client.GetCounter(e.ctx, "c")
		require.ErrorIs(t, err, atomix.ErrClosed, "GetCounter on a closed client")
	})
}

// counter opens counter name through c, failing the test if it cannot.
func (e *env) counter(c *atomix.Client, name string) counter.Counter {
	e.t.Helper()
	cn, err := c.GetCounter(e.ctx, name)
	require.NoError(e.t, err, "GetCounter %q", name)
	require.Equal(e.t, name, cn.Name())
	return cn
}

func testCounterOperations(t *testing.T, e *env) {
	ctx := e.ctx
	a := e.counter(e.client(), "c")
	b := e.counter(e.client(), "c")
	expect(t, int64(0), "a counter never written")(a.Get(ctx))
	expect(t, int64(10))(a.Set(ctx, 10))
	expect(t, int64(10), "the other client reads the write")(b.Get(ctx))
	expect(t, int64(15))(b.Increment(ctx, 5))
	expect(t, int64(15))(a.Get(ctx))
	expect(t, int64(-5))(a.Decrement(ctx, 20))
	expect(t, int64(-7), "Increment by a negative delta")(b.Increment(ctx, -2))
	expect(t, int64(-4), "Decrement by a negative delta")(b.Decrement(ctx, -3))
	expect(t, true)(a.CompareAndSet(ctx, -4, 7))
	expect(t, false, "a failed compare-and-set is not an error")(b.CompareAndSet(ctx, -4, 8))
	expect(t, int64(7))(b.Get(ctx))
	expect(t, int64(1<<62))(a.Set(ctx, 1<<62))
	expect(t, int64(1<<62), "large values are kept exactly")(b.Get(ctx))
	expect(t, int64(0))(b.Set(ctx, 0))
	expect(t, true, "compare-and-set from 0")(a.CompareAndSet(ctx, 0, 1))
}

func testCounterConcurrentCompareAndSet(t *testing.T, e *env) {
	ctx := e.ctx
	counters := make([]counter.Counter, casClients)
	for i := range counters {
		counters[i] = e.counter(e.client(), "c")
	}
	concurrently(t, casClients, func(i int) error {
		c := counters[i]
		return casLoop(ctx, casIncrements, func() (bool, error) {
			v, err := c.Get(ctx)
			if err != nil {
				return false, err
			}
			return c.CompareAndSet(ctx, v, v+1)
		})
	})
	expect(t, int64(casClients*casIncrements), "every compare-and-set increment counted once")(counters[0].Get(ctx))
}

func testCounterConcurrentIncrement(t *testing.T, e *env) {
	ctx := e.ctx
	counters := make([]counter.Counter, casClients)
	for i := range counters {
		counters[i] = e.counter(e.client(), "c")
	}
	concurrently(t, casClients, func(i int) error {
		for range casIncrements {
			if _, err := counters[i].Increment(ctx, 2); err != nil {
				return err
			}
			if _, err := counters[i].Decrement(ctx, 1); err != nil {
				return err
			}
		}
		return nil
	})
	expect(t, int64(casClients*casIncrements), "every increment counted once")(counters[0].Get(ctx))
}

func requireCounterClosed(t *testing.T, ctx context.Context, c counter.Counter) {
	t.Helper()
	requireClosedErrors(t, map[string]error{
		"Get":           errOf(c.Get(ctx)),
		"Set":           errOf(c.Set(ctx, 1)),
		"Increment":     errOf(c.Increment(ctx, 1)),
		"Decrement":     errOf(c.Decrement(ctx, 1)),
		"CompareAndSet": errOf(c.CompareAndSet(ctx, 0, 1)),
	})
}
