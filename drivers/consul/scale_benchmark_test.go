package consul

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/conformance/scalebench"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/driver/chunklist"
)

// The scale benchmarks measure the driver's operations on collections of
// N = 100, 1k and 10k items, watch fan-out to W = 1, 10 and 100 watchers,
// lock contention among K = 1, 10 and 50 clients, and the cost of each read
// consistency mode. They work at the driver level (the atomix layer adds the
// same small cost at every size):
//
//	go test -run '^$' -bench 'Scale|Fanout|Consistency' -benchtime 200x ./drivers/consul/

var scaleSizes = []int{100, 1_000, 10_000}

// fill writes n entries key0..key(n-1) into the directory dir of a Map-like
// layout, pageSize keys per transaction, with mk giving each key's ops.
func fill(b *testing.B, d *Driver, n int, mk func(i int) []kvOp) {
	b.Helper()
	ctx := context.Background()
	var ops []kvOp
	for i := range n {
		ops = append(ops, mk(i)...)
		if len(ops) >= pageSize || i == n-1 {
			if _, err := d.apply(ctx, ops); err != nil {
				b.Fatal(err)
			}
			ops = nil
		}
	}
}

var value100 = []byte("0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789")

// valueN is a 100-byte value that differs for every i: Consul does not
// write (and does not change the version of) a key set to the value it
// already has.
func valueN(i int) []byte {
	v := append([]byte(nil), value100...)
	copy(v, "v"+strconv.Itoa(i)+"-")
	return v
}

