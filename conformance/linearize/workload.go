package linearize

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
)

// OpTimeout bounds each operation of a workload; one that takes longer is
// recorded as pending.
const OpTimeout = 5 * time.Second

// Workload tells the Run functions how much to do.
type Workload struct {
	// Ops is the total number of operations, shared out among the clients.
	Ops int
	// Keys is the number of distinct keys (Map) or elements (Set) used;
	// few keys make many conflicts. Default 3.
	Keys int
	// Seed makes the choice of operations repeatable.
	Seed uint64
	// Done, if set, is called after each operation (for a progress bar).
	Done func()
}

// run calls step ops times, shared among n clients running concurrently,
// stopping early when ctx ends.
func (w Workload) run(ctx context.Context, n int, step func(ctx context.Context, client int, rnd *rand.Rand)) {
	var wg sync.WaitGroup
	for c := range n {
		count := w.Ops / n
		if c < w.Ops%n {
			count++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(w.Seed, uint64(c)))
			for range count {
				if ctx.Err() != nil {
					return
				}
				opCtx, cancel := context.WithTimeout(ctx, OpTimeout)
				step(opCtx, c, rnd)
				cancel()
				if w.Done != nil {
					w.Done()
				}
			}
		}()
	}
	wg.Wait()
}

func (w Workload) key(rnd *rand.Rand) string {
	k := w.Keys
	if k <= 0 {
		k = 3
	}
	return "k" + strconv.Itoa(rnd.IntN(k))
}

// ends ends call with err: pending for a write of unknown outcome, dropped
// for a read of unknown outcome; known reports whether err stated the
// outcome (then the caller records the output).
func ends(call *Call, err error, read bool, unknown any) (known bool) {
	if !Unknown(err) {
		return true
	}
	if read {
		call.Drop()
	} else {
		call.Pending(unknown)
	}
	return false
}

// RunMap runs a workload of Get, Put, Insert and Remove over maps, one per
// independent client, all naming the same map (empty at the start), and
// returns the history for MapModel.
func RunMap(ctx context.Context, maps []_map.Map[string, string], w Workload) *Recorder {
	rec := NewRecorder()
	var seq sync.Mutex
	n := 0
	w.run(ctx, len(maps), func(ctx context.Context, c int, rnd *rand.Rand) {
		m, key := maps[c], w.key(rnd)
		seq.Lock()
		n++
		val := "v" + strconv.Itoa(n)
		seq.Unlock()
		switch p := rnd.IntN(10); {
		case p < 4:
			call := rec.Begin(c, MapInput{Op: Get, Key: key})
			e, err := m.Get(ctx, key)
			if ends(call, err, true, nil) {
				if err != nil && !errors.Is(err, atomix.ErrNotFound) {
					call.Drop()
				}
				call.Return(MapOutput{Value: e.Value, OK: err == nil})
			}
		case p < 7:
			call := rec.Begin(c, MapInput{Op: Put, Key: key, Value: val})
			_, err := m.Put(ctx, key, val)
			if ends(call, err, false, MapOutput{Unknown: true}) {
				if err != nil {
					call.Drop() // refused: nothing changed
				}
				call.Return(MapOutput{})
			}
		case p < 8:
			call := rec.Begin(c, MapInput{Op: Insert, Key: key, Value: val})
			_, err := m.Insert(ctx, key, val)
			if ends(call, err, false, MapOutput{Unknown: true}) {
				if err != nil && !errors.Is(err, atomix.ErrAlreadyExists) {
					call.Drop()
				}
				call.Return(MapOutput{OK: err == nil})
			}
		default:
			call := rec.Begin(c, MapInput{Op: Remove, Key: key})
			e, err := m.Remove(ctx, key)
			if ends(call, err, false, MapOutput{Unknown: true}) {
				if err != nil && !errors.Is(err, atomix.ErrNotFound) {
					call.Drop()
				}
				call.Return(MapOutput{Value: e.Value, OK: err == nil})
			}
		}
	})
	return rec
}

