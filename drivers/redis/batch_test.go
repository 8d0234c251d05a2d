package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/conformance/linearize"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// writeGate is a redis-server of a test's own whose writes the test can
// hold (CLIENT PAUSE WRITE): a write script sent while they are held waits
// in the server, which lets a test line writes up behind one in flight.
type writeGate struct {
	t     *testing.T
	admin *goredis.Client
}

// newWriteGate starts a server of t's own and returns a driver for it and
// its gate.
func newWriteGate(t *testing.T) (*Driver, *writeGate) {
	t.Helper()
	srv := testbackend.StartRedisServer(t)
	admin := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { admin.Close() })
	d, err := New(&goredis.UniversalOptions{Addrs: []string{srv.Addr()}, ContextTimeoutEnabled: true}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d, &writeGate{t: t, admin: admin}
}

// hold holds every write the server receives until release.
func (g *writeGate) hold() {
	g.t.Helper()
	if err := g.admin.Do(context.Background(), "client", "pause", 60000, "write").Err(); err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(g.release)
}

// release lets the held writes run.
func (g *writeGate) release() {
	_ = g.admin.Do(context.Background(), "client", "unpause").Err()
}

// info returns the field of INFO section, as an integer (0 if absent).
func (g *writeGate) info(section, field string) int64 {
	g.t.Helper()
	s, err := g.admin.Info(context.Background(), section).Result()
	if err != nil {
		g.t.Fatal(err)
	}
	for line := range strings.Lines(s) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// waitHeld waits until n clients wait in the server for their write.
func (g *writeGate) waitHeld(n int64) {
	g.t.Helper()
	waitUntil(g.t, "clients held in the server: "+strconv.FormatInt(n, 10), func() bool {
		return g.info("clients", "blocked_clients") == n
	})
}

// scriptRuns returns how many scripts the server has run: EVALSHA and EVAL
// calls, less those that failed (an EVALSHA of a script not yet loaded,
// which the driver follows with an EVAL).
func (g *writeGate) scriptRuns() int64 {
	g.t.Helper()
	stats, err := commandStats(context.Background(), g.admin)
	if err != nil {
		g.t.Fatal(err)
	}
	var n float64
	for _, cmd := range []string{"evalsha", "eval"} {
		n += stats[cmd]["calls"] - stats[cmd]["failed_calls"]
	}
	return int64(n)
}

// waitUntil polls cond for up to 10 s, failing t with what if it never
// holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// queued returns how many writes wait in b's queue.
func (b *batcher) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// keeping is a Driver that keeps the maps, sets and values it opens, so
// that a test can see their batchers behind the atomix API.
type keeping struct {
	*Driver
	mu       sync.Mutex
	batchers []*batcher
}

func (k *keeping) keep(b *batcher) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.batchers = append(k.batchers, b)
}

func (k *keeping) OpenMap(ctx context.Context, id driver.ID) (driver.Map, error) {
	m, err := k.Driver.OpenMap(ctx, id)
	if err == nil {
		k.keep(m.(*redisMap).writes)
	}
	return m, err
}

func (k *keeping) OpenSet(ctx context.Context, id driver.ID) (driver.Set, error) {
	s, err := k.Driver.OpenSet(ctx, id)
	if err == nil {
		k.keep(s.(*set).changes)
	}
	return s, err
}

func (k *keeping) OpenValue(ctx context.Context, id driver.ID) (driver.Value, error) {
	v, err := k.Driver.OpenValue(ctx, id)
	if err == nil {
		k.keep(v.(*value).sets)
	}
	return v, err
}

// queued returns how many writes wait in the queues of the kept batchers.
func (k *keeping) queued() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, b := range k.batchers {
		n += b.queued()
	}
	return n
}

// gatedClient returns an atomix client over a driver for a server of t's
// own, the driver, and the server's gate.
func gatedClient(t *testing.T) (*atomix.Client, *keeping, *writeGate) {
	t.Helper()
	d, g := newWriteGate(t)
	k := &keeping{Driver: d}
	return atomix.NewClient(atomix.WithDriver(k)), k, g
}

