package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/lock"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/conformance/scalebench"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/drivers/redis"
)

// Every benchmark has a "raw" variant, go-redis doing the same work with
// the plain commands, and an "atomix" variant through the public API over
// this driver, on the same server in the same run. The ratio of the two is
// the cost of atomix over Redis: scripts instead of commands, versions,
// change messages, the portable layer. The single-operation benchmarks
// also run both in alternating batches ("interleaved"), which reports that
// ratio as atomix/raw, robust to the load of a shared machine.
//
//	go test -run '^$' -bench . -benchtime 2000x -count 10 ./drivers/redis/

func benchOptions(b *testing.B) *goredis.UniversalOptions {
	return &goredis.UniversalOptions{Addrs: []string{testbackend.Redis(b)}, ContextTimeoutEnabled: true}
}

// rawClient returns a plain go-redis client with the driver's options.
func rawClient(b *testing.B) goredis.UniversalClient {
	b.Helper()
	c := goredis.NewUniversalClient(benchOptions(b))
	b.Cleanup(func() { c.Close() })
	return c
}

// benchClient returns an atomix client over a new Redis driver, in the
// benchmark's namespace (b.Name(), unique per run of the process).
func benchClient(b *testing.B) *atomix.Client {
	b.Helper()
	d, err := redis.New(benchOptions(b), redis.Options{})
	check(b, err)
	c := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace(benchNamespace+"/"+b.Name()))
	b.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// benchNamespace keeps the runs of one process apart from earlier ones.
var benchNamespace = "bench-" + time.Now().Format("20060102T150405.000000")

func check(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// op is one operation of a benchmark variant.
type op func(ctx context.Context) error

// run runs the raw and atomix variants of one benchmark, each on its own
// ("raw", "atomix"), and both in alternating batches ("interleaved", see
// interleaved). raw and onAtomix prepare a variant and return its
// operation. The first two also report, from INFO commandstats, the
// server's time and the calls per operation of every command (see
// reportServerTime).
func run(b *testing.B, raw func(*testing.B, context.Context, goredis.UniversalClient) op, onAtomix func(*testing.B, context.Context, *atomix.Client) op) {
	loop := func(b *testing.B, ctx context.Context, f op) {
		for b.Loop() {
			check(b, f(ctx))
		}
	}
	runEach(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) {
		loop(b, ctx, raw(b, ctx, c))
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) {
		loop(b, ctx, onAtomix(b, ctx, c))
	})
	b.Run("interleaved", func(b *testing.B) {
		ctx := context.Background()
		interleaved(b, raw(b, ctx, rawClient(b)), onAtomix(b, ctx, benchClient(b)))
	})
}

// runEach runs the raw and atomix variants of one benchmark, each running
// its own loop.
func runEach(b *testing.B, raw func(*testing.B, context.Context, goredis.UniversalClient), onAtomix func(*testing.B, context.Context, *atomix.Client)) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		c := rawClient(b)
		b.ReportAllocs()
		check(b, c.ConfigResetStat(ctx).Err())
		raw(b, ctx, c)
		reportServerTime(b, ctx, c)
	})
	b.Run("atomix", func(b *testing.B) {
		c := benchClient(b)
		b.ReportAllocs()
		stats := rawClient(b)
		check(b, stats.ConfigResetStat(ctx).Err())
		onAtomix(b, ctx, c)
		reportServerTime(b, ctx, stats)
	})
}

// interleaveBatch is how many operations of one variant interleaved runs
// before switching to the other.
const interleaveBatch = 50

// interleaved runs b.N operations of raw and b.N of onAtomix in
// alternating batches (raw first in one round, atomix first in the next),
// so that both see the same load of a shared machine, and reports their
// latencies (raw-ns/op, atomix-ns/op) and the ratio atomix/raw, which is
// what this benchmark is for: on a noisy machine the ratio of two
// sequential runs says little.
func interleaved(b *testing.B, raw, onAtomix op) {
	ctx := context.Background()
	b.ReportAllocs()
	spent := scalebench.TimeByTurns(b, interleaveBatch,
		func() error { return raw(ctx) }, func() error { return onAtomix(ctx) })
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(b.N), "atomix-ns/op")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "atomix/raw")
}

