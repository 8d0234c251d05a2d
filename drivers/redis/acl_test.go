package redis

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// TestWriteWithoutPublishPermission runs writes as a Redis user that may
// not PUBLISH: each must be applied and reported, or refused
// (ErrPermission) and not applied; never stored and reported failed.
func TestWriteWithoutPublishPermission(t *testing.T) {
	ctx := testContext(t)
	admin := newTestDriver(t)
	user := "nopub-" + randomID()[:8]
	if err := admin.client.Do(ctx, "ACL", "SETUSER", user, "on", ">secret", "~*", "&*", "+@all", "-publish").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.client.Do(context.Background(), "ACL", "DELUSER", user).Err() })
	d, err := New(&goredis.UniversalOptions{
		Addrs: []string{testbackend.Redis(t)}, Username: user, Password: "secret", ContextTimeoutEnabled: true,
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Close(cctx)
	})
	id := testID(t, "p")

	// check fails unless (err == nil && applied) or (err is ErrPermission
	// && !applied).
	check := func(op string, err error, applied bool) {
		t.Helper()
		switch {
		case err == nil && applied:
		case isKind(err, driver.ErrPermission) && !applied:
		default:
			t.Errorf("%s: err = %v, applied = %v", op, err, applied)
		}
	}

	am, _ := admin.OpenMap(ctx, id)
	m, _ := d.OpenMap(ctx, id)
	_, err = m.Put(ctx, "k", []byte("v"), 0)
	_, gerr := am.Get(ctx, "k")
	check("Map.Put", err, gerr == nil)
	if _, err := am.Put(ctx, "r", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	_, err = m.Remove(ctx, "r", 0)
	_, gerr = am.Get(ctx, "r")
	check("Map.Remove", err, isKind(gerr, driver.ErrNotFound))
	err = m.Clear(ctx)
	n, _ := am.Len(ctx)
	check("Map.Clear", err, n == 0)

	av, _ := admin.OpenValue(ctx, id)
	v, _ := d.OpenValue(ctx, id)
	_, err = v.Set(ctx, []byte("v"), 0)
	_, _, gerr = av.Get(ctx)
	check("Value.Set", err, gerr == nil)

	as, _ := admin.OpenSet(ctx, id)
	s, _ := d.OpenSet(ctx, id)
	_, err = s.Add(ctx, "e")
	ok, _ := as.Contains(ctx, "e")
	check("Set.Add", err, ok)

	al, _ := admin.OpenList(ctx, id)
	l, _ := d.OpenList(ctx, id)
	_, err = l.Append(ctx, []byte("x"))
	n, _ = al.Len(ctx)
	check("List.Append", err, n == 1)

	ai, _ := admin.OpenIndexedMap(ctx, id)
	im, _ := d.OpenIndexedMap(ctx, id)
	_, err = im.Append(ctx, "k", []byte("v"))
	_, gerr = ai.Get(ctx, "k")
	check("IndexedMap.Append", err, gerr == nil)

	ae, _ := admin.OpenElection(ctx, id)
	e, _ := d.OpenElection(ctx, id)
	sess, err := d.NewSession(ctx, driver.SessionOptions{TTL: testTTL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Enter(ctx, sess, "c")
	tm, _ := ae.Term(ctx)
	check("Election.Enter", err, tm.Leader == "c")

	lk, _ := d.OpenLock(ctx, id)
	alk, _ := admin.OpenLock(ctx, id)
	hold, err := lk.Acquire(ctx, sess, "o")
	if err != nil {
		t.Fatalf("Acquire publishes nothing and must succeed: %v", err)
	}
	_, err = lk.Release(ctx, "o", hold.Version)
	_, held, _ := alk.Holder(ctx)
	check("Lock.Release", err, !held)
	_ = sess.Close(ctx)
}