// inFlightTogether makes n writes (write(0) to write(n-1)) through k while
// g holds the first maxRunsInFlight in the server (they go alone, each in a
// run of its own) and the others wait in a queue, and returns how many
// script runs the server ran for them once released.
func inFlightTogether(t *testing.T, k *keeping, g *writeGate, n int, write func(i int)) int64 {
	t.Helper()
	runs := g.scriptRuns()
	g.hold()
	var wg sync.WaitGroup
	for i := range maxRunsInFlight {
		wg.Go(func() { write(i) })
	}
	g.waitHeld(maxRunsInFlight)
	for i := maxRunsInFlight; i < n; i++ {
		wg.Go(func() { write(i) })
	}
	waitUntil(t, "the writes beyond those in flight queued", func() bool { return k.queued() == n-maxRunsInFlight })
	g.release()
	wg.Wait()
	runs = g.scriptRuns() - runs
	t.Logf("%d writes in %d script runs", n, runs)
	return runs
}

// TestWritesInFlightTogetherShareOneScriptRun holds maxRunsInFlight Puts in
// the server and makes more while they wait, eleven in all: the others must
// reach the server in one script run, each with its own version, stored
// value and change message, in one order.
func TestWritesInFlightTogetherShareOneScriptRun(t *testing.T) {
	ctx := testContext(t)
	c, k, g := gatedClient(t)
	m, err := atomix.GetMap[string, string](ctx, "batched", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan _map.Event[string, string], 64)
	if err := m.Watch(ctx, events); err != nil {
		t.Fatal(err)
	}
	const writes = 11
	entries := make([]_map.Entry[string, string], writes)
	errs := make([]error, writes)
	runs := inFlightTogether(t, k, g, writes, func(i int) {
		entries[i], errs[i] = m.Put(ctx, "k"+itoa(i), "v"+itoa(i))
	})
	if runs != maxRunsInFlight+1 {
		t.Errorf("%d writes, %d of them held in flight, took %d script runs, want %d: those and one batch", writes, maxRunsInFlight, runs, maxRunsInFlight+1)
	}
	byVersion := map[uint64]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put k%d: %v", i, err)
		}
		if j, dup := byVersion[entries[i].Version]; dup {
			t.Fatalf("Put k%d and k%d both got version %d", i, j, entries[i].Version)
		}
		byVersion[entries[i].Version] = i
		got, err := m.Get(ctx, "k"+itoa(i))
		if err != nil || got.Value != "v"+itoa(i) || got.Version != entries[i].Version {
			t.Fatalf("Get k%d = %+v, %v; want v%d at version %d", i, got, err, i, entries[i].Version)
		}
	}
	var last uint64
	for range writes {
		select {
		case ev := <-events:
			i, ok := byVersion[ev.Entry.Version]
			if !ok || ev.Entry.Key != "k"+itoa(i) || ev.Entry.Value != "v"+itoa(i) {
				t.Fatalf("event %+v matches no Put", ev)
			}
			if ev.Entry.Version <= last {
				t.Fatalf("event at version %d after one at %d", ev.Entry.Version, last)
			}
			last = ev.Entry.Version
		case <-time.After(10 * time.Second):
			t.Fatal("an event of the writes never came")
		}
	}
}

// TestSetChangesInFlightTogetherShareOneScriptRun is the map's test for a
// set: of eleven changes, the first held in the server, the others go in
// one script run, each with its own outcome (an element added twice is
// added once), and every change reaches the set.
func TestSetChangesInFlightTogetherShareOneScriptRun(t *testing.T) {
	ctx := testContext(t)
	c, k, g := gatedClient(t)
	s, err := atomix.GetSet[string](ctx, "batched", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	const changes = 11
	added := make([]bool, changes)
	errs := make([]error, changes)
	runs := inFlightTogether(t, k, g, changes, func(i int) {
		added[i], errs[i] = s.Add(ctx, "e"+itoa(i/2)) // e0 twice, e1 twice, ...
	})
	if runs != maxRunsInFlight+1 {
		t.Errorf("%d changes, %d of them held in flight, took %d script runs, want %d: those and one batch", changes, maxRunsInFlight, runs, maxRunsInFlight+1)
	}
	for e := 0; e <= (changes-1)/2; e++ {
		n := 0
		for i := 2 * e; i < min(2*e+2, changes); i++ {
			if errs[i] != nil {
				t.Fatalf("Add e%d: %v", e, errs[i])
			}
			if added[i] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("e%d added %d times, want once", e, n)
		}
		if ok, err := s.Contains(ctx, "e"+itoa(e)); err != nil || !ok {
			t.Errorf("Contains e%d = %v, %v", e, ok, err)
		}
	}
}

// TestValueSetsInFlightTogetherShareOneScriptRun is the map's test for a
// value: of eleven Sets, the first held in the server, the others go in one
// script run, each with a version of its own, and the value ends as
// the Set with the highest version left it.
func TestValueSetsInFlightTogetherShareOneScriptRun(t *testing.T) {
	ctx := testContext(t)
	c, k, g := gatedClient(t)
	v, err := atomix.GetValue[string](ctx, "batched", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	const sets = 11
	versions := make([]uint64, sets)
	errs := make([]error, sets)
	runs := inFlightTogether(t, k, g, sets, func(i int) {
		versions[i], errs[i] = v.Set(ctx, "v"+itoa(i))
	})
	if runs != maxRunsInFlight+1 {
		t.Errorf("%d Sets, %d of them held in flight, took %d script runs, want %d: those and one batch", sets, maxRunsInFlight, runs, maxRunsInFlight+1)
	}
	last, seen := 0, map[uint64]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Set v%d: %v", i, err)
		}
		if seen[versions[i]] {
			t.Fatalf("two Sets got version %d", versions[i])
		}
		seen[versions[i]] = true
		if versions[i] > versions[last] {
			last = i
		}
	}
	if got, ver, err := v.Get(ctx); err != nil || got != "v"+itoa(last) || ver != versions[last] {
		t.Errorf("Get = %q at %d, %v; want v%d at %d, the last Set", got, ver, err, last, versions[last])
	}
}

