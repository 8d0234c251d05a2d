// Package scalebench holds benchmarks that show how the cost of atomix
// operations grows with the data (N items), the contention (K lock
// contenders) and the concurrency (64 goroutines), over any driver. A
// driver's test package calls them from its Benchmark functions with a
// client on its test backend, so every driver is measured the same way:
//
//	go test -run '^$' -bench 'Scale' ./drivers/etcd/
//
// The sizes are short by default (N = 100, 1k, 10k); ATOMIX_SCALE_N, a
// comma-separated list, replaces them (e.g. ATOMIX_SCALE_N=100000). The
// benchmarks only report numbers: none asserts a time.
package scalebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
)

// Sizes returns the collection sizes to measure: ATOMIX_SCALE_N if set,
// else 100, 1,000 and 10,000.
func Sizes() []int {
	env := os.Getenv("ATOMIX_SCALE_N")
	if env == "" {
		return []int{100, 1000, 10000}
	}
	var ns []int
	for f := range strings.SplitSeq(env, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			ns = append(ns, n)
		}
	}
	return ns
}

// Contenders are the numbers of lock contenders LockContention measures.
var Contenders = []int{1, 10, 50}

// uniqueName returns a primitive name no earlier run used, so that runs on
// a long-lived server do not see each other's data.
func uniqueName(kind string) string {
	return fmt.Sprintf("scale-%s-%x", kind, rand.Uint64())
}

// LockContention measures K owners (one lock instance each, from c) taking
// turns on one lock, at each K of Contenders: every owner loops Lock,
// Unlock. It reports what Contention does.
func LockContention(b *testing.B, c *atomix.Client) {
	for _, k := range Contenders {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			ctx := context.Background()
			name := uniqueName("lock")
			locks := make([]lock.Lock, k)
			for i := range locks {
				l, err := c.GetLock(ctx, name)
				if err != nil {
					b.Fatal(err)
				}
				locks[i] = l
				defer l.Close(ctx)
			}
			Contention(b, k,
				func(ctx context.Context, i int) error { _, err := locks[i].Lock(ctx); return err },
				func(ctx context.Context, i int) error { _, err := locks[i].Unlock(ctx); return err })
		})
	}
}

// Contention measures k contenders taking turns on one lock: contender i
// (0 <= i < k) loops lock(ctx, i), unlock(ctx, i), b.N acquisitions in all.
// It reports acquisitions per second and the p50 and p99 of the time a
// lock call waited, in milliseconds. A driver's benchmark runs it with its
// backend's own lock too (LockContention runs it with atomix locks), to
// compare them.
func Contention(b *testing.B, k int, lock, unlock func(ctx context.Context, i int) error) {
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	waits := make([][]time.Duration, k)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				t := time.Now()
				if err := lock(ctx, i); err != nil {
					b.Error(err)
					return
				}
				waits[i] = append(waits[i], time.Since(t))
				if err := unlock(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(waits...)
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "acq/s")
	b.ReportMetric(ms(percentile(all, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 0.99)), "p99-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile returns the q-quantile of sorted, 0 if it is empty.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// ListOps measures, at each size of Sizes, the per-item operations of a
// list of N items: Get and Set in the middle, Insert and Remove at the
// front (one pair per op), Append and Remove at the end (one pair per op),
// and Len.
func ListOps(b *testing.B, c *atomix.Client) {
	ctx := context.Background()
	for _, n := range Sizes() {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			l, err := atomix.GetList[string](ctx, uniqueName("list"), atomix.WithClient(c))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = l.Clear(ctx); _ = l.Close(ctx) }()
			for i := range n {
				if _, err := l.Append(ctx, "item-"+strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
			}
			mid := n / 2
			run(b, "Get", func() error { _, err := l.Get(ctx, mid); return err })
			run(b, "Set", func() error { _, err := l.Set(ctx, mid, "set"); return err })
			run(b, "InsertRemoveFront", func() error {
				if err := l.Insert(ctx, 0, "front"); err != nil {
					return err
				}
				_, err := l.Remove(ctx, 0)
				return err
			})
			run(b, "AppendRemoveLast", func() error {
				i, err := l.Append(ctx, "last")
				if err != nil {
					return err
				}
				_, err = l.Remove(ctx, i)
				return err
			})
			run(b, "Len", func() error { _, err := l.Len(ctx); return err })
		})
	}
}

// MapOps measures Put and Get of one key in a map of N entries, at each
// size of Sizes.
func MapOps(b *testing.B, c *atomix.Client) {
	ctx := context.Background()
	for _, n := range Sizes() {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			m, err := atomix.GetMap[string, string](ctx, uniqueName("map"), atomix.WithClient(c))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = m.Clear(ctx); _ = m.Close(ctx) }()
			if err := fill(ctx, n, func(ctx context.Context, i int) error {
				_, err := m.Put(ctx, "key-"+strconv.Itoa(i), "value")
				return err
			}); err != nil {
				b.Fatal(err)
			}
			key := "key-" + strconv.Itoa(n/2)
			run(b, "Put", func() error { _, err := m.Put(ctx, key, "value"); return err })
			run(b, "Get", func() error { _, err := m.Get(ctx, key); return err })
		})
	}
}

