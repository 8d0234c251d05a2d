package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
	"github.com/atomix/go-client/atomix/election"
	"github.com/atomix/go-client/atomix/indexedmap"
	"github.com/atomix/go-client/atomix/list"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
)

// refusalBound is how long a refused operation may take: a refusal is one
// round trip, so anything near this bound is a retry loop.
const refusalBound = 15 * time.Second

// testPermissions is the least-privilege tier: with credentials that may
// read the namespace and keep sessions but not write, every write of every
// primitive is refused with ErrPermission at once (no panic, no retry until
// the context ends, no other error kind), reads still work, and nothing is
// written.
func testPermissions(t *testing.T, h Harness) {
	if reason, ok := h.Gaps[FeaturePermissions]; ok {
		t.Skipf("gap: %s: %s", FeaturePermissions, reason)
	}
	if h.NewReadOnlyDriver == nil {
		t.Fatalf("conformance: Harness.NewReadOnlyDriver is needed for the permissions tier (or declare the %q gap)", FeaturePermissions)
	}
	parallel(t, "ReadOnlyWritesRefused", h, testReadOnlyWritesRefused)
	parallel(t, "ReadOnlySemaphore", h, testReadOnlySemaphore)
}

func testReadOnlyWritesRefused(t *testing.T, e *env) {
	seed := e.client()
	seedPrimitives(t, e.ctx, seed)
	before := stateOf(t, e.ctx, seed)

	d, err := e.h.NewReadOnlyDriver(e.ctx, t)
	require.NoError(t, err, "Harness.NewReadOnlyDriver")
	require.NotNil(t, d, "Harness.NewReadOnlyDriver returned a nil driver")
	ro := e.clientOn(d, e.ns)
	require.NoError(t, ro.Ping(e.withTimeout(refusalBound)), "Ping with read-only credentials")
	if got := dataStateOf(t, e.ctx, ro); got != dataStateOf(t, e.ctx, seed) {
		t.Errorf("read-only credentials read a different state:\n got %s\nwant %s", got, before)
	}
	// Reading an election's term may have to write (Redis removes the
	// candidates of expired sessions when it reads), so it may be refused,
	// but only as a refusal.
	el, err := ro.GetElection(e.ctx, "e")
	require.NoError(t, err)
	if _, err := el.GetTerm(e.withTimeout(refusalBound)); err != nil && !errors.Is(err, atomix.ErrPermission) {
		t.Errorf("Election.GetTerm with read-only credentials: %v, want success or ErrPermission", err)
	}

	for _, op := range writeOps(t, e.ctx, ro) {
		CheckRefused(t, op.name, op.call)
	}
	if after := stateOf(t, e.ctx, seed); after != before {
		t.Errorf("refused writes changed the state:\nbefore %s\nafter  %s", before, after)
	}
}

// testReadOnlySemaphore: with read-only credentials a semaphore opens and
// reads (Available), and Acquire and TryAcquire are refused with
// ErrPermission, taking nothing.
func testReadOnlySemaphore(t *testing.T, e *env) {
	skipIfGap(t, e.h, FeatureSemaphore)
	seed := e.semaphore(e.client(), "sem", 2)
	take(t, e.ctx, seed, 1, 0)
	d, err := e.h.NewReadOnlyDriver(e.ctx, t)
	require.NoError(t, err, "Harness.NewReadOnlyDriver")
	ro := e.semaphore(e.clientOn(d, e.ns), "sem", 2)
	expect(t, 1, "Available with read-only credentials")(ro.Available(e.ctx))
	CheckRefused(t, "Semaphore.Acquire", func(ctx context.Context) error { _, err := ro.Acquire(ctx); return err })
	CheckRefused(t, "Semaphore.TryAcquire", func(ctx context.Context) error {
		_, _, err := ro.TryAcquire(ctx, semaphore.Permits(1))
		return err
	})
	expect(t, 1, "refused acquisitions took nothing")(seed.Available(e.ctx))
	expect(t, true)(seed.Release(e.ctx))
}