// heldMap returns a map of d with maxRunsInFlight Puts held in the server
// (g holds writes), so that the next writes queue, and a function that
// returns those Puts' errors once they end.
func heldMap(t *testing.T, d *Driver, g *writeGate) (*redisMap, func() []error) {
	t.Helper()
	ctx := testContext(t)
	dm, err := d.OpenMap(ctx, testID(t, "m"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dm.Close(context.Background()) })
	m := dm.(*redisMap)
	g.hold()
	held := make(chan error, maxRunsInFlight)
	for i := range maxRunsInFlight {
		go func() {
			_, err := m.Put(ctx, "held"+itoa(i), []byte("1"), 0)
			held <- err
		}()
	}
	g.waitHeld(maxRunsInFlight)
	return m, func() []error {
		errs := make([]error, maxRunsInFlight)
		for i := range errs {
			errs[i] = <-held
		}
		return errs
	}
}

// queue starts write in a goroutine, waits until it is the n-th write in
// m's queue, and returns its outcome's channel.
func queue(t *testing.T, m *redisMap, n int, write func() error) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- write() }()
	waitUntil(t, "write "+itoa(n)+" queued", func() bool { return m.writes.queued() == n })
	return done
}

// TestQueuedWriteLeftUnsentWhenItsContextEnds cancels a write while it
// waits behind one in flight: it must end with its context's error, not
// ErrAmbiguous, and never be applied, while the write queued behind it is.
func TestQueuedWriteLeftUnsentWhenItsContextEnds(t *testing.T) {
	ctx := testContext(t)
	d, g := newWriteGate(t)
	m, held := heldMap(t, d, g)
	cctx, cancel := context.WithCancel(ctx)
	cancelled := queue(t, m, 1, func() error { return errOf(m.Put(cctx, "cancelled", []byte("x"), 0)) })
	after := queue(t, m, 2, func() error { return errOf(m.Put(ctx, "after", []byte("y"), 0)) })
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) || errors.Is(err, driver.ErrAmbiguous) {
		t.Fatalf("queued write cancelled: %v, want context.Canceled and not ErrAmbiguous", err)
	}
	if n := m.writes.queued(); n != 1 {
		t.Fatalf("%d writes queued after the cancel, want 1", n)
	}
	g.release()
	for _, err := range held() {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-after; err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, "cancelled"); !isKind(err, driver.ErrNotFound) {
		t.Fatalf("Get of the cancelled write's key: %v, want ErrNotFound", err)
	}
	if e, err := m.Get(ctx, "after"); err != nil || string(e.Value) != "y" {
		t.Fatalf("Get after = %+v, %v", e, err)
	}
}

