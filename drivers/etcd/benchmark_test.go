package etcd

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/conformance/scalebench"
	"github.com/atomix/go-client/driver"
)

// The benchmarks compare atomix over etcd with raw clientv3 doing the same
// work on the same server, each pair in one run:
//
//	go test -run '^$' -bench . -benchtime 3s ./drivers/etcd/
//
// "atomix" goes through the public API (codecs, validation, the portable
// layer, this driver); "raw" is the clientv3 code a user would write.

const benchNamespace = "bench"

var warmUp sync.Once

// warmServer writes to a fresh server for a while before anything is
// measured, so that whichever benchmark runs first does not pay for the
// server's start-up (WAL and database growth, caches).
func warmServer(b *testing.B, raw *clientv3.Client) {
	warmUp.Do(func() {
		ctx := context.Background()
		key := testPrefix(b) + "warm-up"
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
			if _, err := raw.Put(ctx, key, "x"); err != nil {
				b.Fatal(err)
			}
			if _, err := raw.Delete(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchSetup returns an atomix client and a raw client on the test server,
// the atomix one under a prefix of its own, and that prefix.
func benchSetup(b *testing.B) (*atomix.Client, *clientv3.Client, string) {
	b.Helper()
	prefix := testPrefix(b)
	d := newTestDriver(b, prefix)
	c := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace(benchNamespace), atomix.WithSessionTTL(10*time.Second))
	b.Cleanup(func() { c.Close(context.Background()) })
	raw := rawClient(b)
	warmServer(b, raw)
	return c, raw, prefix
}

func BenchmarkMapPut(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	b.Run("atomix", func(b *testing.B) {
		m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := m.Put(ctx, "key", "value"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		key := prefix + "raw/map/key"
		for b.Loop() {
			if _, err := raw.Put(ctx, key, "value"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMapGet(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	b.Run("atomix", func(b *testing.B) {
		m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.Put(ctx, "key", "value"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := m.Get(ctx, "key"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		key := prefix + "raw/map/key"
		if _, err := raw.Put(ctx, key, "value"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			resp, err := raw.Get(ctx, key)
			if err != nil || len(resp.Kvs) == 0 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCounterIncrement: raw is the usual read-modify-write, a Get and
// a Txn comparing the mod revision (retried on conflict, which does not
// happen here); atomix needs only the Txn.
func BenchmarkCounterIncrement(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	b.Run("atomix", func(b *testing.B) {
		counter, err := c.GetCounter(ctx, "c")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := counter.Increment(ctx, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		key := prefix + "raw/counter"
		for b.Loop() {
			for {
				resp, err := raw.Get(ctx, key)
				if err != nil {
					b.Fatal(err)
				}
				var v, rev int64
				if len(resp.Kvs) > 0 {
					v, _ = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
					rev = resp.Kvs[0].ModRevision
				}
				txn, err := raw.Txn(ctx).
					If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
					Then(clientv3.OpPut(key, strconv.FormatInt(v+1, 10))).Commit()
				if err != nil {
					b.Fatal(err)
				}
				if txn.Succeeded {
					break
				}
			}
		}
	})
}

func BenchmarkValueSetIfVersion(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	b.Run("atomix", func(b *testing.B) {
		v, err := atomix.GetValue[string](ctx, "v", atomix.WithClient(c))
		if err != nil {
			b.Fatal(err)
		}
		ver, err := v.Set(ctx, "value")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if ver, err = v.Set(ctx, "value", value.IfVersion(ver)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		key := prefix + "raw/value"
		put, err := raw.Put(ctx, key, "value")
		if err != nil {
			b.Fatal(err)
		}
		ver := put.Header.Revision
		for b.Loop() {
			resp, err := raw.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", ver)).
				Then(clientv3.OpPut(key, "value")).Commit()
			if err != nil || !resp.Succeeded {
				b.Fatal(err)
			}
			ver = resp.Header.Revision
		}
	})
}

// BenchmarkLockUnlock: an uncontended Lock and Unlock, against
// concurrency.Mutex on a session made once.
func BenchmarkLockUnlock(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	b.Run("atomix", func(b *testing.B) {
		l, err := c.GetLock(ctx, "l")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := l.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := l.Unlock(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mutex", func(b *testing.B) {
		s, err := concurrency.NewSession(raw, concurrency.WithTTL(10))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		m := concurrency.NewMutex(s, prefix+"raw/mutex")
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			if err := m.Unlock(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Both by turns, 20 of one then 20 of the other, so that they share
	// the machine's load alike: reports each one's time per Lock and
	// Unlock, and atomix's time over the mutex's.
	b.Run("interleaved", func(b *testing.B) {
		l, s := lockAndSession(b, c, raw, "l-versus")
		m := concurrency.NewMutex(s, prefix+"raw/mutex-versus")
		spent := scalebench.TimeByTurns(b, 20, func() error {
			if _, err := l.Lock(ctx); err != nil {
				return err
			}
			_, err := l.Unlock(ctx)
			return err
		}, func() error {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			return m.Unlock(ctx)
		})
		atomixTime, mutexTime := spent[0], spent[1]
		b.ReportMetric(float64(atomixTime.Nanoseconds())/float64(b.N), "atomix-ns/op")
		b.ReportMetric(float64(mutexTime.Nanoseconds())/float64(b.N), "mutex-ns/op")
		b.ReportMetric(float64(atomixTime)/float64(mutexTime), "atomix/mutex")
	})
}

// lockAndSession opens the atomix lock called name on c and a
// concurrency.Session on raw, for the Mutexes to compare it with; the
// session ends with the benchmark.
func lockAndSession(b *testing.B, c *atomix.Client, raw *clientv3.Client, name string) (lock.Lock, *concurrency.Session) {
	b.Helper()
	l, err := c.GetLock(context.Background(), name)
	if err != nil {
		b.Fatal(err)
	}
	s, err := concurrency.NewSession(raw, concurrency.WithTTL(10))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return l, s
}

// BenchmarkUnlockCost says where BenchmarkLockUnlock's gap to
// concurrency.Mutex goes. It takes and releases five locks by turns, in
// batches, and times the take and the release apart:
//
//   - atomix: Lock, then Unlock, a transaction that deletes the hold's key
//     if it is the incarnation created at the hold's version, while the
//     hold's watch of that key is open (it is what closes Lost when
//     someone else ends the hold);
//   - mutex: Mutex.Lock, then Mutex.Unlock, a plain Delete;
//   - txn: a Mutex released with atomix's compare-and-delete transaction,
//     which keeps a late or retried release from deleting a later
//     incarnation of the owner's key;
//   - watched: a Mutex released with a plain Delete while a watch of its
//     key is open, as atomix's hold watch is;
//   - both: a Mutex released with the compare-and-delete while a watch of
//     its key is open: both guarantees, in raw clientv3.
//
// Each reports its mean take and release times in µs (…-lock-us,
// …-unlock-us): atomix's Lock against the Mutex's, and atomix's Unlock
// minus both's is what atomix's release costs beyond its two guarantees.
func BenchmarkUnlockCost(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	l, s := lockAndSession(b, c, raw, "l-unlock-cost")
	mutex := func(name string) *concurrency.Mutex {
		m := concurrency.NewMutex(s, prefix+"raw/unlock-cost/"+name)
		if err := m.Lock(ctx); err != nil { // to learn its key's name
			b.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
		return m
	}
	plain, txn, watched, both := mutex("plain"), mutex("txn"), mutex("watched"), mutex("both")
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, m := range []*concurrency.Mutex{watched, both} {
		events := raw.Watch(wctx, m.Key(), clientv3.WithFilterPut())
		go func() {
			for range events {
			}
		}()
	}
	// release takes a lock with take and releases it with unlock, and
	// returns how long each took.
	release := func(take, unlock func() error) func() (time.Duration, time.Duration, error) {
		return func() (time.Duration, time.Duration, error) {
			start := time.Now()
			if err := take(); err != nil {
				return 0, 0, err
			}
			taken := time.Now()
			err := unlock()
			return taken.Sub(start), time.Since(taken), err
		}
	}
	deleteKey := func(m *concurrency.Mutex) func() error {
		return func() error {
			_, err := raw.Delete(ctx, m.Key())
			return err
		}
	}
	// compareAndDelete deletes m's key if it is the incarnation m created:
	// the Mutex created it in the transaction whose header it keeps, so
	// that revision is the key's create revision.
	compareAndDelete := func(m *concurrency.Mutex) func() error {
		return func() error {
			resp, err := raw.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(m.Key()), "=", m.Header().Revision)).
				Then(clientv3.OpDelete(m.Key())).Commit()
			if err == nil && !resp.Succeeded {
				err = fmt.Errorf("the compare-and-delete of %s did not delete it", m.Key())
			}
			return err
		}
	}
	steps := []struct {
		name                 string
		release              func() (time.Duration, time.Duration, error)
		lockTime, unlockTime time.Duration
	}{
		{name: "atomix", release: release(func() error {
			_, err := l.Lock(ctx)
			return err
		}, func() error {
			_, err := l.Unlock(ctx)
			return err
		})},
		{name: "mutex", release: release(func() error { return plain.Lock(ctx) }, func() error { return plain.Unlock(ctx) })},
		{name: "txn", release: release(func() error { return txn.Lock(ctx) }, compareAndDelete(txn))},
		{name: "watched", release: release(func() error { return watched.Lock(ctx) }, deleteKey(watched))},
		{name: "both", release: release(func() error { return both.Lock(ctx) }, compareAndDelete(both))},
	}
	scalebench.ByTurns(b, 20, len(steps), func(step, calls int) {
		st := &steps[step]
		for range calls {
			lockTime, unlockTime, err := st.release()
			if err != nil {
				b.Fatal(err)
			}
			st.lockTime += lockTime
			st.unlockTime += unlockTime
		}
	})
	perCall := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(b.N) }
	for _, st := range steps {
		b.ReportMetric(perCall(st.lockTime), st.name+"-lock-us")
		b.ReportMetric(perCall(st.unlockTime), st.name+"-unlock-us")
	}
}

// BenchmarkLockHandoff measures the time from the holder calling Unlock to
// the waiter's Lock returning, reported as handoff-ns/op; setting up each
// round (the waiter queued and watching) is not timed.
func BenchmarkLockHandoff(b *testing.B) {
	ctx := context.Background()
	c1, raw, prefix := benchSetup(b)
	c2 := atomix.NewClient(atomix.WithDriver(newTestDriver(b, prefix)), atomix.WithNamespace(benchNamespace),
		atomix.WithSessionTTL(10*time.Second))
	b.Cleanup(func() { c2.Close(context.Background()) })

	b.Run("atomix", func(b *testing.B) {
		holder, err := c1.GetLock(ctx, "handoff")
		if err != nil {
			b.Fatal(err)
		}
		waiter, err := c2.GetLock(ctx, "handoff")
		if err != nil {
			b.Fatal(err)
		}
		queue := rootKey(prefix, kindLock, driver.ID{Namespace: benchNamespace, Name: "handoff"}) + "/"
		measureHandoff(b, raw, queue,
			func() error { _, err := holder.Lock(ctx); return err },
			func() error { _, err := holder.Unlock(ctx); return err },
			func() error { _, err := waiter.Lock(ctx); return err },
			func() error { _, err := waiter.Unlock(ctx); return err })
	})
	b.Run("mutex", func(b *testing.B) {
		raw2 := rawClient(b)
		s1, err := concurrency.NewSession(raw, concurrency.WithTTL(10))
		if err != nil {
			b.Fatal(err)
		}
		defer s1.Close()
		s2, err := concurrency.NewSession(raw2, concurrency.WithTTL(10))
		if err != nil {
			b.Fatal(err)
		}
		defer s2.Close()
		name := prefix + "raw/handoff"
		holder, waiter := concurrency.NewMutex(s1, name), concurrency.NewMutex(s2, name)
		measureHandoff(b, raw, name+"/",
			func() error { return holder.Lock(ctx) },
			func() error { return holder.Unlock(ctx) },
			func() error { return waiter.Lock(ctx) },
			func() error { return waiter.Unlock(ctx) })
	})
}

func measureHandoff(b *testing.B, raw *clientv3.Client, queue string, lock, unlock, waitLock, waitUnlock func() error) {
	ctx := context.Background()
	var total time.Duration
	rounds := 0
	for b.Loop() {
		b.StopTimer()
		if err := lock(); err != nil {
			b.Fatal(err)
		}
		acquired := make(chan time.Time, 1)
		go func() {
			if err := waitLock(); err != nil {
				b.Error(err)
			}
			acquired <- time.Now()
		}()
		for { // until the waiter is queued
			resp, err := raw.Get(ctx, queue, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil {
				b.Fatal(err)
			}
			if resp.Count == 2 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // and watching
		b.StartTimer()
		start := time.Now()
		if err := unlock(); err != nil {
			b.Fatal(err)
		}
		total += (<-acquired).Sub(start)
		rounds++
		b.StopTimer()
		if err := waitUnlock(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(rounds), "handoff-ns/op")
}

// BenchmarkMapPutFenced compares Map.Put fenced by a held lock with a plain
// Map.Put and a raw Put: the fence is two compares in the write's own
// transaction, no extra round trip.
func BenchmarkMapPutFenced(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	m, err := atomix.GetMap[string, string](ctx, "fenced", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	l, err := c.GetLock(ctx, "fence")
	if err != nil {
		b.Fatal(err)
	}
	version, err := l.Lock(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fenced", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Put(ctx, "key", "value", _map.Fenced(l, version)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Put(ctx, "key", "value"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A Put with IfVersion is also one transaction: what separates it from
	// the fenced Put is only the fence's compares.
	b.Run("if-version", func(b *testing.B) {
		e, err := m.Put(ctx, "key", "value")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if e, err = m.Put(ctx, "key", "value", _map.IfVersion(e.Version)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		key := prefix + "raw/fenced/key"
		for b.Loop() {
			if _, err := raw.Put(ctx, key, "value"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The scale benchmarks (package scalebench): cost against N items, K lock
// contenders and 64 concurrent goroutines.
//
//	go test -run '^$' -bench 'Scale' ./drivers/etcd/

// BenchmarkScaleLockContention: atomix locks (K=...), then
// concurrency.Mutex, each contender with a session of its own
// (mutex/K=...).
func BenchmarkScaleLockContention(b *testing.B) {
	c, raw, prefix := benchSetup(b)
	scalebench.LockContention(b, c)
	for _, k := range scalebench.Contenders {
		b.Run(fmt.Sprintf("mutex/K=%d", k), func(b *testing.B) {
			name := prefix + "raw/contention/" + strconv.Itoa(k)
			mutexes := make([]*concurrency.Mutex, k)
			for i := range mutexes {
				s, err := concurrency.NewSession(raw, concurrency.WithTTL(10))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				mutexes[i] = concurrency.NewMutex(s, name)
			}
			scalebench.Contention(b, k,
				func(ctx context.Context, i int) error { return mutexes[i].Lock(ctx) },
				func(ctx context.Context, i int) error { return mutexes[i].Unlock(ctx) })
		})
	}
}

func BenchmarkScaleList(b *testing.B) {
	c, _, _ := benchSetup(b)
	scalebench.ListOps(b, c)
}

func BenchmarkScaleMap(b *testing.B) {
	c, _, _ := benchSetup(b)
	scalebench.MapOps(b, c)
}

func BenchmarkScaleIndexedMap(b *testing.B) {
	c, _, _ := benchSetup(b)
	scalebench.IndexedMapOps(b, c)
}

// BenchmarkScaleThroughput64: Map.Put from 64 goroutines, atomix against
// clientv3 Put.
func BenchmarkScaleThroughput64(b *testing.B) {
	ctx := context.Background()
	c, raw, prefix := benchSetup(b)
	m, err := atomix.GetMap[string, string](ctx, "throughput", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	atomixPut := func(ctx context.Context, i int) error {
		_, err := m.Put(ctx, "key-"+strconv.Itoa(i%1024), "value")
		return err
	}
	b.Run("atomix", func(b *testing.B) {
		scalebench.Throughput(b, atomixPut)
	})
	rawPut := func(ctx context.Context, i int) error {
		_, err := raw.Put(ctx, prefix+"raw/throughput/key-"+strconv.Itoa(i%1024), "value")
		return err
	}
	b.Run("raw", func(b *testing.B) {
		scalebench.Throughput(b, rawPut)
	})
	// Both by turns, under the same load: atomix/raw is atomix's share of
	// the raw client's throughput.
	b.Run("interleaved", func(b *testing.B) {
		scalebench.ThroughputVersus(b, rawPut, atomixPut)
	})
}