func BenchmarkScaleMap(b *testing.B) {
	ctx := context.Background()
	for _, n := range scaleSizes {
		d := testDriverAt(b, testbackend.Consul(b), testPrefix(b))
		m := newMap(d, testID("scale"))
		fill(b, d, n, func(i int) []kvOp {
			return []kvOp{{Verb: api.KVSet, Key: m.path("key" + strconv.Itoa(i)), Value: value100}}
		})
		b.Run(fmt.Sprintf("N=%d/Get", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := m.Get(ctx, "key"+strconv.Itoa(i%n)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d/Put", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := m.Put(ctx, "key"+strconv.Itoa(i%n), valueN(i), 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d/Len", n), func(b *testing.B) {
			for b.Loop() {
				if got, err := m.Len(ctx); err != nil || got != n {
					b.Fatal(got, err)
				}
			}
		})
		b.Run(fmt.Sprintf("N=%d/Entries", n), func(b *testing.B) {
			for b.Loop() {
				count := 0
				for _, err := range m.Entries(ctx) {
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				if count != n {
					b.Fatal(count)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
		// What Entries did before: one recursive read of every value.
		b.Run(fmt.Sprintf("N=%d/raw-kv-list", n), func(b *testing.B) {
			for b.Loop() {
				pairs, _, err := d.kv.List(m.dir, d.read(ctx))
				if err != nil || len(pairs) != n {
					b.Fatal(len(pairs), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}

func BenchmarkScaleIndexedMap(b *testing.B) {
	ctx := context.Background()
	for _, n := range scaleSizes {
		d := testDriverAt(b, testbackend.Consul(b), testPrefix(b))
		m := newIndexedMap(d, testID("scale"))
		fill(b, d, n, func(i int) []kvOp {
			key, ix := "key"+strconv.Itoa(i), uint64(i+1)
			return []kvOp{
				{Verb: api.KVSet, Key: m.entry(key), Value: value100, Flags: ix},
				{Verb: api.KVSet, Key: m.index(ix), Value: []byte(key)},
			}
		})
		if _, err := d.apply(ctx, []kvOp{{Verb: api.KVSet, Key: m.last, Value: []byte(strconv.Itoa(n))}}); err != nil {
			b.Fatal(err)
		}
		for _, op := range []struct {
			name string
			f    func(i int) error
		}{
			{"Get", func(i int) error { _, err := m.Get(ctx, "key"+strconv.Itoa(i%n)); return err }},
			{"GetIndex", func(i int) error { _, err := m.GetIndex(ctx, uint64(i%n+1)); return err }},
			{"First", func(int) error { _, err := m.First(ctx); return err }},
			{"Last", func(int) error { _, err := m.Last(ctx); return err }},
			{"Len", func(int) error { _, err := m.Len(ctx); return err }},
		} {
			b.Run(fmt.Sprintf("N=%d/%s", n, op.name), func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if err := op.f(i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkScaleList measures the list's operations on lists of
// scalebench.Sizes() items of 100 bytes (ATOMIX_SCALE_N=100000 for a
// longer one), filled as a run of Appends would have left them. Insert and
// Remove in the middle are measured as pairs, so the list keeps its size.
func BenchmarkScaleList(b *testing.B) {
	ctx := context.Background()
	for _, n := range scalebench.Sizes() {
		d := testDriverAt(b, testbackend.Consul(b), testPrefix(b))
		l := newList(d, testID("scale"))
		fillList(b, l, n)
		for _, op := range []struct {
			name string
			f    func(i int) error
		}{
			{"Get(mid)", func(int) error { _, err := l.Get(ctx, n/2); return err }},
			{"Set(mid)", func(i int) error { _, err := l.Set(ctx, n/2, valueN(i)); return err }},
			{"Insert+Remove(mid)", func(i int) error {
				if err := l.Insert(ctx, n/2, valueN(i)); err != nil {
					return err
				}
				_, err := l.Remove(ctx, n/2)
				return err
			}},
			{"Append+Remove(last)", func(i int) error {
				at, err := l.Append(ctx, valueN(i))
				if err != nil {
					return err
				}
				_, err = l.Remove(ctx, at)
				return err
			}},
			{"Len", func(int) error { _, err := l.Len(ctx); return err }},
		} {
			b.Run(fmt.Sprintf("N=%d/%s", n, op.name), func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if err := op.f(i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// fillList writes n items of 100 bytes into l's directory and chunks
// directly, in chunks as full as Append leaves them, a few chunks per
// transaction.
func fillList(b *testing.B, l *consulList, n int) {
	b.Helper()
	per := 1
	for per < n && len(listBounds.Split(slices.Repeat([][]byte{value100}, per+1))) == 1 {
		per++
	}
	dir := &chunklist.Dir{}
	var ops []kvOp
	for start := 0; start < n; start += per {
		items := make([][]byte, min(per, n-start))
		for i := range items {
			items[i] = valueN(start + i)
		}
		id := dir.Next
		dir.Next++
		dir.Chunks = append(dir.Chunks, chunklist.Ref{ID: id, N: int64(len(items))})
		ops = append(ops, kvOp{Verb: api.KVSet, Key: l.chunkKey(id), Value: chunklist.EncodeChunk(items)})
		if len(ops) == 16 || start+per >= n {
			if _, err := l.d.apply(context.Background(), ops); err != nil {
				b.Fatal(err)
			}
			ops = nil
		}
	}
	if _, err := l.d.apply(context.Background(), []kvOp{{Verb: api.KVSet, Key: l.dirKey, Value: dir.Encode()}}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWatchFanout measures, on a map of 1k entries followed by W
// watchers, the time from a Map.Put to the moment every watcher has
// received its event: W instances of the map in one client (which share
// one blocking query and one listing per change), or one instance in each
// of W clients (one query and one listing per client and change). It
// reports those rounds per second.
func BenchmarkWatchFanout(b *testing.B) {
	ctx := context.Background()
	const n = 1_000
	for _, shared := range []bool{true, false} {
		for _, w := range []int{1, 10, 100} {
			mode := "clients"
			if shared {
				mode = "one-client"
			}
			b.Run(fmt.Sprintf("%s/W=%d", mode, w), func(b *testing.B) {
				prefix := testPrefix(b)
				d := testDriverAt(b, testbackend.Consul(b), prefix)
				m := newMap(d, testID("fanout"))
				fill(b, d, n, func(i int) []kvOp {
					return []kvOp{{Verb: api.KVSet, Key: m.path("key" + strconv.Itoa(i)), Value: value100}}
				})
				wctx, stop := context.WithCancel(ctx)
				var wg sync.WaitGroup
				defer func() { stop(); wg.Wait() }()
				latest := make([]atomic.Uint64, w)
				progress := make(chan struct{}, 1)
				for j := range w {
					wd := d
					if !shared {
						wd = testDriverAt(b, testbackend.Consul(b), prefix)
					}
					ch := make(chan driver.EntryEvent, 64)
					if err := newMap(wd, testID("fanout")).Watch(wctx, ch); err != nil {
						b.Fatal(err)
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						for ev := range ch {
							latest[j].Store(max(latest[j].Load(), ev.Entry.Version))
							select {
							case progress <- struct{}{}:
							default:
							}
						}
					}()
				}
				for i := 0; b.Loop(); i++ {
					e, err := m.Put(ctx, "key"+strconv.Itoa(i%n), valueN(i), 0)
					if err != nil {
						b.Fatal(err)
					}
					for j := 0; j < w; {
						if latest[j].Load() >= e.Version {
							j++
							continue
						}
						select {
						case <-progress:
						case <-time.After(10 * time.Second):
							b.Fatalf("watcher %d did not see version %d", j, e.Version)
						}
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rounds/s")
			})
		}
	}
}

// BenchmarkScaleLockContention runs K clients that each take and release
// one lock in a loop, b.N acquisitions in all, and reports acquisitions per
// second and the p50 and p99 of the time a Lock call waited: the driver's
// lock (one session per client, created before the loop), and the API
// client's api.Lock on a key of its own with the same K, each client with
// a session of its own (api.Lock would otherwise create one per
// acquisition), for comparison. With -count, the two alternate.
func BenchmarkScaleLockContention(b *testing.B) {
	for _, k := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("K=%d/driver", k), func(b *testing.B) {
			ctx := context.Background()
			prefix := testPrefix(b)
			turns := make([]func() (func() error, error), k)
			for i := range turns {
				d := testDriverAt(b, testbackend.Consul(b), prefix)
				l, err := d.OpenLock(ctx, testID("contended"))
				if err != nil {
					b.Fatal(err)
				}
				s, owner := testSession(b, d), "owner"+strconv.Itoa(i)
				turns[i] = func() (func() error, error) {
					h, err := l.Acquire(ctx, s, owner)
					return func() error { _, err := l.Release(ctx, owner, h.Version); return err }, err
				}
			}
			contend(b, turns)
		})
		b.Run(fmt.Sprintf("K=%d/api.Lock", k), func(b *testing.B) {
			key := testPrefix(b) + "/raw-lock"
			// One transport for the K clients, whose idle connections are
			// closed at the end: otherwise, with -count, the clients of
			// earlier rounds keep theirs open and the agent refuses the
			// next round's clients (HTTP 429: too many connections from
			// one address).
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = 2 * k
			b.Cleanup(tr.CloseIdleConnections)
			turns := make([]func() (func() error, error), k)
			for i := range turns {
				raw, err := api.NewClient(&api.Config{Address: testbackend.Consul(b), Transport: tr})
				if err != nil {
					b.Fatal(err)
				}
				// A TTL longer than the run: api.Lock does not renew a
				// session it was given.
				sid, _, err := raw.Session().Create(&api.SessionEntry{TTL: "600s", Behavior: api.SessionBehaviorDelete, LockDelay: time.Nanosecond}, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { raw.Session().Destroy(sid, nil) })
				rl, err := raw.LockOpts(&api.LockOptions{Key: key, Session: sid})
				if err != nil {
					b.Fatal(err)
				}
				turns[i] = func() (func() error, error) {
					if ch, err := rl.Lock(nil); err != nil || ch == nil {
						return nil, fmt.Errorf("not acquired: %v", err)
					}
					return rl.Unlock, nil
				}
			}
			contend(b, turns)
		})
	}
}

// contend runs the turns in a loop each, b.N turns in all: a turn acquires
// the lock and returns the function that releases it. It reports
// acquisitions per second and the p50 and p99 of the time an acquisition
// waited.
func contend(b *testing.B, turns []func() (func() error, error)) {
	var mu sync.Mutex
	var waits []time.Duration
	left := b.N
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, turn := range turns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if left == 0 {
					mu.Unlock()
					return
				}
				left--
				mu.Unlock()
				t0 := time.Now()
				release, err := turn()
				waited := time.Since(t0)
				if err == nil {
					err = release()
				}
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				waits = append(waits, waited)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(waits)
	if len(waits) > 0 {
		b.ReportMetric(float64(len(waits))/elapsed.Seconds(), "acq/s")
		b.ReportMetric(float64(waits[len(waits)/2].Microseconds()), "wait-p50-µs")
		b.ReportMetric(float64(waits[len(waits)*99/100].Microseconds()), "wait-p99-µs")
	}
}

// BenchmarkConsistency compares Map.Get in the consistent mode (the
// default) with the same read in the default and the stale modes, in the
// same loop (see compare): atomix-µs is the consistent read, raw-µs the
// other mode.
func BenchmarkConsistency(b *testing.B) {
	ctx := context.Background()
	prefix := testPrefix(b)
	open := func(mode Consistency) driver.Map {
		d, err := New(Config{Address: testbackend.Consul(b), Options: Options{Prefix: prefix, Consistency: mode}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { d.Close(ctx) })
		return newMap(d, testID("c"))
	}
	consistent := open(ConsistencyConsistent)
	if _, err := consistent.Put(ctx, "k", value100, 0); err != nil {
		b.Fatal(err)
	}
	get := func(m driver.Map) func() error {
		return func() error { _, err := m.Get(ctx, "k"); return err }
	}
	for _, mode := range []Consistency{ConsistencyDefault, ConsistencyStale} {
		other := open(mode)
		b.Run("consistent-vs-"+string(mode), func(b *testing.B) {
			compare(b, get(consistent), get(other))
		})
	}
}