// CheckRefused runs call with a context of 15 s and fails t unless call
// returns an error matching ErrPermission before that context ends, without
// panicking: a refusal is one round trip, so a call that returns only when
// its context ends is retrying what it should have reported. The
// permissions tier uses it for every write; a driver's own tests of
// credentials the harness cannot express (an unknown token, a revoked one)
// may use it too.
func CheckRefused(t testing.TB, what string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), refusalBound)
	defer cancel()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return call(ctx)
	}()
	switch {
	case ctx.Err() != nil:
		t.Errorf("%s: returned %v only when its %v context ended, want ErrPermission at once", what, err, refusalBound)
	case !errors.Is(err, atomix.ErrPermission):
		t.Errorf("%s: %v, want ErrPermission", what, err)
	}
}

// seedPrimitives writes one entry into each primitive that has entries, so
// that updates and removals have something to refuse.
func seedPrimitives(t *testing.T, ctx context.Context, c *atomix.Client) {
	t.Helper()
	p := openPrimitives(t, ctx, c)
	_, err := p.counter.Set(ctx, 5)
	require.NoError(t, err)
	_, err = p.m.Put(ctx, "k", "v")
	require.NoError(t, err)
	_, err = p.set.Add(ctx, "a")
	require.NoError(t, err)
	_, err = p.value.Set(ctx, "v")
	require.NoError(t, err)
	_, err = p.list.Append(ctx, "x")
	require.NoError(t, err)
	_, err = p.im.Append(ctx, "k", "v")
	require.NoError(t, err)
}

// stateOf reads every primitive the tier uses into one comparable string.
func stateOf(t *testing.T, ctx context.Context, c *atomix.Client) string {
	t.Helper()
	el, err := c.GetElection(ctx, "e")
	require.NoError(t, err)
	term, err := el.GetTerm(ctx)
	require.NoError(t, err, "Election.GetTerm")
	return fmt.Sprintf("%s term=%d/%q/%v", dataStateOf(t, ctx, c), term.Term, term.Leader, term.Candidates)
}

// dataStateOf is stateOf without the election.
func dataStateOf(t *testing.T, ctx context.Context, c *atomix.Client) string {
	t.Helper()
	p := openPrimitives(t, ctx, c)
	n, err := p.counter.Get(ctx)
	require.NoError(t, err, "Counter.Get")
	var entries []string
	for e, err := range p.m.Entries(ctx) {
		require.NoError(t, err, "Map.Entries")
		entries = append(entries, fmt.Sprintf("%s=%s@%d", e.Key, e.Value, e.Version))
	}
	slices.Sort(entries)
	var elements []string
	for e, err := range p.set.Elements(ctx) {
		require.NoError(t, err, "Set.Elements")
		elements = append(elements, e)
	}
	slices.Sort(elements)
	v, version, err := p.value.Get(ctx)
	require.NoError(t, err, "Value.Get")
	var items []string
	for item, err := range p.list.Items(ctx) {
		require.NoError(t, err, "List.Items")
		items = append(items, item)
	}
	var indexed []string
	for e, err := range p.im.Entries(ctx) {
		require.NoError(t, err, "IndexedMap.Entries")
		indexed = append(indexed, fmt.Sprintf("%d:%s=%s@%d", e.Index, e.Key, e.Value, e.Version))
	}
	locked, err := p.lock.IsLocked(ctx)
	require.NoError(t, err, "Lock.IsLocked")
	return fmt.Sprintf("counter=%d map=%v set=%v value=%s@%d list=%v indexedmap=%v locked=%v",
		n, entries, elements, v, version, items, indexed, locked)
}

// permissionPrimitives are the primitives the permissions tier writes.
type permissionPrimitives struct {
	counter  counter.Counter
	m        _map.Map[string, string]
	set      set.Set[string]
	value    value.Value[string]
	list     list.List[string]
	im       indexedmap.IndexedMap[string, string]
	lock     lock.Lock
	lock2    lock.Lock
	election election.Election
}