// reportServerTime reports, for every command in INFO commandstats but
// INFO and CONFIG themselves, its server time (usec) and its calls per
// operation, as <command>-us/op and <command>-calls/op. The time of a
// script (evalsha) includes that of the commands it calls, which are
// counted under their own names too.
func reportServerTime(b *testing.B, ctx context.Context, c goredis.UniversalClient) {
	stats, err := redis.CommandStats(ctx, c)
	check(b, err)
	for name, fields := range stats {
		if name == "info" || strings.HasPrefix(name, "config") {
			continue
		}
		b.ReportMetric(fields["usec"]/float64(b.N), name+"-us/op")
		b.ReportMetric(fields["calls"]/float64(b.N), name+"-calls/op")
	}
}

const benchValue = "0123456789abcdef"

func BenchmarkMapPut(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) op {
		return func(ctx context.Context) error {
			return c.HSet(ctx, "raw:bench:map", "k", benchValue).Err()
		}
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) op {
		m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
		check(b, err)
		return func(ctx context.Context) error {
			_, err := m.Put(ctx, "k", benchValue)
			return err
		}
	})
}

func BenchmarkMapGet(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) op {
		check(b, c.HSet(ctx, "raw:bench:map", "k", benchValue).Err())
		return func(ctx context.Context) error {
			return c.HGet(ctx, "raw:bench:map", "k").Err()
		}
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) op {
		m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
		check(b, err)
		_, err = m.Put(ctx, "k", benchValue)
		check(b, err)
		return func(ctx context.Context) error {
			_, err := m.Get(ctx, "k")
			return err
		}
	})
}

func BenchmarkCounterIncrement(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) op {
		return func(ctx context.Context) error {
			return c.IncrBy(ctx, "raw:bench:counter", 1).Err()
		}
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) op {
		ctr, err := c.GetCounter(ctx, "c")
		check(b, err)
		return func(ctx context.Context) error {
			_, err := ctr.Increment(ctx, 1)
			return err
		}
	})
}

func BenchmarkValueSet(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) op {
		return func(ctx context.Context) error {
			return c.Set(ctx, "raw:bench:value", benchValue, 0).Err()
		}
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) op {
		v, err := atomix.GetValue[string](ctx, "v", atomix.WithClient(c))
		check(b, err)
		return func(ctx context.Context) error {
			_, err := v.Set(ctx, benchValue)
			return err
		}
	})
}

// rawUnlock is the usual compare-and-delete release of a SET NX PX lock,
// which also wakes the waiters.
var rawUnlock = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[1], 'released')
  return 1