// IndexedMapOps measures, at each size of Sizes, the reads of an indexed
// map of N entries by key, by index and at its ends, and an Append with
// the RemoveIndex of the appended entry (one pair per op).
func IndexedMapOps(b *testing.B, c *atomix.Client) {
	ctx := context.Background()
	for _, n := range Sizes() {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			m, err := atomix.GetIndexedMap[string, string](ctx, uniqueName("imap"), atomix.WithClient(c))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = m.Clear(ctx); _ = m.Close(ctx) }()
			if err := fill(ctx, n, func(ctx context.Context, i int) error {
				_, err := m.Append(ctx, "key-"+strconv.Itoa(i), "value")
				return err
			}); err != nil {
				b.Fatal(err)
			}
			mid, err := m.Get(ctx, "key-"+strconv.Itoa(n/2))
			if err != nil {
				b.Fatal(err)
			}
			run(b, "Get", func() error { _, err := m.Get(ctx, mid.Key); return err })
			run(b, "GetIndex", func() error { _, err := m.GetIndex(ctx, mid.Index); return err })
			run(b, "FirstEntry", func() error { _, err := m.FirstEntry(ctx); return err })
			run(b, "LastEntry", func() error { _, err := m.LastEntry(ctx); return err })
			run(b, "AppendRemove", func() error {
				e, err := m.Append(ctx, "appended", "value")
				if err != nil {
					return err
				}
				_, err = m.RemoveIndex(ctx, e.Index)
				return err
			})
		})
	}
}

// fill calls put for 0..n-1 from 8 goroutines; writes to distinct keys do
// not depend on each other's order.
func fill(ctx context.Context, n int, put func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					errs <- nil
					return
				}
				if err := put(ctx, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var first error
	for range 8 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// run is one sub-benchmark calling op b.N times.
func run(b *testing.B, name string, op func() error) {
	b.Run(name, func(b *testing.B) {
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Goroutines is the number of concurrent callers Throughput runs.
const Goroutines = 64

// Throughput runs op from Goroutines goroutines at once, b.N calls in all,
// each with its own call number, and reports operations per second. A
// driver's benchmark runs it once with an atomix operation and once with the
// raw client's equivalent, and both with ThroughputVersus, to compare them
// under the same load.
func Throughput(b *testing.B, op func(ctx context.Context, i int) error) {
	b.ResetTimer()
	b.ReportMetric(float64(b.N)/Concurrent(b, 0, b.N, op).Seconds(), "ops/s")
}

// ThroughputBatch is the number of calls ThroughputVersus makes of one
// operation, in a round, before it turns to the other.
const ThroughputBatch = 1000

// ThroughputVersus runs raw and onAtomix by turns, ThroughputBatch calls
// of one from Goroutines goroutines at once (see Concurrent), then as many
// of the other, raw first in one round and atomix first in the next, until
// each has made b.N calls. It reports the operations per second of each
// (raw-ops/s, atomix-ops/s) and atomix's share of raw's (atomix/raw): on a
// machine whose load varies the two then share it alike, which two
// Throughput runs one after the other do not; and neither always pays for
// what the other left the server to do.
func ThroughputVersus(b *testing.B, raw, onAtomix func(ctx context.Context, i int) error) {
	ThroughputVersusFrom(b, Goroutines, raw, onAtomix)
}

// ThroughputVersusFrom is ThroughputVersus from the given number of
// goroutines instead of Goroutines, to show how throughput follows the
// number of callers.
func ThroughputVersusFrom(b *testing.B, goroutines int, raw, onAtomix func(ctx context.Context, i int) error) {
	variants := [2]func(context.Context, int) error{raw, onAtomix}
	for _, v := range variants {
		concurrent(b, goroutines, 0, ThroughputBatch, v) // both fill their pools first
	}
	var spent [2]time.Duration
	var done [2]int // calls made of each, the next one's first number
	ByTurns(b, ThroughputBatch, 2, func(v, calls int) {
		spent[v] += concurrent(b, goroutines, done[v], calls, variants[v])
		done[v] += calls
	})
	b.ReportMetric(float64(b.N)/spent[0].Seconds(), "raw-ops/s")
	b.ReportMetric(float64(b.N)/spent[1].Seconds(), "atomix-ops/s")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "atomix/raw")
}

// ByTurns runs steps 0 to steps-1 in rounds until each has made b.N
// calls: in every round run(step, calls) makes calls (batch, or what is
// left) of each step, one step after the other, and each step goes first
// in turn from one round to the next. Variants compared this way share the
// machine's load alike, which runs one after the other do not, and none
// always pays for what another left the server to do. It resets b's timer
// first; run times its own calls.
func ByTurns(b *testing.B, batch, steps int, run func(step, calls int)) {
	b.ResetTimer()
	for round := 0; round*batch < b.N; round++ {
		calls := min(batch, b.N-round*batch)
		for i := range steps {
			run((round+i)%steps, calls)
		}
	}
}

// TimeByTurns calls each of ops b.N times, by turns (see ByTurns), one
// call after the other, and returns the time each took in all. An error
// fails b at once.
func TimeByTurns(b *testing.B, batch int, ops ...func() error) []time.Duration {
	spent := make([]time.Duration, len(ops))
	ByTurns(b, batch, len(ops), func(step, calls int) {
		start := time.Now()
		for range calls {
			if err := ops[step](); err != nil {
				b.Fatal(err)
			}
		}
		spent[step] += time.Since(start)
	})
	return spent
}

// Concurrent runs op from Goroutines goroutines at once, with the call
// numbers from first to first+n-1, and returns how long they took. An
// error of op fails b and stops the goroutine that got it.
func Concurrent(b *testing.B, first, n int, op func(ctx context.Context, i int) error) time.Duration {
	return concurrent(b, Goroutines, first, n, op)
}

// concurrent is Concurrent from the given number of goroutines.
func concurrent(b *testing.B, goroutines, first, n int, op func(ctx context.Context, i int) error) time.Duration {
	ctx := context.Background()
	var next atomic.Int64
	next.Store(int64(first))
	var wg sync.WaitGroup
	start := time.Now()
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= first+n {
					return
				}
				if err := op(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}