// RunValue runs a workload of Get, Set and Delete over values, one per
// independent client, all naming the same value (never set at the start),
// and returns the history for ValueModel.
func RunValue(ctx context.Context, values []value.Value[string], w Workload) *Recorder {
	rec := NewRecorder()
	var seq sync.Mutex
	n := 0
	w.run(ctx, len(values), func(ctx context.Context, c int, rnd *rand.Rand) {
		v := values[c]
		switch p := rnd.IntN(10); {
		case p < 5:
			call := rec.Begin(c, ValueInput{Op: Get})
			got, _, err := v.Get(ctx)
			if ends(call, err, true, nil) {
				if err != nil && !errors.Is(err, atomix.ErrNotFound) {
					call.Drop()
				}
				call.Return(ValueOutput{Value: got, OK: err == nil})
			}
		case p < 9:
			seq.Lock()
			n++
			val := "v" + strconv.Itoa(n)
			seq.Unlock()
			call := rec.Begin(c, ValueInput{Op: Set, Value: val})
			_, err := v.Set(ctx, val)
			if ends(call, err, false, ValueOutput{Unknown: true}) {
				if err != nil {
					call.Drop()
				}
				call.Return(ValueOutput{})
			}
		default:
			call := rec.Begin(c, ValueInput{Op: Delete})
			err := v.Delete(ctx)
			if ends(call, err, false, ValueOutput{Unknown: true}) {
				if err != nil && !errors.Is(err, atomix.ErrNotFound) {
					call.Drop()
				}
				call.Return(ValueOutput{OK: err == nil})
			}
		}
	})
	return rec
}

// RunCounter runs a workload of Get, Increment, Set and CompareAndSet over
// counters, one per independent client, all naming the same counter (0 at
// the start), and returns the history for CounterModel.
func RunCounter(ctx context.Context, counters []counter.Counter, w Workload) *Recorder {
	rec := NewRecorder()
	w.run(ctx, len(counters), func(ctx context.Context, c int, rnd *rand.Rand) {
		k := counters[c]
		switch p := rnd.IntN(10); {
		case p < 4:
			call := rec.Begin(c, CounterInput{Op: Get})
			got, err := k.Get(ctx)
			if ends(call, err, true, nil) {
				if err != nil {
					call.Drop()
				}
				call.Return(CounterOutput{Value: got})
			}
		case p < 8:
			delta := int64(1 + rnd.IntN(3))
			call := rec.Begin(c, CounterInput{Op: Add, Value: delta})
			got, err := k.Increment(ctx, delta)
			if ends(call, err, false, CounterOutput{Unknown: true}) {
				if err != nil {
					call.Drop()
				}
				call.Return(CounterOutput{Value: got})
			}
		case p < 9:
			v := int64(rnd.IntN(100))
			call := rec.Begin(c, CounterInput{Op: Set, Value: v})
			got, err := k.Set(ctx, v)
			if ends(call, err, false, CounterOutput{Unknown: true}) {
				if err != nil {
					call.Drop()
				}
				call.Return(CounterOutput{Value: got})
			}
		default:
			// Expect a recent value so that some swaps succeed.
			expect, err := k.Get(ctx)
			if err != nil {
				return
			}
			call := rec.Begin(c, CounterInput{Op: CAS, Expect: expect, Value: expect + 10})
			ok, err := k.CompareAndSet(ctx, expect, expect+10)
			if ends(call, err, false, CounterOutput{Unknown: true}) {
				if err != nil {
					call.Drop()
				}
				call.Return(CounterOutput{OK: ok})
			}
		}
	})
	return rec
}

// RunSet runs a workload of Add, Remove and Contains over sets, one per
// independent client, all naming the same set (empty at the start), and
// returns the history for SetModel.
func RunSet(ctx context.Context, sets []set.Set[string], w Workload) *Recorder {
	rec := NewRecorder()
	w.run(ctx, len(sets), func(ctx context.Context, c int, rnd *rand.Rand) {
		s, e := sets[c], w.key(rnd)
		var (
			in  = SetInput{Element: e}
			ok  bool
			err error
		)
		switch p := rnd.IntN(3); p {
		case 0:
			in.Op = Contains
		case 1:
			in.Op = Add
		default:
			in.Op = Remove
		}
		call := rec.Begin(c, in)
		switch in.Op {
		case Contains:
			ok, err = s.Contains(ctx, e)
		case Add:
			ok, err = s.Add(ctx, e)
		default:
			ok, err = s.Remove(ctx, e)
		}
		if ends(call, err, in.Op == Contains, SetOutput{Unknown: true}) {
			if err != nil {
				call.Drop()
			}
			call.Return(SetOutput{OK: ok})
		}
	})
	return rec
}