// TestBatchRunLostIsAmbiguousForEveryWrite kills the connection of a batch
// run held in the server: each of its writes must end ErrAmbiguous.
func TestBatchRunLostIsAmbiguousForEveryWrite(t *testing.T) {
	ctx := testContext(t)
	d, g := newWriteGate(t)
	m, held := heldMap(t, d, g)
	a := queue(t, m, 1, func() error { return errOf(m.Put(ctx, "a", []byte("1"), 0)) })
	b := queue(t, m, 2, func() error { return errOf(m.Insert(ctx, "b", []byte("2"))) })
	kill := func() {
		if err := g.admin.Do(ctx, "client", "kill", "type", "normal", "skipme", "yes").Err(); err != nil {
			t.Fatal(err)
		}
	}
	kill() // the held writes' connections: the batch run goes next
	for _, err := range held() {
		if !isKind(err, driver.ErrAmbiguous) {
			t.Fatalf("write whose connection was killed: %v, want ErrAmbiguous", err)
		}
	}
	g.waitHeld(1)
	kill() // the batch run's
	for name, ch := range map[string]<-chan error{"Put a": a, "Insert b": b} {
		if err := <-ch; !isKind(err, driver.ErrAmbiguous) {
			t.Errorf("%s in the lost batch run: %v, want ErrAmbiguous", name, err)
		}
	}
}

