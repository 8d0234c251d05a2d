package consul

import (
	"context"
	"strconv"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// consulCounter is one key, <base>, holding the value in decimal; absent
// reads as 0.
//
// Add and CompareAndSet are check-and-sets against the key's ModifyIndex.
// Each instance remembers the value and index it last read or wrote, so an
// uncontended Add is one request (a check-and-set from the remembered
// index); when another writer got there first the check fails, the instance
// reads the key and tries again.
type consulCounter struct {
	primitive

	mu    sync.Mutex
	known bool   // value and index below are a state the key had
	value int64  // the value at index
	index uint64 // the key's ModifyIndex, 0 when absent
}

var _ driver.Counter = (*consulCounter)(nil)

func newCounter(d *Driver, id driver.ID) *consulCounter {
	c := &consulCounter{}
	c.init(d, kindCounter, id)
	return c
}

// Get reads the key.
func (c *consulCounter) Get(ctx context.Context) (int64, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	v, _, err := c.load(ctx)
	return v, err
}

// Set writes the key unconditionally.
func (c *consulCounter) Set(ctx context.Context, value int64) error {
	if err := c.check(); err != nil {
		return err
	}
	res, err := c.d.apply(ctx, []kvOp{{Verb: api.KVSet, Key: c.base, Value: formatInt(value)}})
	if err != nil {
		c.forget()
		return err
	}
	c.remember(value, res[0].ModifyIndex)
	return nil
}

// Add is a check-and-set loop from the remembered state. A sum that does
// not fit in an int64 is ErrInvalid, decided on a value just read: when the
// remembered value would overflow, Add reads the key first.
func (c *consulCounter) Add(ctx context.Context, delta int64) (int64, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	value, index, known := c.cached()
	for {
		fresh := !known
		if fresh {
			var err error
			if value, index, err = c.load(ctx); err != nil {
				return 0, err
			}
		}
		next, err := driver.CheckedAdd(value, delta)
		if err != nil {
			if fresh {
				return 0, err
			}
			known = false
			continue
		}
		ok, err := c.swap(ctx, index, next)
		if err != nil {
			return 0, err
		}
		if ok {
			return next, nil
		}
		known = false
	}
}

// CompareAndSet checks the value, then writes with a check-and-set from the
// index it was read at; if the key changed in between it reads again. The
// remembered state is used only as a first guess for a matching value: a
// mismatch is always confirmed by a read.
func (c *consulCounter) CompareAndSet(ctx context.Context, expect, update int64) (bool, error) {
	if err := c.check(); err != nil {
		return false, err
	}
	value, index, known := c.cached()
	for {
		if !known || value != expect {
			var err error
			if value, index, err = c.load(ctx); err != nil {
				return false, err
			}
			if value != expect {
				return false, nil
			}
		}
		ok, err := c.swap(ctx, index, update)
		if err != nil || ok {
			return ok, err
		}
		known = false
	}
}

// load reads the key and remembers what it read.
func (c *consulCounter) load(ctx context.Context) (int64, uint64, error) {
	pair, _, err := c.d.kv.Get(c.base, c.d.read(ctx))
	if err != nil {
		return 0, 0, classify(ctx, err, reading)
	}
	if pair == nil {
		c.remember(0, 0)
		return 0, 0, nil
	}
	v, err := strconv.ParseInt(string(pair.Value), 10, 64)
	if err != nil {
		return 0, 0, errCorrupt(err)
	}
	c.remember(v, pair.ModifyIndex)
	return v, pair.ModifyIndex, nil
}

// swap stores value if the key's ModifyIndex is index (0: if absent), and
// reports whether it did.
func (c *consulCounter) swap(ctx context.Context, index uint64, value int64) (bool, error) {
	res, rb, err := c.d.txn(ctx, []kvOp{{Verb: api.KVCAS, Key: c.base, Value: formatInt(value), Index: index}})
	switch {
	case err != nil:
		c.forget()
		return false, err
	case rb != nil:
		c.forget()
		return false, nil
	}
	c.remember(value, res[0].ModifyIndex)
	return true, nil
}

func (c *consulCounter) cached() (int64, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value, c.index, c.known
}

func (c *consulCounter) remember(value int64, index uint64) {
	c.mu.Lock()
	// Keep the newest state: concurrent calls may finish out of order.
	if !c.known || index >= c.index {
		c.value, c.index, c.known = value, index, true
	}
	c.mu.Unlock()
}

func (c *consulCounter) forget() {
	c.mu.Lock()
	c.known = false
	c.mu.Unlock()
}

func formatInt(v int64) []byte {
	return strconv.AppendInt(nil, v, 10)
}
