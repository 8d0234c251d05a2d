package consul

import (
	"errors"
	"strconv"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// TestIndexedMapSeeksAcrossBlocks checks First, Last, Prev and Next when
// the answer lies beyond the block of 16 or 256 indexes around the bound
// (see nearest), and after the store lost entries below what an instance
// saw first.
func TestIndexedMapSeeksAcrossBlocks(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m := newIndexedMap(d, testID("seek"))
	// Entries at 5, 20, 300, 301 and 4096; n says 5000.
	present := []uint64{5, 20, 300, 301, 4096}
	var ops []kvOp
	for _, i := range present {
		key := "k" + strconv.FormatUint(i, 10)
		ops = append(ops,
			kvOp{Verb: api.KVSet, Key: m.entry(key), Value: []byte("v"), Flags: i},
			kvOp{Verb: api.KVSet, Key: m.index(i), Value: []byte(key)})
	}
	ops = append(ops, kvOp{Verb: api.KVSet, Key: m.last, Value: []byte("5000")})
	if _, err := d.apply(ctx, ops); err != nil {
		t.Fatal(err)
	}
	want := func(what string, e driver.Entry, err error, index uint64) {
		t.Helper()
		switch {
		case index == 0 && !errors.Is(err, driver.ErrNotFound):
			t.Errorf("%s = %d, %v; want ErrNotFound", what, e.Index, err)
		case index != 0 && (err != nil || e.Index != index):
			t.Errorf("%s = %d, %v; want %d", what, e.Index, err, index)
		}
	}
	e, err := m.First(ctx)
	want("First", e, err, 5)
	e, err = m.Last(ctx)
	want("Last", e, err, 4096)
	for _, tc := range []struct{ at, prev, next uint64 }{
		{1, 0, 5}, {5, 0, 20}, {6, 5, 20}, {20, 5, 300}, {299, 20, 300},
		{300, 20, 301}, {301, 300, 4096}, {4095, 301, 4096}, {4096, 301, 0}, {1 << 40, 4096, 0},
	} {
		e, err := m.Prev(ctx, tc.at)
		want("Prev("+strconv.FormatUint(tc.at, 10)+")", e, err, tc.prev)
		e, err = m.Next(ctx, tc.at)
		want("Next("+strconv.FormatUint(tc.at, 10)+")", e, err, tc.next)
	}

	// First remembers 5; remove it and 20: First finds 300.
	if _, err := d.apply(ctx, []kvOp{{Verb: api.KVDelete, Key: m.index(5)}, {Verb: api.KVDelete, Key: m.entry("k5")},
		{Verb: api.KVDelete, Key: m.index(20)}, {Verb: api.KVDelete, Key: m.entry("k20")}}); err != nil {
		t.Fatal(err)
	}
	e, err = m.First(ctx)
	want("First after removals", e, err, 300)
	// The store loses everything and starts again from index 1.
	if _, err := d.apply(ctx, []kvOp{{Verb: api.KVDeleteTree, Key: m.dir}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Append(ctx, "again", []byte("v")); err != nil {
		t.Fatal(err)
	}
	e, err = m.First(ctx)
	want("First after the store restarted empty", e, err, 1)
}
