package conformance

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
)

// testCounterOverflow checks that an Increment or Decrement whose result
// does not fit in an int64 fails with ErrInvalid and leaves the value as it
// was, instead of wrapping around. It runs the checks on the instance that
// wrote the value and on another one whose last look at the counter is
// stale, since drivers that cache the value they saw (for an optimistic
// first attempt) must decide on the stored value, not on the guess.
func testCounterOverflow(t *testing.T, e *env) {
	ctx := e.ctx
	writer := e.counter(e.client(), "c")
	stale := e.counter(e.client(), "c")

	overflows := []struct {
		start int64
		op    string
		delta int64
	}{
		{math.MaxInt64, "increment", 1},
		{math.MaxInt64, "increment", math.MaxInt64},
		{math.MaxInt64, "decrement", -1},
		{1, "increment", math.MaxInt64},
		{math.MinInt64, "decrement", 1},
		{math.MinInt64, "increment", -1},
		{math.MinInt64, "increment", math.MinInt64},
		{math.MinInt64, "decrement", math.MaxInt64},
		{-2, "decrement", math.MaxInt64},
		{0, "decrement", math.MinInt64}, // 0 - MinInt64 is 2^63
	}
	for _, c := range overflows {
		for _, who := range []struct {
			name string
			c    counter.Counter
		}{{"writer", writer}, {"stale", stale}} {
			// The stale instance last saw 0, a value from which the
			// operation fits.
			expect(t, int64(0))(stale.Set(ctx, 0))
			expect(t, c.start)(writer.Set(ctx, c.start))
			var err error
			if c.op == "increment" {
				_, err = who.c.Increment(ctx, c.delta)
			} else {
				_, err = who.c.Decrement(ctx, c.delta)
			}
			require.ErrorIs(t, err, atomix.ErrInvalid, "%s: %d %s %d", who.name, c.start, c.op, c.delta)
			expect(t, c.start, "%s: %d %s %d wrote nothing", who.name, c.start, c.op, c.delta)(writer.Get(ctx))
		}
	}

	// The edges themselves fit, even when the instance's last look said
	// they would not.
	expect(t, int64(math.MaxInt64))(stale.Set(ctx, math.MaxInt64))
	expect(t, int64(math.MaxInt64-1))(writer.Set(ctx, math.MaxInt64-1))
	expect(t, int64(math.MaxInt64), "MaxInt64-1 + 1 from a stale instance")(stale.Increment(ctx, 1))
	expect(t, int64(math.MinInt64))(stale.Set(ctx, math.MinInt64))
	expect(t, int64(math.MinInt64+1))(writer.Set(ctx, math.MinInt64+1))
	expect(t, int64(math.MinInt64), "MinInt64+1 - 1 from a stale instance")(stale.Decrement(ctx, 1))
	expect(t, int64(-1), "MinInt64 + MaxInt64")(writer.Increment(ctx, math.MaxInt64))
	expect(t, int64(math.MaxInt64-1), "-1 + MaxInt64")(writer.Increment(ctx, math.MaxInt64))
	expect(t, int64(-1), "MaxInt64-1 - MaxInt64")(writer.Decrement(ctx, math.MaxInt64))
}
