package memory

import (
	"context"
	"testing"

	"github.com/atomix/go-client/driver"
)

func TestMapPreconditions(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	m, _ := connect().OpenMap(ctx, id("m"))

	_, err := m.Put(ctx, "k", []byte("x"), 7)
	wantErr(t, "put with a version on an absent key", err, driver.ErrConflict)
	_, err = m.Update(ctx, "k", []byte("x"), 0)
	wantErr(t, "update of an absent key", err, driver.ErrNotFound)
	_, err = m.Remove(ctx, "k", 0)
	wantErr(t, "remove of an absent key", err, driver.ErrNotFound)
	_, err = m.Get(ctx, "k")
	wantErr(t, "get of an absent key", err, driver.ErrNotFound)

	e1, err := m.Insert(ctx, "k", []byte("v1"))
	must(t, "insert", err)
	if e1.Version == 0 || e1.Key != "k" || string(e1.Value) != "v1" || e1.Index != 0 {
		t.Fatalf("insert returned %+v", e1)
	}
	_, err = m.Insert(ctx, "k", []byte("v2"))
	wantErr(t, "insert of a present key", err, driver.ErrAlreadyExists)
	_, err = m.Put(ctx, "k", []byte("v2"), e1.Version+1)
	wantErr(t, "put with a wrong version", err, driver.ErrConflict)
	_, err = m.Update(ctx, "k", []byte("v2"), e1.Version+1)
	wantErr(t, "update with a wrong version", err, driver.ErrConflict)
	_, err = m.Remove(ctx, "k", e1.Version+1)
	wantErr(t, "remove with a wrong version", err, driver.ErrConflict)

	e2, err := m.Put(ctx, "k", []byte("v2"), e1.Version)
	must(t, "put with the right version", err)
	e3, err := m.Update(ctx, "k", []byte("v3"), e2.Version)
	must(t, "update with the right version", err)
	if !(e1.Version < e2.Version && e2.Version < e3.Version) {
		t.Fatalf("versions %d, %d, %d do not increase", e1.Version, e2.Version, e3.Version)
	}
	got, err := m.Get(ctx, "k")
	must(t, "get", err)
	if string(got.Value) != "v3" || got.Version != e3.Version {
		t.Fatalf("get = %+v", got)
	}
	removed, err := m.Remove(ctx, "k", e3.Version)
	must(t, "remove", err)
	if string(removed.Value) != "v3" || removed.Version != e3.Version {
		t.Fatalf("remove returned %+v", removed)
	}
	if n, _ := m.Len(ctx); n != 0 {
		t.Fatalf("len %d after remove", n)
	}
}

func TestVersionsIncreaseAcrossClearAndRecreate(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	m, _ := d.OpenMap(ctx, id("m"))
	e1, _ := m.Put(ctx, "k", []byte("1"), 0)
	must(t, "clear", m.Clear(ctx))
	e2, _ := m.Put(ctx, "k", []byte("2"), 0)
	m.Remove(ctx, "k", 0)
	e3, _ := m.Put(ctx, "k", []byte("3"), 0)
	if !(0 < e1.Version && e1.Version < e2.Version && e2.Version < e3.Version) {
		t.Fatalf("map versions %d, %d, %d", e1.Version, e2.Version, e3.Version)
	}

	v, _ := d.OpenValue(ctx, id("v"))
	v1, _ := v.Set(ctx, []byte("1"), 0)
	must(t, "delete", v.Delete(ctx, v1))
	// A reopened instance, even on another connection, sees the same state.
	v, _ = connect().OpenValue(ctx, id("v"))
	v2, _ := v.Set(ctx, []byte("2"), 0)
	if !(0 < v1 && v1 < v2) {
		t.Fatalf("value versions %d, %d", v1, v2)
	}

	im, _ := d.OpenIndexedMap(ctx, id("im"))
	i1, _ := im.Append(ctx, "k", []byte("1"))
	must(t, "clear", im.Clear(ctx))
	i2, _ := im.Append(ctx, "k", []byte("2"))
	if !(i1.Version < i2.Version && i1.Index < i2.Index) {
		t.Fatalf("indexed map %+v then %+v", i1, i2)
	}
}

