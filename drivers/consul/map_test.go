package consul

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

func TestMapValueLimit(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	m, _ := d.OpenMap(ctx, testID("big"))
	max := d.Limits().MaxValueSize
	key := string(bytes.Repeat([]byte{0xff}, d.Limits().MaxKeySize))
	if _, err := m.Put(ctx, key, bytes.Repeat([]byte("x"), max), 0); err != nil {
		t.Fatalf("Put of the largest key and value: %v", err)
	}
	if _, err := m.Update(ctx, key, bytes.Repeat([]byte("y"), max), 0); err != nil {
		t.Fatalf("Update of the largest key and value: %v", err)
	}
	_, err := m.Put(ctx, "k", bytes.Repeat([]byte("x"), 600<<10), 0)
	var se api.StatusError
	if !errors.Is(err, driver.ErrInvalid) || !errors.As(err, &se) || se.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("Put of a value above the agent's limit: %v, want ErrInvalid caused by the agent's 413", err)
	}
}

// TestMapPlainWriteKeepsTheKey: a plain Put or Update of a key that no
// session holds is one set (checked unbound in the same transaction), not a
// delete and a set: the key keeps its CreateIndex, and Consul does no
// delete. Over an ephemeral entry the write still unbinds it, in a second
// transaction: the entry is persistent afterwards, with the new value and
// version, and outlives the session.
func TestMapPlainWriteKeepsTheKey(t *testing.T) {
	ctx := testContext(t)
	d := testDriver(t)
	mi, _ := d.OpenMap(ctx, testID("plain"))
	m := mi.(*consulMap)
	stored := func(key string) *api.KVPair {
		t.Helper()
		kv, _, err := d.client.KV().Get(m.path(key), nil)
		if err != nil || kv == nil {
			t.Fatalf("read %q: %v, %v", key, kv, err)
		}
		return kv
	}
	if _, err := m.Put(ctx, "k", []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	created := stored("k").CreateIndex
	e, err := m.Put(ctx, "k", []byte("v2"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Update(ctx, "k", []byte("v3"), e.Version); err != nil {
		t.Fatal(err)
	}
	if kv := stored("k"); kv.CreateIndex != created || string(kv.Value) != "v3" {
		t.Fatalf("after a plain Put and Update: value %q, CreateIndex %d; want v3 and %d, the key never deleted", kv.Value, kv.CreateIndex, created)
	}

	s := testSession(t, d)
	for _, write := range []func(key string) (driver.Entry, error){
		func(key string) (driver.Entry, error) { return m.Put(ctx, key, []byte("plain"), 0) },
		func(key string) (driver.Entry, error) { return m.Update(ctx, key, []byte("plain"), 0) },
	} {
		if _, err := m.WriteWith(ctx, driver.MapPut, "e", []byte("bound"), driver.Write{Session: s}); err != nil {
			t.Fatal(err)
		}
		if kv := stored("e"); kv.Session == "" {
			t.Fatal("an ephemeral Put left the key unbound")
		}
		e, err := write("e")
		if err != nil {
			t.Fatalf("a plain write over an ephemeral entry: %v", err)
		}
		if kv := stored("e"); kv.Session != "" || string(kv.Value) != "plain" || kv.ModifyIndex != e.Version {
			t.Fatalf("after a plain write over an ephemeral entry: session %q, value %q, ModifyIndex %d; want none, plain, %d", kv.Session, kv.Value, kv.ModifyIndex, e.Version)
		}
	}
}
