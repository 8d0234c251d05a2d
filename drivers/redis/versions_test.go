package redis

import (
	"testing"

	"github.com/atomix/go-client/driver"
)

// TestVersionsIncreaseAcrossClear checks that versions keep increasing
// after Clear and after a delete and re-create: the version counter is
// never deleted.
func TestVersionsIncreaseAcrossClear(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	id := testID(t, "x")

	m, _ := d.OpenMap(ctx, id)
	e1, err := m.Put(ctx, "k", []byte("v"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	e2, err := m.Put(ctx, "k", []byte("v"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if e2.Version <= e1.Version {
		t.Fatalf("map version after Clear %d <= %d", e2.Version, e1.Version)
	}
	if _, err := m.Remove(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	e3, err := m.Insert(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if e3.Version <= e2.Version {
		t.Fatalf("map version after re-insert %d <= %d", e3.Version, e2.Version)
	}

	v, _ := d.OpenValue(ctx, id)
	v1, err := v.Set(ctx, []byte("a"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, v1); err != nil {
		t.Fatal(err)
	}
	v2, err := v.Set(ctx, []byte("b"), 0)
	if err != nil || v2 <= v1 {
		t.Fatalf("value version after delete = %d, %v; want > %d", v2, err, v1)
	}

	im, _ := d.OpenIndexedMap(ctx, id)
	a, err := im.Append(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := im.Append(ctx, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version <= a.Version || b.Index <= a.Index {
		t.Fatalf("indexed map after Clear: %+v, before %+v; want a greater version and index", b, a)
	}
}

// TestPreconditionsUseExactVersions checks IfVersion on every write.
func TestPreconditionsUseExactVersions(t *testing.T) {
	ctx := testContext(t)
	d := newTestDriver(t)
	m, _ := d.OpenMap(ctx, testID(t, "m"))
	e, err := m.Put(ctx, "k", []byte("v"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"put wrong", errOf(m.Put(ctx, "k", []byte("w"), e.Version+1)), driver.ErrConflict},
		{"put absent", errOf(m.Put(ctx, "absent", []byte("w"), e.Version)), driver.ErrConflict},
		{"update absent", errOf(m.Update(ctx, "absent", []byte("w"), e.Version)), driver.ErrNotFound},
		{"insert present", errOf(m.Insert(ctx, "k", []byte("w"))), driver.ErrAlreadyExists},
		{"remove wrong", errOf(m.Remove(ctx, "k", e.Version+1)), driver.ErrConflict},
		{"remove absent", errOf(m.Remove(ctx, "absent", 0)), driver.ErrNotFound},
	} {
		if !isKind(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	e2, err := m.Update(ctx, "k", []byte("w"), e.Version)
	if err != nil || e2.Version <= e.Version {
		t.Fatalf("Update with the right version = %+v, %v", e2, err)
	}
	got, err := m.Remove(ctx, "k", e2.Version)
	if err != nil || string(got.Value) != "w" || got.Version != e2.Version {
		t.Fatalf("Remove = %+v, %v", got, err)
	}
}