func openPrimitives(t *testing.T, ctx context.Context, c *atomix.Client) permissionPrimitives {
	t.Helper()
	var p permissionPrimitives
	var err error
	p.counter, err = c.GetCounter(ctx, "c")
	require.NoError(t, err)
	p.m, err = atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	require.NoError(t, err)
	p.set, err = atomix.GetSet[string](ctx, "s", atomix.WithClient(c))
	require.NoError(t, err)
	p.value, err = atomix.GetValue[string](ctx, "v", atomix.WithClient(c))
	require.NoError(t, err)
	p.list, err = atomix.GetList[string](ctx, "l", atomix.WithClient(c))
	require.NoError(t, err)
	p.im, err = atomix.GetIndexedMap[string, string](ctx, "im", atomix.WithClient(c))
	require.NoError(t, err)
	p.lock, err = c.GetLock(ctx, "lock")
	require.NoError(t, err)
	p.lock2, err = c.GetLock(ctx, "lock2")
	require.NoError(t, err)
	p.election, err = c.GetElection(ctx, "e")
	require.NoError(t, err)
	return p
}

type writeOp struct {
	name string
	call func(ctx context.Context) error
}

// writeOps returns one call of every write of every primitive, on the
// primitives seedPrimitives wrote.
func writeOps(t *testing.T, ctx context.Context, c *atomix.Client) []writeOp {
	t.Helper()
	p := openPrimitives(t, ctx, c)
	return []writeOp{
		{"Counter.Set", func(ctx context.Context) error { _, err := p.counter.Set(ctx, 7); return err }},
		{"Counter.Increment", func(ctx context.Context) error { _, err := p.counter.Increment(ctx, 1); return err }},
		{"Counter.Decrement", func(ctx context.Context) error { _, err := p.counter.Decrement(ctx, 1); return err }},
		{"Counter.CompareAndSet", func(ctx context.Context) error { _, err := p.counter.CompareAndSet(ctx, 5, 6); return err }},
		{"Map.Put", func(ctx context.Context) error { _, err := p.m.Put(ctx, "k2", "v"); return err }},
		{"Map.Insert", func(ctx context.Context) error { _, err := p.m.Insert(ctx, "k3", "v"); return err }},
		{"Map.Update", func(ctx context.Context) error { _, err := p.m.Update(ctx, "k", "w"); return err }},
		{"Map.Remove", func(ctx context.Context) error { _, err := p.m.Remove(ctx, "k"); return err }},
		{"Map.Clear", func(ctx context.Context) error { return p.m.Clear(ctx) }},
		{"Set.Add", func(ctx context.Context) error { _, err := p.set.Add(ctx, "b"); return err }},
		{"Set.Remove", func(ctx context.Context) error { _, err := p.set.Remove(ctx, "a"); return err }},
		{"Set.Clear", func(ctx context.Context) error { return p.set.Clear(ctx) }},
		{"Value.Set", func(ctx context.Context) error { _, err := p.value.Set(ctx, "w"); return err }},
		{"Value.Delete", func(ctx context.Context) error { return p.value.Delete(ctx) }},
		{"List.Append", func(ctx context.Context) error { _, err := p.list.Append(ctx, "y"); return err }},
		{"List.Insert", func(ctx context.Context) error { return p.list.Insert(ctx, 0, "y") }},
		{"List.Set", func(ctx context.Context) error { _, err := p.list.Set(ctx, 0, "y"); return err }},
		{"List.Remove", func(ctx context.Context) error { _, err := p.list.Remove(ctx, 0); return err }},
		{"List.Clear", func(ctx context.Context) error { return p.list.Clear(ctx) }},
		{"IndexedMap.Append", func(ctx context.Context) error { _, err := p.im.Append(ctx, "k2", "v"); return err }},
		{"IndexedMap.Update", func(ctx context.Context) error { _, err := p.im.Update(ctx, "k", "w"); return err }},
		{"IndexedMap.Remove", func(ctx context.Context) error { _, err := p.im.Remove(ctx, "k"); return err }},
		{"IndexedMap.Clear", func(ctx context.Context) error { return p.im.Clear(ctx) }},
		{"Lock.Lock", func(ctx context.Context) error { _, err := p.lock.Lock(ctx); return err }},
		{"Lock.TryLock", func(ctx context.Context) error { _, _, err := p.lock2.TryLock(ctx); return err }},
		{"Election.Enter", func(ctx context.Context) error { _, err := p.election.Enter(ctx); return err }},
	}
}
