package memory_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/semaphore"
	"github.com/atomix/go-client/conformance/scalebench"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// Every benchmark has a "driver" variant, straight on the driver interface,
// and an "atomix" variant through the public API over the same driver: the
// difference is the portable layer's cost.

var benchID = driver.ID{Namespace: "bench", Name: "p"}

// benchDriver returns a fresh memory driver closed at the end of b.
func benchDriver(b *testing.B) *memory.Driver {
	b.Helper()
	d := memory.New()
	b.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// benchClient returns a client over a fresh memory driver, closed at the
// end of b.
func benchClient(b *testing.B) *atomix.Client {
	b.Helper()
	c := atomix.NewClient(atomix.WithDriver(memory.New()), atomix.WithNamespace("bench"))
	b.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func check(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

// run runs the driver and atomix variants of one benchmark.
func run(b *testing.B, onDriver func(*testing.B, context.Context, *memory.Driver), onAtomix func(*testing.B, context.Context, *atomix.Client)) {
	ctx := context.Background()
	b.Run("driver", func(b *testing.B) {
		d := benchDriver(b)
		b.ReportAllocs()
		onDriver(b, ctx, d)
	})
	b.Run("atomix", func(b *testing.B) {
		c := benchClient(b)
		b.ReportAllocs()
		onAtomix(b, ctx, c)
	})
}

func BenchmarkCounterIncrement(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		c, _ := d.OpenCounter(ctx, benchID)
		for b.Loop() {
			_, err := c.Add(ctx, 1)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		c, err := cl.GetCounter(ctx, "p")
		check(b, err)
		for b.Loop() {
			_, err := c.Increment(ctx, 1)
			check(b, err)
		}
	})
}

func BenchmarkCounterGet(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		c, _ := d.OpenCounter(ctx, benchID)
		for b.Loop() {
			_, err := c.Get(ctx)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		c, err := cl.GetCounter(ctx, "p")
		check(b, err)
		for b.Loop() {
			_, err := c.Get(ctx)
			check(b, err)
		}
	})
}

func BenchmarkLockTryLockUnlock(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		l, _ := d.OpenLock(ctx, benchID)
		s, err := d.NewSession(ctx, driver.SessionOptions{})
		check(b, err)
		for b.Loop() {
			h, ok, err := l.TryAcquire(ctx, s, "bench")
			check(b, err)
			if !ok {
				b.Fatal("not acquired")
			}
			_, err = l.Release(ctx, "bench", h.Version)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		l, err := cl.GetLock(ctx, "p")
		check(b, err)
		for b.Loop() {
			_, ok, err := l.TryLock(ctx)
			check(b, err)
			if !ok {
				b.Fatal("not acquired")
			}
			_, err = l.Unlock(ctx)
			check(b, err)
		}
	})
}

func BenchmarkLockLockUnlock(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		l, _ := d.OpenLock(ctx, benchID)
		s, err := d.NewSession(ctx, driver.SessionOptions{})
		check(b, err)
		for b.Loop() {
			h, err := l.Acquire(ctx, s, "bench")
			check(b, err)
			_, err = l.Release(ctx, "bench", h.Version)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		l, err := cl.GetLock(ctx, "p")
		check(b, err)
		for b.Loop() {
			_, err := l.Lock(ctx)
			check(b, err)
			_, err = l.Unlock(ctx)
			check(b, err)
		}
	})
}

func BenchmarkElectionEnterLeave(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		e, _ := d.OpenElection(ctx, benchID)
		s, err := d.NewSession(ctx, driver.SessionOptions{})
		check(b, err)
		for b.Loop() {
			_, err := e.Enter(ctx, s, "me")
			check(b, err)
			_, err = e.Leave(ctx, "me")
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		e, err := cl.GetElection(ctx, "p")
		check(b, err)
		for b.Loop() {
			_, err := e.Enter(ctx)
			check(b, err)
			check(b, e.Leave(ctx))
		}
	})
}

func BenchmarkElectionTerm(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		e, _ := d.OpenElection(ctx, benchID)
		s, err := d.NewSession(ctx, driver.SessionOptions{})
		check(b, err)
		_, err = e.Enter(ctx, s, "me")
		check(b, err)
		for b.Loop() {
			_, err := e.Term(ctx)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		e, err := cl.GetElection(ctx, "p")
		check(b, err)
		_, err = e.Enter(ctx)
		check(b, err)
		for b.Loop() {
			_, err := e.GetTerm(ctx)
			check(b, err)
		}
	})
}

