package redis

import (
	"context"
	_ "embed"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

//go:embed lua/counter_cas.lua
var counterCASSource string

var counterCAS = newScript("counter_cas", counterCASSource, false)

// counter implements driver.Counter with one Redis string holding the
// value in decimal. Get, Set and Add are single commands (GET, SET,
// INCRBY), atomic on their own; CompareAndSet is a script.
type counter struct {
	*handle
	key  string
	keys scriptKeys // key, for the CompareAndSet script
}

func newCounter(h *handle) *counter {
	key := h.ks.key("v")
	return &counter{handle: h, key: key, keys: keysOf(key)}
}

func (c *counter) Get(ctx context.Context) (int64, error) {
	if err := c.begin(ctx); err != nil {
		return 0, err
	}
	s, err := c.client().Get(ctx, c.key).Result()
	if err == goredis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, c.fail(ctx, err, false)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, driver.Errorf(driver.ErrInvalid, "the counter's key holds %q, not an integer", s)
	}
	return v, nil
}

func (c *counter) Set(ctx context.Context, value int64) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	// SET is idempotent: go-redis may retry it.
	if err := c.client().Set(ctx, c.key, strconv.FormatInt(value, 10), 0).Err(); err != nil {
		return c.fail(ctx, err, false)
	}
	return nil
}

// Add uses INCRBY, sent once. Redis refuses an increment that overflows
// and writes nothing; Add reports that as ErrInvalid, as driver.Counter
// requires.
func (c *counter) Add(ctx context.Context, delta int64) (int64, error) {
	if err := c.begin(ctx); err != nil {
		return 0, err
	}
	v, err := do(ctx, c.client(), true, "incrby", c.key, delta)
	if err == nil {
		n, err := replyInt(v)
		if err != nil {
			return 0, c.fail(ctx, err, true)
		}
		return n, nil
	}
	if goredis.HasErrorPrefix(err, "increment or decrement would overflow") {
		return 0, driver.Wrap(driver.ErrInvalid, err, "counter overflow: adding %+d does not fit in an int64", delta)
	}
	return 0, c.fail(ctx, err, true)
}

func (c *counter) CompareAndSet(ctx context.Context, expect, update int64) (bool, error) {
	if err := c.begin(ctx); err != nil {
		return false, err
	}
	v, err := counterCAS.run(ctx, c.client(), c.keys, strconv.FormatInt(expect, 10), strconv.FormatInt(update, 10))
	if err != nil {
		return false, c.fail(ctx, err, true)
	}
	n, err := replyInt(v)
	if err != nil {
		return false, c.fail(ctx, err, true)
	}
	return n == 1, nil
}
