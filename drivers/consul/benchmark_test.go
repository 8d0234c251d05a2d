package consul

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/conformance/scalebench"
	"github.com/atomix/go-client/conformance/testbackend"
)

// The benchmarks compare atomix over Consul (the public API, through this
// driver) with the Consul API client doing the same work, on the same agent
// and in the same loop: each iteration runs the atomix operation and the
// raw one back to back (in alternating order), so that both see the same
// load on a shared machine. They report the median and mean latency of
// each and the ratio of the medians (ns/op is the sum of both):
//
//	go test -run '^$' -bench . -benchtime 2s ./drivers/consul/

// benchClients returns an atomix client over a driver of its own, and a
// raw Consul API client to the same agent.
func benchClients(b *testing.B, prefix string) (*atomix.Client, *api.Client) {
	b.Helper()
	d := testDriverAt(b, testbackend.Consul(b), prefix)
	c := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace("bench"), atomix.WithSessionTTL(10*time.Second))
	b.Cleanup(func() { c.Close(context.Background()) })
	raw, err := api.NewClient(&api.Config{Address: testbackend.Consul(b)})
	if err != nil {
		b.Fatal(err)
	}
	return c, raw
}

// latencies collects the durations of one side of a comparison.
type latencies []time.Duration

func (l latencies) median() time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[len(s)/2]
}

func (l latencies) mean() time.Duration {
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return sum / time.Duration(len(l))
}

func report(b *testing.B, atomixSide, rawSide latencies) {
	b.ReportMetric(float64(atomixSide.median().Microseconds()), "atomix-µs/median")
	b.ReportMetric(float64(rawSide.median().Microseconds()), "raw-µs/median")
	b.ReportMetric(float64(atomixSide.mean().Microseconds()), "atomix-µs/mean")
	b.ReportMetric(float64(rawSide.mean().Microseconds()), "raw-µs/mean")
	b.ReportMetric(float64(atomixSide.median())/float64(rawSide.median()), "atomix/raw")
}

// compare runs atomixOp and rawOp alternately, timing each.
func compare(b *testing.B, atomixOp, rawOp func() error) {
	var a, r latencies
	timed := func(op func() error, into *latencies) {
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		*into = append(*into, time.Since(start))
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(atomixOp, &a)
			timed(rawOp, &r)
		} else {
			timed(rawOp, &r)
			timed(atomixOp, &a)
		}
	}
	report(b, a, r)
}

// BenchmarkMapPut compares Map.Put with a plain KV PUT, which does not
// return the new version (the ModifyIndex), and with the one-operation
// transaction that does, as Map.Put itself sends.
func BenchmarkMapPut(b *testing.B) {
	ctx := context.Background()
	c, raw := benchClients(b, testPrefix(b))
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	// Every write stores a new value: Consul skips a write that would not
	// change the key (and keeps its ModifyIndex), which is cheaper.
	i := 0
	next := func() string { i++; return "value" + strconv.Itoa(i) }
	put := func() error {
		_, err := m.Put(ctx, "key", next())
		return err
	}
	kv, key := raw.KV(), testPrefix(b)+"/key"
	b.Run("vs-kv-put", func(b *testing.B) {
		compare(b, put, func() error {
			_, err := kv.Put(&api.KVPair{Key: key, Value: []byte(next())}, nil)
			return err
		})
	})
	b.Run("vs-kv-txn", func(b *testing.B) {
		compare(b, put, func() error {
			ops := api.KVTxnOps{{Verb: api.KVSet, Key: key, Value: []byte(next())}}
			ok, _, _, err := kv.Txn(ops, nil)
			if err == nil && !ok {
				err = fmt.Errorf("rolled back")
			}
			return err
		})
	})
}

func BenchmarkMapGet(b *testing.B) {
	ctx := context.Background()
	c, raw := benchClients(b, testPrefix(b))
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Put(ctx, "key", "value"); err != nil {
		b.Fatal(err)
	}
	kv, key := raw.KV(), testPrefix(b)+"/key"
	if _, err := kv.Put(&api.KVPair{Key: key, Value: []byte("value")}, nil); err != nil {
		b.Fatal(err)
	}
	compare(b, func() error {
		_, err := m.Get(ctx, "key")
		return err
	}, func() error {
		pair, _, err := kv.Get(key, nil)
		if err == nil && pair == nil {
			err = fmt.Errorf("not found")
		}
		return err
	})
}