var benchValue = []byte("a value of moderate length, 40 bytes....")

func BenchmarkMapPut(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		m, _ := d.OpenMap(ctx, benchID)
		for b.Loop() {
			_, err := m.Put(ctx, "key", benchValue, 0)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		m, err := atomix.GetMap[string, []byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		for b.Loop() {
			_, err := m.Put(ctx, "key", benchValue)
			check(b, err)
		}
	})
}

func BenchmarkMapGet(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		m, _ := d.OpenMap(ctx, benchID)
		_, err := m.Put(ctx, "key", benchValue, 0)
		check(b, err)
		for b.Loop() {
			_, err := m.Get(ctx, "key")
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		m, err := atomix.GetMap[string, []byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		_, err = m.Put(ctx, "key", benchValue)
		check(b, err)
		for b.Loop() {
			_, err := m.Get(ctx, "key")
			check(b, err)
		}
	})
}

func BenchmarkMapPutWatched(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		m, _ := d.OpenMap(ctx, benchID)
		ch := make(chan driver.EntryEvent, 1024)
		check(b, m.Watch(ctx, ch))
		go func() {
			for range ch {
			}
		}()
		for b.Loop() {
			_, err := m.Put(ctx, "key", benchValue, 0)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		m, err := atomix.GetMap[string, []byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		ch := make(chan mapEvent, 1024)
		check(b, m.Watch(ctx, ch))
		go func() {
			for range ch {
			}
		}()
		for b.Loop() {
			_, err := m.Put(ctx, "key", benchValue)
			check(b, err)
		}
	})
}

func BenchmarkMapEntries100(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		m, _ := d.OpenMap(ctx, benchID)
		for i := range 100 {
			_, err := m.Put(ctx, strconv.Itoa(i), benchValue, 0)
			check(b, err)
		}
		for b.Loop() {
			for _, err := range m.Entries(ctx) {
				check(b, err)
			}
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		m, err := atomix.GetMap[string, []byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		for i := range 100 {
			_, err := m.Put(ctx, strconv.Itoa(i), benchValue)
			check(b, err)
		}
		for b.Loop() {
			for _, err := range m.Entries(ctx) {
				check(b, err)
			}
		}
	})
}

func BenchmarkSetAddRemove(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		s, _ := d.OpenSet(ctx, benchID)
		for b.Loop() {
			_, err := s.Add(ctx, "element")
			check(b, err)
			_, err = s.Remove(ctx, "element")
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		s, err := atomix.GetSet[string](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		for b.Loop() {
			_, err := s.Add(ctx, "element")
			check(b, err)
			_, err = s.Remove(ctx, "element")
			check(b, err)
		}
	})
}

func BenchmarkSetContains(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		s, _ := d.OpenSet(ctx, benchID)
		_, err := s.Add(ctx, "element")
		check(b, err)
		for b.Loop() {
			_, err := s.Contains(ctx, "element")
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		s, err := atomix.GetSet[string](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		_, err = s.Add(ctx, "element")
		check(b, err)
		for b.Loop() {
			_, err := s.Contains(ctx, "element")
			check(b, err)
		}
	})
}

func BenchmarkValueSet(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		v, _ := d.OpenValue(ctx, benchID)
		for b.Loop() {
			_, err := v.Set(ctx, benchValue, 0)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		v, err := atomix.GetValue[[]byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		for b.Loop() {
			_, err := v.Set(ctx, benchValue)
			check(b, err)
		}
	})
}

func BenchmarkValueGet(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		v, _ := d.OpenValue(ctx, benchID)
		_, err := v.Set(ctx, benchValue, 0)
		check(b, err)
		for b.Loop() {
			_, _, err := v.Get(ctx)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		v, err := atomix.GetValue[[]byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		_, err = v.Set(ctx, benchValue)
		check(b, err)
		for b.Loop() {
			_, _, err := v.Get(ctx)
			check(b, err)
		}
	})
}

