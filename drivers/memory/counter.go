package memory

import (
	"context"
	"sync/atomic"

	"github.com/atomix/go-client/driver"
)

type counterState struct {
	value atomic.Int64
}

func newCounterState() *counterState { return &counterState{} }

// counter implements driver.Counter with atomic operations on the store's
// value.
type counter struct {
	*handle
	state *counterState
}

func (c *counter) Get(ctx context.Context) (int64, error) {
	if err := c.begin(ctx); err != nil {
		return 0, err
	}
	return c.state.value.Load(), nil
}

func (c *counter) Set(ctx context.Context, value int64) error {
	if err := c.begin(ctx); err != nil {
		return err
	}
	c.state.value.Store(value)
	return nil
}

func (c *counter) Add(ctx context.Context, delta int64) (int64, error) {
	if err := c.begin(ctx); err != nil {
		return 0, err
	}
	for {
		cur := c.state.value.Load()
		next, err := driver.CheckedAdd(cur, delta)
		if err != nil {
			return 0, err
		}
		if c.state.value.CompareAndSwap(cur, next) {
			return next, nil
		}
	}
}

func (c *counter) CompareAndSet(ctx context.Context, expect, update int64) (bool, error) {
	if err := c.begin(ctx); err != nil {
		return false, err
	}
	return c.state.value.CompareAndSwap(expect, update), nil
}