func TestIDsAndKindsAreIsolated(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	a, _ := d.OpenMap(ctx, driver.ID{Namespace: "ns1", Name: "a"})
	for _, other := range []driver.ID{{Namespace: "ns10", Name: "a"}, {Namespace: "ns1", Name: "a/b"}, {Name: "ns1/a"}} {
		b, _ := d.OpenMap(ctx, other)
		b.Put(ctx, "k", []byte("x"), 0)
	}
	if n, _ := a.Len(ctx); n != 0 {
		t.Fatalf("map ns1/a has %d keys written under other IDs", n)
	}
	s, _ := d.OpenSet(ctx, driver.ID{Namespace: "ns1", Name: "a"})
	s.Add(ctx, "k")
	if n, _ := a.Len(ctx); n != 0 {
		t.Fatal("a set shares state with a map of the same ID")
	}
}

func TestBytesAreCopiedInAndOut(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	d := connect()
	m, _ := d.OpenMap(ctx, id("m"))
	in := []byte("abc")
	m.Put(ctx, "k", in, 0)
	in[0] = 'X'
	out, _ := m.Get(ctx, "k")
	out.Value[1] = 'Y'
	for e, err := range m.Entries(ctx) {
		must(t, "entries", err)
		e.Value[2] = 'Z'
	}
	if got, _ := m.Get(ctx, "k"); string(got.Value) != "abc" {
		t.Fatalf("the stored value became %q", got.Value)
	}

	l, _ := d.OpenList(ctx, id("l"))
	l.Append(ctx, in)
	in[0] = 'Q'
	item, _ := l.Get(ctx, 0)
	item[1] = 'Q'
	if got, _ := l.Get(ctx, 0); string(got) != "Xbc" {
		t.Fatalf("the stored item became %q", got)
	}

	v, _ := d.OpenValue(ctx, id("v"))
	v.Set(ctx, in, 0)
	in[0] = 'W'
	got, _, _ := v.Get(ctx)
	got[1] = 'W'
	if got, _, _ := v.Get(ctx); string(got) != "Qbc" {
		t.Fatalf("the stored value became %q", got)
	}
}

// TestLimits checks what Limits reports; the portable layer enforces them
// (the conformance suite checks that through the public API).
func TestLimits(t *testing.T) {
	for _, c := range []struct {
		opts []Option
		want driver.Limits
	}{
		{nil, driver.Limits{MaxKeySize: DefaultMaxKeySize, MaxValueSize: DefaultMaxValueSize}},
		{[]Option{WithLimits(driver.Limits{MaxKeySize: 4, MaxValueSize: 8})}, driver.Limits{MaxKeySize: 4, MaxValueSize: 8}},
		{[]Option{WithLimits(driver.Limits{})}, driver.Limits{}},
		{[]Option{WithLimits(driver.Limits{MaxKeySize: -1, MaxValueSize: 8})}, driver.Limits{MaxValueSize: 8}},
	} {
		if got := New(c.opts...).Limits(); got != c.want {
			t.Errorf("Limits = %+v, want %+v", got, c.want)
		}
	}
}

func TestEntriesIteration(t *testing.T) {
	ctx := context.Background()
	_, _, connect := newTestStore(t)
	m, _ := connect().OpenMap(ctx, id("m"))
	want := map[string]string{"a": "1", "b": "2", "c": "3"}
	for k, v := range want {
		m.Put(ctx, k, []byte(v), 0)
	}
	got := map[string]string{}
	for e, err := range m.Entries(ctx) {
		must(t, "entries", err)
		if _, dup := got[e.Key]; dup {
			t.Fatalf("key %q yielded twice", e.Key)
		}
		got[e.Key] = string(e.Value)
		m.Remove(ctx, "c", 0) // removal during iteration is allowed
	}
	if len(got) < 2 || got["a"] != "1" || got["b"] != "2" {
		t.Fatalf("entries yielded %v", got)
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errs []error
	for _, err := range m.Entries(cctx) {
		cancel()
		errs = append(errs, err)
	}
	if len(errs) != 2 || errs[0] != nil || errs[1] != context.Canceled {
		t.Fatalf("iteration canceled after the first entry yielded errors %v", errs)
	}
	m.Close(ctx)
	errs = nil
	for _, err := range m.Entries(ctx) {
		errs = append(errs, err)
	}
	if len(errs) != 1 {
		t.Fatalf("entries after close yielded %d times", len(errs))
	}
	wantErr(t, "entries after close", errs[0], driver.ErrClosed)
}