end
return 0`)

const rawLockKey = "raw:bench:lock"

// rawLock takes the raw lock for token, waiting for a release message or
// the key's expiry when it is held.
func rawLock(ctx context.Context, c goredis.UniversalClient, released <-chan *goredis.Message, token string) error {
	for {
		ok, err := c.SetNX(ctx, rawLockKey, token, 10*time.Second).Result()
		if err != nil || ok {
			return err
		}
		ttl, err := c.PTTL(ctx, rawLockKey).Result()
		if err != nil {
			return err
		}
		if ttl < 0 {
			ttl = 10 * time.Second
		}
		select {
		case <-released:
		case <-time.After(ttl):
		}
	}
}

func BenchmarkLockUnlock(b *testing.B) {
	run(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) op {
		return func(ctx context.Context) error {
			if err := c.SetNX(ctx, rawLockKey, "me", 10*time.Second).Err(); err != nil {
				return err
			}
			return rawUnlock.Run(ctx, c, []string{rawLockKey}, "me").Err()
		}
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) op {
		l, err := c.GetLock(ctx, "l")
		check(b, err)
		return func(ctx context.Context) error {
			if _, err := l.Lock(ctx); err != nil {
				return err
			}
			_, err := l.Unlock(ctx)
			return err
		}
	})
}

// BenchmarkLockHandoff measures how long a waiter blocked in Lock takes to
// get the lock once the holder releases it: from the start of Unlock to
// the waiter's Lock returning, reported as handoff-ns. Two clients take
// turns as holder and waiter.
func BenchmarkLockHandoff(b *testing.B) {
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		c1, c2 := rawClient(b), rawClient(b)
		subscribe := func(c goredis.UniversalClient) <-chan *goredis.Message {
			ps := c.Subscribe(ctx, rawLockKey)
			_, err := ps.Receive(ctx) // the confirmation
			check(b, err)
			b.Cleanup(func() { ps.Close() })
			return ps.Channel()
		}
		type side struct {
			c     goredis.UniversalClient
			msgs  <-chan *goredis.Message
			token string
		}
		sides := [2]side{{c1, subscribe(c1), "one"}, {c2, subscribe(c2), "two"}}
		check(b, rawLock(ctx, c1, sides[0].msgs, "one"))
		handoff(b, func(i int) error { // lock by the waiter
			s := sides[(i+1)%2]
			return rawLock(ctx, s.c, s.msgs, s.token)
		}, func(i int) error { // unlock by the holder
			s := sides[i%2]
			return rawUnlock.Run(ctx, s.c, []string{rawLockKey}, s.token).Err()
		})
		check(b, rawUnlock.Run(ctx, c1, []string{rawLockKey}, sides[b.N%2].token).Err())
	})
	b.Run("atomix", func(b *testing.B) {
		c1, c2 := benchClient(b), benchClient(b)
		l1, err := c1.GetLock(ctx, "handoff")
		check(b, err)
		l2, err := c2.GetLock(ctx, "handoff")
		check(b, err)
		locks := [2]lock.Lock{l1, l2}
		_, err = l1.Lock(ctx)
		check(b, err)
		handoff(b, func(i int) error {
			_, err := locks[(i+1)%2].Lock(ctx)
			return err
		}, func(i int) error {
			_, err := locks[i%2].Unlock(ctx)
			return err
		})
	})
}

// handoff runs b.N handoffs: in round i the holder is side i%2, the
// waiter side (i+1)%2.
func handoff(b *testing.B, lockWaiter, unlockHolder func(i int) error) {
	b.ReportAllocs()
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		acquired := make(chan time.Time, 1)
		errc := make(chan error, 1)
		go func() {
			if err := lockWaiter(i); err != nil {
				errc <- err
				return
			}
			acquired <- time.Now()
		}()
		time.Sleep(2 * time.Millisecond) // let the waiter try and block
		start := time.Now()
		check(b, unlockHolder(i))
		select {
		case t := <-acquired:
			total += t.Sub(start)
		case err := <-errc:
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "handoff-ns")
}

// BenchmarkMapPutFenced compares Map.Put fenced by a held lock with a plain
// Map.Put and a raw HSET: the fence is read by the write's own script, no
// extra round trip.
func BenchmarkMapPutFenced(b *testing.B) {
	ctx := context.Background()
	c := benchClient(b)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	check(b, err)
	l, err := c.GetLock(ctx, "fence")
	check(b, err)
	version, err := l.Lock(ctx)
	check(b, err)
	b.Run("fenced", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := m.Put(ctx, "k", benchValue, _map.Fenced(l, version))
			check(b, err)
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := m.Put(ctx, "k", benchValue)
			check(b, err)
		}
	})
	b.Run("raw", func(b *testing.B) {
		raw := rawClient(b)
		b.ReportAllocs()
		for b.Loop() {
			check(b, raw.HSet(ctx, "raw:bench:map", "k", benchValue).Err())
		}
	})
}

// The scale benchmarks (package scalebench): cost against N items, K lock
// contenders and 64 concurrent goroutines.
//
//	go test -run '^$' -bench 'Scale' ./drivers/redis/

func BenchmarkScaleLockContention(b *testing.B) { scalebench.LockContention(b, benchClient(b)) }
func BenchmarkScaleList(b *testing.B)           { scalebench.ListOps(b, benchClient(b)) }
func BenchmarkScaleMap(b *testing.B)            { scalebench.MapOps(b, benchClient(b)) }
func BenchmarkScaleIndexedMap(b *testing.B)     { scalebench.IndexedMapOps(b, benchClient(b)) }

// BenchmarkScaleThroughput64: Map.Put from 64 goroutines, atomix against
// HSET, each on its own and in alternating batches ("interleaved", which
// reports raw-ops/s, atomix-ops/s and atomix/raw).
func BenchmarkScaleThroughput64(b *testing.B) {
	rawPut := func(c goredis.UniversalClient) func(context.Context, int) error {
		return func(ctx context.Context, i int) error {
			return c.HSet(ctx, "raw:bench:throughput", "key-"+strconv.Itoa(i%1024), benchValue).Err()
		}
	}
	atomixPut := func(b *testing.B, ctx context.Context, c *atomix.Client) func(context.Context, int) error {
		m, err := atomix.GetMap[string, string](ctx, "throughput", atomix.WithClient(c))
		check(b, err)
		return func(ctx context.Context, i int) error {
			_, err := m.Put(ctx, "key-"+strconv.Itoa(i%1024), benchValue)
			return err
		}
	}
	runEach(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) {
		scalebench.Throughput(b, rawPut(c))
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) {
		scalebench.Throughput(b, atomixPut(b, ctx, c))
	})
	b.Run("interleaved", func(b *testing.B) {
		scalebench.ThroughputVersus(b, rawPut(rawClient(b)), atomixPut(b, context.Background(), benchClient(b)))
	})
}

// BenchmarkThroughputByCallers: Map.Put against HSET in alternating
// batches (see scalebench.ThroughputVersusFrom) from 1, 2, 4, 8, 16 and 64
// goroutines on one map instance: how the writes' group commit (batch.go)
// follows the number of callers, from a few that each send their own write
// to many that share script runs.
//
//	go test -run '^$' -bench ThroughputByCallers -benchtime 6000x -count 3 ./drivers/redis/
func BenchmarkThroughputByCallers(b *testing.B) {
	for _, g := range []int{1, 2, 4, 8, 16, 64} {
		b.Run("g"+strconv.Itoa(g), func(b *testing.B) {
			c := rawClient(b)
			m, err := atomix.GetMap[string, string](context.Background(), "callers", atomix.WithClient(benchClient(b)))
			check(b, err)
			scalebench.ThroughputVersusFrom(b, g, func(ctx context.Context, i int) error {
				return c.HSet(ctx, "raw:bench:callers", "key-"+strconv.Itoa(i%1024), benchValue).Err()
			}, func(ctx context.Context, i int) error {
				_, err := m.Put(ctx, "key-"+strconv.Itoa(i%1024), benchValue)
				return err
			})
		})
	}
}

// BenchmarkScriptFloor measures what any script costs before it does
// anything of its own: HSET against a script that runs that HSET and
// nothing else, one at a time ("one", reporting raw-ns/op, atomix-ns/op
// with "atomix" the script, and their ratio) and from 64 goroutines
// ("throughput64", ratio of operations per second). No write of a map can
// cost less than that floor while it needs a script (to learn and store a
// version, publish a change message that carries it, and branch on a
// condition, in one step); the targets of atomix/raw are to be read
// against it. "server" splits a Map.Put's server time into that floor,
// its commands and its own Lua.
//
//	go test -run '^$' -bench 'ScriptFloor/(one|throughput64)' -benchtime 20000x -count 3 ./drivers/redis/
//	go test -run '^$' -bench 'ScriptFloor/server' -benchtime 20x -count 3 ./drivers/redis/
func BenchmarkScriptFloor(b *testing.B) {
	ctx := context.Background()
	c := rawClient(b)
	hset := goredis.NewScript("return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])")
	check(b, hset.Load(ctx, c).Err())
	plain := func(ctx context.Context, i int) error {
		return c.HSet(ctx, "raw:bench:floor", "key-"+strconv.Itoa(i%1024), benchValue).Err()
	}
	scripted := func(ctx context.Context, i int) error {
		return hset.EvalSha(ctx, c, []string{"raw:bench:floor"}, "key-"+strconv.Itoa(i%1024), benchValue).Err()
	}
	b.Run("one", func(b *testing.B) {
		i := 0
		interleaved(b, func(ctx context.Context) error { i++; return plain(ctx, i) },
			func(ctx context.Context) error { i++; return scripted(ctx, i) })
	})
	b.Run("throughput64", func(b *testing.B) {
		scalebench.ThroughputVersus(b, plain, scripted)
	})
	// Where a Map.Put's server time goes, from INFO commandstats
	// (usec_per_call), each phase 1000 calls of its own in every
	// iteration, averaged over the iterations: HSET
	// (hset-us), the one-command script (floor-us), a script that runs the
	// six commands of a plain Put's script and nothing else (commands-us),
	// and Map.Put itself (put-us). floor-us minus hset-us is what running
	// any script costs, commands-us minus floor-us what the five commands
	// beyond HSET cost, and put-us minus commands-us the script's own Lua
	// (packing the version, building the message, branching).
	b.Run("server", func(b *testing.B) {
		commands := goredis.NewScript(`redis.call('HGET', KEYS[3], ARGV[1])