// TestBatchedWritesKeepTheirOwnOutcome queues writes and removals whose
// preconditions differ into one batch run: each must get its own outcome,
// and versions in the order they were queued.
func TestBatchedWritesKeepTheirOwnOutcome(t *testing.T) {
	ctx := testContext(t)
	d, g := newWriteGate(t)
	m, held := heldMap(t, d, g)
	type outcome struct {
		e   driver.Entry
		err error
	}
	var results [8]outcome
	var wg sync.WaitGroup
	start := func(i int, write func() (driver.Entry, error)) {
		wg.Add(1)
		queue(t, m, i+1, func() error {
			defer wg.Done()
			results[i].e, results[i].err = write()
			return results[i].err
		})
	}
	start(0, func() (driver.Entry, error) { return m.Insert(ctx, "held0", []byte("again")) })
	start(1, func() (driver.Entry, error) { return m.Update(ctx, "missing", []byte("u"), 0) })
	start(2, func() (driver.Entry, error) { return m.Put(ctx, "p", []byte("p1"), 0) })
	start(3, func() (driver.Entry, error) { return m.Put(ctx, "p", []byte("p2"), 1) })
	start(4, func() (driver.Entry, error) { return m.Insert(ctx, "new", []byte("n")) })
	start(5, func() (driver.Entry, error) { return m.Remove(ctx, "held1", 0) })
	start(6, func() (driver.Entry, error) { return m.Remove(ctx, "missing", 0) })
	start(7, func() (driver.Entry, error) { return m.Remove(ctx, "p", 1) })
	runs := g.scriptRuns()
	g.release()
	for _, err := range held() {
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got := g.scriptRuns() - runs; got != maxRunsInFlight+1 {
		t.Errorf("%d script runs for %d writes in flight and eight queued, want %d", got, maxRunsInFlight, maxRunsInFlight+1)
	}
	if !isKind(results[0].err, driver.ErrAlreadyExists) {
		t.Errorf("Insert of a present key: %v, want ErrAlreadyExists", results[0].err)
	}
	if !isKind(results[1].err, driver.ErrNotFound) {
		t.Errorf("Update of a missing key: %v, want ErrNotFound", results[1].err)
	}
	if !isKind(results[3].err, driver.ErrConflict) {
		t.Errorf("Put with a stale version: %v, want ErrConflict", results[3].err)
	}
	if results[2].err != nil || results[4].err != nil {
		t.Fatalf("Put p: %v; Insert new: %v", results[2].err, results[4].err)
	}
	if results[4].e.Version != results[2].e.Version+1 {
		t.Errorf("versions %d then %d for writes queued one after the other, want consecutive", results[2].e.Version, results[4].e.Version)
	}
	if e, err := m.Get(ctx, "p"); err != nil || string(e.Value) != "p1" || e.Version != results[2].e.Version {
		t.Errorf("Get p = %+v, %v; want p1 at version %d", e, err, results[2].e.Version)
	}
	if removed := results[5]; removed.err != nil || string(removed.e.Value) != "1" {
		t.Errorf("Remove held1 = %+v, %v; want the entry it removed, 1", removed.e, removed.err)
	}
	if !isKind(results[6].err, driver.ErrNotFound) {
		t.Errorf("Remove of a missing key: %v, want ErrNotFound", results[6].err)
	}
	if !isKind(results[7].err, driver.ErrConflict) {
		t.Errorf("Remove with a stale version: %v, want ErrConflict", results[7].err)
	}
	if _, err := m.Get(ctx, "held1"); !isKind(err, driver.ErrNotFound) {
		t.Errorf("Get of a removed key: %v, want ErrNotFound", err)
	}
}

// TestQueuedWriteOfClosedInstanceNotSent closes the instance while a write
// waits behind one in flight: it must end ErrClosed and never be applied.
func TestQueuedWriteOfClosedInstanceNotSent(t *testing.T) {
	ctx := testContext(t)
	d, g := newWriteGate(t)
	m, held := heldMap(t, d, g)
	queued := queue(t, m, 1, func() error { return errOf(m.Put(ctx, "queued", []byte("x"), 0)) })
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	runs := g.scriptRuns()
	g.release()
	held()
	if err := <-queued; !isKind(err, driver.ErrClosed) {
		t.Fatalf("write queued when its instance closed: %v, want ErrClosed", err)
	}
	if got := g.scriptRuns() - runs; got != maxRunsInFlight {
		t.Fatalf("%d script runs after the release, want %d (the writes in flight)", got, maxRunsInFlight)
	}
}

// linearizableInBatches runs record, which returns the history of
// goroutines sharing one primitive instance on g's server, checks it
// against model, and checks that its writes (the operations that read
// reports false for) went in fewer script runs than writes, counting the
// runs the server made meanwhile.
func linearizableInBatches(t *testing.T, g *writeGate, model porcupine.Model, read func(input any) bool, record func() []porcupine.Operation) {
	t.Helper()
	before := g.scriptRuns()
	ops := record()
	runs := g.scriptRuns() - before
	writes := 0
	for _, op := range ops {
		if !read(op.Input) {
			writes++
		}
	}
	t.Logf("%d writes in %d script runs", writes, runs)
	if runs >= int64(writes) {
		t.Errorf("%d writes from goroutines sharing an instance took %d script runs: none went in a batch", writes, runs)
	}
	switch r := linearize.Check(model, ops, 10*time.Second); r.Verdict {
	case porcupine.Ok:
	case porcupine.Unknown:
		t.Logf("the check of %d operations ran out of time; nothing proved", r.Ops)
	default:
		t.Fatalf("not linearizable; the shortest failing prefix of one key's history:\n%s", linearize.Format(model, r.Witness))
	}
}

// shared returns a slice of n times p.
func shared[P any](p P, n int) []P {
	ps := make([]P, n)
	for i := range ps {
		ps[i] = p
	}
	return ps
}

// TestBatchedWritesLinearizable runs the linearizability workloads of the
// conformance suite from sixteen goroutines on one instance of a map and a
// set, and eight on one value, so that their writes go in batch runs, and
// checks the histories.
func TestBatchedWritesLinearizable(t *testing.T) {
	ctx := testContext(t)
	d, g := newWriteGate(t)
	c := atomix.NewClient(atomix.WithDriver(d))
	w := linearize.Workload{Ops: 800, Seed: 7}
	t.Run("Map", func(t *testing.T) {
		m, err := atomix.GetMap[string, string](ctx, "batched", atomix.WithClient(c))
		if err != nil {
			t.Fatal(err)
		}
		linearizableInBatches(t, g, linearize.MapModel(), func(in any) bool {
			return in.(linearize.MapInput).Op == linearize.Get
		}, func() []porcupine.Operation {
			return linearize.RunMap(ctx, shared(m, 16), w).Operations()
		})
	})
	t.Run("Set", func(t *testing.T) {
		s, err := atomix.GetSet[string](ctx, "batched", atomix.WithClient(c))
		if err != nil {
			t.Fatal(err)
		}
		linearizableInBatches(t, g, linearize.SetModel(), func(in any) bool {
			return in.(linearize.SetInput).Op == linearize.Contains
		}, func() []porcupine.Operation {
			return linearize.RunSet(ctx, shared(s, 16), w).Operations()
		})
	})
	t.Run("Value", func(t *testing.T) {
		v, err := atomix.GetValue[string](ctx, "batched", atomix.WithClient(c))
		if err != nil {
			t.Fatal(err)
		}
		// One register, so one history for porcupine, which cannot check
		// sixteen clients' in time: eight, twice maxRunsInFlight.
		linearizableInBatches(t, g, linearize.ValueModel(), func(in any) bool {
			return in.(linearize.ValueInput).Op == linearize.Get
		}, func() []porcupine.Operation {
			return linearize.RunValue(ctx, shared(v, 8), w).Operations()
		})
	})
}
