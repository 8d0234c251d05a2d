package etcd

import (
	"errors"
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestOversizedRequestIsInvalid: requests over the server's or the
// client's size limit are ErrInvalid, and nothing is written.
func TestOversizedRequestIsInvalid(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	m, _ := d.OpenMap(ctx, driver.ID{Name: "m"})
	for _, size := range []int{1600 << 10, 3 << 20} {
		if _, err := m.Put(ctx, "big", make([]byte, size), 0); !errors.Is(err, driver.ErrInvalid) {
			t.Errorf("Put of %d bytes: %v, want ErrInvalid", size, err)
		}
	}
	if _, err := m.Get(ctx, "big"); !errors.Is(err, driver.ErrNotFound) {
		t.Errorf("Get after refused Puts: %v, want ErrNotFound", err)
	}
	if _, err := m.Put(ctx, "max", make([]byte, MaxValueSize), 0); err != nil {
		t.Errorf("Put of MaxValueSize: %v", err)
	}
	im, _ := d.OpenIndexedMap(ctx, driver.ID{Name: "im"})
	e, err := im.Append(ctx, strings.Repeat("k", MaxKeySize), make([]byte, MaxValueSize))
	if err != nil {
		t.Fatalf("IndexedMap.Append of the largest key and value: %v", err)
	}
	if _, err := im.Update(ctx, e.Key, make([]byte, MaxValueSize), 0); err != nil {
		t.Errorf("IndexedMap.Update of the largest value: %v", err)
	}
}

// TestClosedDriver: a primitive opened before the driver closed, and a new
// session, are refused as closed (OpenMap after Close and a second Close
// are checked by the conformance suite's CloseIsIdempotent).
func TestClosedDriver(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t, testPrefix(t))
	c, _ := d.OpenCounter(ctx, driver.ID{Name: "c"})
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if _, err := d.NewSession(ctx, driver.SessionOptions{}); !errors.Is(err, driver.ErrClosed) {
		t.Errorf("NewSession after Close: %v, want ErrClosed", err)
	}
}
