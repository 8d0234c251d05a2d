package memory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestNameAsPing(t *testing.T) {
	ctx := context.Background()
	s, _, connect := newTestStore(t)
	d := connect()
	if d.Name() != "memory" {
		t.Fatalf("Name = %q", d.Name())
	}
	var got *Store
	if !d.As(&got) || got != s {
		t.Fatal("As(*Store) did not give the driver's store")
	}
	var other *Driver
	if d.As(&other) || d.As(nil) {
		t.Fatal("As accepted a target that is not a **Store")
	}
	must(t, "ping", d.Ping(ctx))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	wantErr(t, "ping with an ended context", d.Ping(cctx), context.Canceled)
	must(t, "close", d.Close(ctx))
	wantErr(t, "ping after close", d.Ping(ctx), driver.ErrClosed)
	must(t, "second close", d.Close(ctx))
}

// TestErrorsCarryNoContext checks that errors are *driver.Error values whose
// text names no driver, operation or key: the portable layer adds those.
func TestErrorsCarryNoContext(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	const key = "the-key"
	m, _ := d.OpenMap(ctx, id("m"))
	v, _ := d.OpenValue(ctx, id("v"))
	l, _ := d.OpenList(ctx, id("l"))
	im, _ := d.OpenIndexedMap(ctx, id("im"))
	e, _ := d.OpenElection(ctx, id("e"))
	m.Put(ctx, key, []byte("x"), 0)
	errs := map[string]error{}
	_, errs["map get"] = m.Get(ctx, "absent-"+key)
	_, errs["map insert"] = m.Insert(ctx, key, nil)
	_, errs["map put"] = m.Put(ctx, key, nil, 1<<40)
	_, _, errs["value get"] = v.Get(ctx)
	_, errs["value set"] = v.Set(ctx, nil, 7)
	_, errs["list get"] = l.Get(ctx, 3)
	_, errs["indexed map first"] = im.First(ctx)
	_, errs["indexed map next"] = im.Next(ctx, 9)
	_, errs["election evict"] = e.Evict(ctx, key)
	m.Close(ctx)
	_, errs["closed map"] = m.Get(ctx, key)
	for what, err := range errs {
		var de *driver.Error
		if !errors.As(err, &de) {
			t.Errorf("%s: %v (%T) is not a *driver.Error", what, err, err)
			continue
		}
		msg := err.Error()
		for _, banned := range []string{key, "memory", "get", "insert", "put", "evict", `"m"`, `"test"`} {
			if strings.Contains(msg, banned) {
				t.Errorf("%s: %q contains %q", what, msg, banned)
			}
		}
	}
}