// BenchmarkCounterIncrement compares Counter.Increment with what a Consul
// user writes without it: read, then check-and-set from the index read.
func BenchmarkCounterIncrement(b *testing.B) {
	ctx := context.Background()
	c, raw := benchClients(b, testPrefix(b))
	counter, err := c.GetCounter(ctx, "c")
	if err != nil {
		b.Fatal(err)
	}
	kv, key := raw.KV(), testPrefix(b)+"/counter"
	compare(b, func() error {
		_, err := counter.Increment(ctx, 1)
		return err
	}, func() error {
		pair, _, err := kv.Get(key, nil)
		if err != nil {
			return err
		}
		var v int64
		var index uint64
		if pair != nil {
			v, _ = strconv.ParseInt(string(pair.Value), 10, 64)
			index = pair.ModifyIndex
		}
		ok, _, err := kv.CAS(&api.KVPair{Key: key, Value: strconv.AppendInt(nil, v+1, 10), ModifyIndex: index}, nil)
		if err == nil && !ok {
			err = fmt.Errorf("lost a race nobody runs")
		}
		return err
	})
}

// BenchmarkValueSetIfVersion compares Value.Set with IfVersion with one
// check-and-set request. The raw PUT ?cas= answers only true or false, not
// the new index, so it cannot chain on one key: each raw call creates a new
// key with cas=0 (a real check, one request).
func BenchmarkValueSetIfVersion(b *testing.B) {
	ctx := context.Background()
	c, raw := benchClients(b, testPrefix(b))
	v, err := atomix.GetValue[string](ctx, "v", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	version, err := v.Set(ctx, "value")
	if err != nil {
		b.Fatal(err)
	}
	kv, prefix, i := raw.KV(), testPrefix(b), 0
	compare(b, func() error {
		version, err = v.Set(ctx, "value", value.IfVersion(version))
		return err
	}, func() error {
		i++
		ok, _, err := kv.CAS(&api.KVPair{Key: prefix + "/" + strconv.Itoa(i), Value: []byte("value")}, nil)
		if err == nil && !ok {
			err = fmt.Errorf("key exists")
		}
		return err
	})
}

// BenchmarkLockUnlock compares Lock+Unlock with api.Lock's Lock+Unlock, as
// documented (a session per acquisition) and over one session made
// beforehand (as atomix holds one per client).
func BenchmarkLockUnlock(b *testing.B) {
	ctx := context.Background()
	c, raw := benchClients(b, testPrefix(b))
	l, err := c.GetLock(ctx, "l")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.Lock(ctx); err != nil { // opens the client's session
		b.Fatal(err)
	}
	l.Unlock(ctx)
	atomixOp := func() error {
		if _, err := l.Lock(ctx); err != nil {
			return err
		}
		ok, err := l.Unlock(ctx)
		if err == nil && !ok {
			err = fmt.Errorf("not held")
		}
		return err
	}
	rawOp := func(rl *api.Lock) func() error {
		return func() error {
			if ch, err := rl.Lock(nil); err != nil || ch == nil {
				return fmt.Errorf("not acquired: %v", err)
			}
			return rl.Unlock()
		}
	}
	b.Run("vs-api.Lock", func(b *testing.B) {
		rl, err := raw.LockKey(testPrefix(b) + "/lock")
		if err != nil {
			b.Fatal(err)
		}
		compare(b, atomixOp, rawOp(rl))
	})
	b.Run("vs-api.Lock-one-session", func(b *testing.B) {
		sid, _, err := raw.Session().Create(&api.SessionEntry{TTL: "15s", Behavior: api.SessionBehaviorDelete}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer raw.Session().Destroy(sid, nil)
		rl, err := raw.LockOpts(&api.LockOptions{Key: testPrefix(b) + "/lock", Session: sid})
		if err != nil {
			b.Fatal(err)
		}
		compare(b, atomixOp, rawOp(rl))
	})
}

// BenchmarkLockHandoff measures the time from the holder's Unlock call to
// the moment a waiter, already blocked in Lock on another client, holds the
// lock: an atomix pass and an api.Lock pass per iteration. The pause that
// lets each next waiter block (20ms) is not in the latencies.
func BenchmarkLockHandoff(b *testing.B) {
	ctx := context.Background()
	prefix := testPrefix(b)
	var atomixLocks [2]lock.Lock
	var rawLocks [2]*api.Lock
	rawKey := testPrefix(b) + "/handoff"
	for i := range 2 {
		c, raw := benchClients(b, prefix)
		l, err := c.GetLock(ctx, "handoff")
		if err != nil {
			b.Fatal(err)
		}
		atomixLocks[i] = l
		if rawLocks[i], err = raw.LockKey(rawKey); err != nil {
			b.Fatal(err)
		}
	}
	atomixPass := newHandoff(b, func(i int) error {
		_, err := atomixLocks[i].Lock(ctx)
		return err
	}, func(i int) error {
		ok, err := atomixLocks[i].Unlock(ctx)
		if err == nil && !ok {
			err = fmt.Errorf("not held")
		}
		return err
	})
	rawPass := newHandoff(b, func(i int) error {
		ch, err := rawLocks[i].Lock(nil)
		if err == nil && ch == nil {
			err = fmt.Errorf("not acquired")
		}
		return err
	}, func(i int) error { return rawLocks[i].Unlock() })
	defer atomixPass.stop()
	defer rawPass.stop()
	var a, r latencies
	for b.Loop() {
		a = append(a, atomixPass.pass())
		r = append(r, rawPass.pass())
	}
	report(b, a, r)
}

// handoff passes a lock back and forth between owners 0 and 1.
type handoff struct {
	b                *testing.B
	lockIt, unlockIt func(int) error
	holder           int
	acquired         chan error
}

func newHandoff(b *testing.B, lockIt, unlockIt func(int) error) *handoff {
	h := &handoff{b: b, lockIt: lockIt, unlockIt: unlockIt, acquired: make(chan error, 1)}
	if err := lockIt(0); err != nil {
		b.Fatal(err)
	}
	h.wait(1)
	return h
}

// wait starts owner i's Lock call and gives it time to block.
func (h *handoff) wait(i int) {
	go func() { h.acquired <- h.lockIt(i) }()
	time.Sleep(20 * time.Millisecond)
}

// pass unlocks the holder and returns how long until the waiter held the
// lock; then it makes the old holder wait.
func (h *handoff) pass() time.Duration {
	start := time.Now()
	if err := h.unlockIt(h.holder); err != nil {
		h.b.Fatal(err)
	}
	if err := <-h.acquired; err != nil {
		h.b.Fatal(err)
	}
	took := time.Since(start)
	h.wait(h.holder)
	h.holder = 1 - h.holder
	return took
}

func (h *handoff) stop() {
	h.unlockIt(h.holder)
	<-h.acquired
	h.unlockIt(1 - h.holder)
}

// BenchmarkMapPutFenced compares Map.Put fenced by a held lock with a plain
// Map.Put, alternating them: the fence is a check-index operation in the
// write's own transaction, no extra round trip.
func BenchmarkMapPutFenced(b *testing.B) {
	ctx := context.Background()
	c, _ := benchClients(b, testPrefix(b))
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
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
	// "atomix" is the fenced Put, "raw" the plain one.
	compare(b, func() error {
		_, err := m.Put(ctx, "key", "value", _map.Fenced(l, version))
		return err
	}, func() error {
		_, err := m.Put(ctx, "key", "value")
		return err
	})
}

// BenchmarkScaleThroughput64: Map.Put from 64 goroutines (scalebench), in
// alternating batches with the raw client doing the same work: a
// one-operation transaction ("vs-kv-txn", which returns the new
// ModifyIndex, as Map.Put must), a plain KV PUT ("vs-kv-put", which does
// not), and the very transaction Map.Put sends ("vs-same-txn": the set and
// a check that no session holds the key; see storePlain), which shows what
// atomix itself adds. Each reports raw-ops/s,
// atomix-ops/s and atomix/raw. The raw client gets a transport that keeps
// as many idle connections as the driver's does, so that neither side pays
// for new connections.
//
//	go test -run '^$' -bench 'ScaleThroughput64' -benchtime 5000x ./drivers/consul/
func BenchmarkScaleThroughput64(b *testing.B) {
	ctx := context.Background()
	c, _ := benchClients(b, testPrefix(b))
	transport := newTransport()
	b.Cleanup(transport.CloseIdleConnections)
	raw, err := api.NewClient(&api.Config{Address: testbackend.Consul(b), Transport: transport, HttpClient: &http.Client{Transport: transport}})
	if err != nil {
		b.Fatal(err)
	}
	m, err := atomix.GetMap[string, string](ctx, "throughput", atomix.WithClient(c))
	if err != nil {
		b.Fatal(err)
	}
	// Every write stores a new value (see BenchmarkMapPut).
	value := func(i int) string { return "value" + strconv.Itoa(i) }
	key := func(i int) string { return "key-" + strconv.Itoa(i%1024) }
	put := func(ctx context.Context, i int) error {
		_, err := m.Put(ctx, key(i), value(i))
		return err
	}
	kv, prefix := raw.KV(), testPrefix(b)+"/"
	txn := func(check bool) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			ops := api.KVTxnOps{{Verb: api.KVSet, Key: prefix + key(i), Value: []byte(value(i))}}
			if check {
				ops = append(ops, &api.KVTxnOp{Verb: api.KVCheckSession, Key: prefix + key(i)})
			}
			ok, _, _, err := kv.Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
			if err == nil && !ok {
				err = fmt.Errorf("rolled back")
			}
			return err
		}
	}
	b.Run("vs-kv-txn", func(b *testing.B) { scalebench.ThroughputVersus(b, txn(false), put) })
	b.Run("vs-same-txn", func(b *testing.B) { scalebench.ThroughputVersus(b, txn(true), put) })
	b.Run("vs-kv-put", func(b *testing.B) {
		scalebench.ThroughputVersus(b, func(ctx context.Context, i int) error {
			_, err := kv.Put(&api.KVPair{Key: prefix + key(i), Value: []byte(value(i))}, (&api.WriteOptions{}).WithContext(ctx))
			return err
		}, put)
	})
}
