package atomix_test

import (
	"context"
	"errors"
	"testing"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// plainDriver hides every optional interface of the driver it wraps, as a
// driver written before them would: semaphores (driver.Driver has no
// OpenSemaphore) and the conditional writes of its Map, Set and Value.
type plainDriver struct{ driver.Driver }

func (d plainDriver) OpenMap(ctx context.Context, id driver.ID) (driver.Map, error) {
	m, err := d.Driver.OpenMap(ctx, id)
	return struct{ driver.Map }{m}, err
}

func (d plainDriver) OpenSet(ctx context.Context, id driver.ID) (driver.Set, error) {
	s, err := d.Driver.OpenSet(ctx, id)
	return struct{ driver.Set }{s}, err
}

func (d plainDriver) OpenValue(ctx context.Context, id driver.ID) (driver.Value, error) {
	v, err := d.Driver.OpenValue(ctx, id)
	return struct{ driver.Value }{v}, err
}

// An ephemeral or fenced write through a driver without the conditional
// interfaces is ErrNotSupported, and never falls back to a plain write.
func TestConditionalWritesNotSupported(t *testing.T) {
	ctx := context.Background()
	c := atomix.NewClient(atomix.WithDriver(plainDriver{memory.New()}))
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	must(t, err)
	s, err := atomix.GetSet[string](ctx, "s", atomix.WithClient(c))
	must(t, err)
	v, err := atomix.GetValue[string](ctx, "v", atomix.WithClient(c))
	must(t, err)
	l, err := c.GetLock(ctx, "l")
	must(t, err)
	version, err := l.Lock(ctx)
	must(t, err)

	wantIs(t, errOf(m.Put(ctx, "k", "v", _map.Ephemeral())), atomix.ErrNotSupported, "ephemeral Put")
	wantIs(t, errOf(m.Put(ctx, "k", "v", _map.Fenced(l, version))), atomix.ErrNotSupported, "fenced Put")
	wantIs(t, errOf(s.Add(ctx, "e", set.Ephemeral())), atomix.ErrNotSupported, "ephemeral Add")
	wantIs(t, errOf(v.Set(ctx, "x", value.Fenced(l, version))), atomix.ErrNotSupported, "fenced Set")
	if n, err := m.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len after refused writes = %d, %v; want 0", n, err)
	}
}

// fakeLock is a lock.Lock that package atomix did not make (its methods
// are never called).
type fakeLock struct{ anyLock }

type anyLock = lock.Lock

// A fence lock must be one the map's client opened.
func TestFenceOfForeignLock(t *testing.T) {
	ctx := context.Background()
	c := atomix.NewClient(atomix.WithDriver(memory.New()))
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	must(t, err)
	l, err := c.GetLock(ctx, "l")
	must(t, err)
	version, err := l.Lock(ctx)
	must(t, err)
	wantIs(t, errOf(m.Put(ctx, "k", "v", _map.Fenced(fakeLock{}, version))), atomix.ErrInvalid, "a lock of another implementation")
	wantIs(t, errOf(m.Put(ctx, "k", "v", _map.Fenced(l, 0))), atomix.ErrInvalid, "version 0")
	wantIs(t, errOf(m.Put(ctx, "k", "v", _map.Fenced(l, version+1))), atomix.ErrConflict, "a version the instance does not hold")
	_, err = m.Put(ctx, "k", "v", _map.Fenced(l, version))
	must(t, err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func wantIs(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
}