func BenchmarkListAppendRemove(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		l, _ := d.OpenList(ctx, benchID)
		for b.Loop() {
			i, err := l.Append(ctx, benchValue)
			check(b, err)
			_, err = l.Remove(ctx, i)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		l, err := atomix.GetList[[]byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		for b.Loop() {
			i, err := l.Append(ctx, benchValue)
			check(b, err)
			_, err = l.Remove(ctx, i)
			check(b, err)
		}
	})
}

func BenchmarkListGet(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		l, _ := d.OpenList(ctx, benchID)
		_, err := l.Append(ctx, benchValue)
		check(b, err)
		for b.Loop() {
			_, err := l.Get(ctx, 0)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		l, err := atomix.GetList[[]byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		_, err = l.Append(ctx, benchValue)
		check(b, err)
		for b.Loop() {
			_, err := l.Get(ctx, 0)
			check(b, err)
		}
	})
}

func BenchmarkIndexedMapAppendRemove(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		m, _ := d.OpenIndexedMap(ctx, benchID)
		for b.Loop() {
			_, err := m.Append(ctx, "key", benchValue)
			check(b, err)
			_, err = m.Remove(ctx, "key", 0)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		m, err := atomix.GetIndexedMap[string, []byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		for b.Loop() {
			_, err := m.Append(ctx, "key", benchValue)
			check(b, err)
			_, err = m.Remove(ctx, "key")
			check(b, err)
		}
	})
}

func BenchmarkIndexedMapGetIndex(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		m, _ := d.OpenIndexedMap(ctx, benchID)
		for i := range 1000 {
			_, err := m.Append(ctx, strconv.Itoa(i), benchValue)
			check(b, err)
		}
		for b.Loop() {
			_, err := m.GetIndex(ctx, 500)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		m, err := atomix.GetIndexedMap[string, []byte](ctx, "p", atomix.WithClient(cl))
		check(b, err)
		for i := range 1000 {
			_, err := m.Append(ctx, strconv.Itoa(i), benchValue)
			check(b, err)
		}
		for b.Loop() {
			_, err := m.GetIndex(ctx, 500)
			check(b, err)
		}
	})
}

type mapEvent = _map.Event[string, []byte]

func BenchmarkSemaphoreAcquireRelease(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, d *memory.Driver) {
		s, err := d.OpenSemaphore(ctx, benchID, 4)
		check(b, err)
		ss, err := d.NewSession(ctx, driver.SessionOptions{})
		check(b, err)
		for b.Loop() {
			h, err := s.Acquire(ctx, ss, "bench", 1)
			check(b, err)
			_, err = s.Release(ctx, "bench", h.Version)
			check(b, err)
		}
	}, func(b *testing.B, ctx context.Context, cl *atomix.Client) {
		s, err := cl.GetSemaphore(ctx, "p", semaphore.WithLimit(4))
		check(b, err)
		for b.Loop() {
			_, err := s.Acquire(ctx)
			check(b, err)
			_, err = s.Release(ctx)
			check(b, err)
		}
	})
}

// BenchmarkMapPutFenced compares Map.Put fenced by a held lock with a plain
// Map.Put: the fence is checked under the lock's mutex, in the same call.
func BenchmarkMapPutFenced(b *testing.B) {
	ctx := context.Background()
	c := benchClient(b)
	m, err := atomix.GetMap[string, []byte](ctx, "p", atomix.WithClient(c))
	check(b, err)
	l, err := c.GetLock(ctx, "fence")
	check(b, err)
	version, err := l.Lock(ctx)
	check(b, err)
	b.Run("fenced", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := m.Put(ctx, "key", benchValue, _map.Fenced(l, version))
			check(b, err)
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := m.Put(ctx, "key", benchValue)
			check(b, err)
		}
	})
}

// The scale benchmarks (package scalebench), the reference for the other
// drivers': cost against N items and K lock contenders.
//
//	go test -run '^$' -bench 'Scale' ./drivers/memory/

func BenchmarkScaleLockContention(b *testing.B) { scalebench.LockContention(b, benchClient(b)) }
func BenchmarkScaleList(b *testing.B)           { scalebench.ListOps(b, benchClient(b)) }
func BenchmarkScaleMap(b *testing.B)            { scalebench.MapOps(b, benchClient(b)) }
func BenchmarkScaleIndexedMap(b *testing.B)     { scalebench.IndexedMapOps(b, benchClient(b)) }