redis.call('HEXISTS', KEYS[1], ARGV[1])
redis.call('GET', KEYS[2])
redis.call('PUBLISH', KEYS[4], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
return {1, 1}`)
		check(b, commands.Load(ctx, c).Err())
		m, err := atomix.GetMap[string, string](ctx, "floor", atomix.WithClient(benchClient(b)))
		check(b, err)
		keys := []string{"raw:bench:floor", "raw:bench:floor:ver", "raw:bench:floor:eph", "raw:bench:floor:chan"}
		phases := []struct {
			metric, command string
			call            func(i int) error
		}{
			{"hset-us", "hset", func(i int) error { return plain(ctx, i) }},
			{"floor-us", "evalsha", func(i int) error { return scripted(ctx, i) }},
			{"commands-us", "evalsha", func(i int) error {
				return commands.EvalSha(ctx, c, keys, "key-"+strconv.Itoa(i%1024), benchValue).Err()
			}},
			{"put-us", "evalsha", func(i int) error {
				_, err := m.Put(ctx, "key-"+strconv.Itoa(i%1024), benchValue)
				return err
			}},
		}
		sums := make([]float64, len(phases))
		n := 0
		for b.Loop() {
			for k, p := range phases {
				check(b, c.ConfigResetStat(ctx).Err())
				for i := range 1000 {
					check(b, p.call(i))
				}
				sums[k] += usecPerCall(b, ctx, c, p.command)
			}
			n++
		}
		for k, p := range phases {
			b.ReportMetric(sums[k]/float64(n), p.metric)
		}
	})
}

// usecPerCall returns the server's mean time per call of command since the
// last CONFIG RESETSTAT, from INFO commandstats.
func usecPerCall(b *testing.B, ctx context.Context, c goredis.UniversalClient, command string) float64 {
	stats, err := redis.CommandStats(ctx, c)
	check(b, err)
	us, ok := stats[command]["usec_per_call"]
	if !ok {
		b.Fatalf("INFO commandstats has no %s", command)
	}
	return us
}
