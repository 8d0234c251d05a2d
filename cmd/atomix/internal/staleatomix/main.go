// Command staleatomix is the atomix command with one more, deliberately
// broken backend, for the command's own tests: stale://NAME is the memory
// store mem://NAME seen through a driver whose reads are stale. Each
// connection remembers the first answer it got for a map key, a counter or
// a value and keeps returning it for the next three reads. Writes go
// through. Its semaphores count the holders as a stale view would: one
// more than the limit gets in. `atomix check` must fail against it, with a
// readable report.
//
// It lives under internal/ so that nobody installs it by accident.
package main

import (
	"context"
	"net/url"
	"os"
	"sync"

	"github.com/atomix/go-client/cmd/atomix/internal/cli"
	"github.com/atomix/go-client/driver"
	_ "github.com/atomix/go-client/drivers/memory"
)

// staleReads is how many reads in a row return the remembered answer
// before it is refreshed.
const staleReads = 3

func main() {
	driver.Register("stale", func(ctx context.Context, u *url.URL) (driver.Driver, error) {
		d, err := driver.Open(ctx, "mem://"+u.Host)
		if err != nil {
			return nil, err
		}
		return &staleDriver{Driver: d}, nil
	})
	os.Exit(cli.Main(os.Args[1:]))
}

// memo remembers one answer per key and serves it staleReads times.
type memo[T any] struct {
	mu      sync.Mutex
	answers map[string]T
	served  map[string]int
}

func (m *memo[T]) get(key string, read func() (T, error)) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.answers == nil {
		m.answers, m.served = map[string]T{}, map[string]int{}
	}
	if a, ok := m.answers[key]; ok && m.served[key] < staleReads {
		m.served[key]++
		return a, nil
	}
	a, err := read()
	if err != nil {
		return a, err
	}
	m.answers[key], m.served[key] = a, 0
	return a, nil
}

type staleDriver struct {
	driver.Driver
}

func (d *staleDriver) OpenMap(ctx context.Context, id driver.ID) (driver.Map, error) {
	m, err := d.Driver.OpenMap(ctx, id)
	if err != nil {
		return nil, err
	}
	return &staleMap{Map: m}, nil
}

func (d *staleDriver) OpenCounter(ctx context.Context, id driver.ID) (driver.Counter, error) {
	c, err := d.Driver.OpenCounter(ctx, id)
	if err != nil {
		return nil, err
	}
	return &staleCounter{Counter: c}, nil
}

func (d *staleDriver) OpenValue(ctx context.Context, id driver.ID) (driver.Value, error) {
	v, err := d.Driver.OpenValue(ctx, id)
	if err != nil {
		return nil, err
	}
	return &staleValue{Value: v}, nil
}

// OpenSemaphore opens the memory store's semaphore with one permit more
// than limit (every connection alike, so the limits agree): a holder too
// many gets in, as when the holders were counted from a stale read.
func (d *staleDriver) OpenSemaphore(ctx context.Context, id driver.ID, limit int) (driver.Semaphore, error) {
	return d.Driver.(driver.SemaphoreOpener).OpenSemaphore(ctx, id, limit+1)
}

type staleMap struct {
	driver.Map
	memo memo[driver.Entry]
}

func (m *staleMap) Get(ctx context.Context, key string) (driver.Entry, error) {
	return m.memo.get(key, func() (driver.Entry, error) { return m.Map.Get(ctx, key) })
}

type staleCounter struct {
	driver.Counter
	memo memo[int64]
}

func (c *staleCounter) Get(ctx context.Context) (int64, error) {
	return c.memo.get("", func() (int64, error) { return c.Counter.Get(ctx) })
}

type valueRead struct {
	value   []byte
	version uint64
}

type staleValue struct {
	driver.Value
	memo memo[valueRead]
}

func (v *staleValue) Get(ctx context.Context) ([]byte, uint64, error) {
	r, err := v.memo.get("", func() (valueRead, error) {
		b, ver, err := v.Value.Get(ctx)
		return valueRead{b, ver}, err
	})
	return r.value, r.version, err
}
