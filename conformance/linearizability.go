package conformance

import (
	"math"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/counter"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/conformance/linearize"
)

// The size of the linearizability tier: linClients independent clients
// share linOps operations on each primitive, and the check of one history
// may take up to linCheckTimeout (a check that runs out of time proves
// nothing and is logged, not failed).
const (
	linClients      = 4
	linOps          = 200
	linCheckTimeout = 10 * time.Second
)

// testLinearizability records histories of Map, Counter, Value and Set
// operations from several independent clients and checks them with the
// porcupine models of package linearize. Operations of unknown outcome are
// pending in the history, so a backend is not failed for them.
func testLinearizability(t *testing.T, h Harness) {
	parallel(t, "Map", h, func(t *testing.T, e *env) {
		skipIfGap(t, h, FeatureMap)
		var maps []_map.Map[string, string]
		for range linClients {
			m, err := atomix.GetMap[string, string](e.ctx, "lin", atomix.WithClient(e.client()))
			require.NoError(t, err)
			maps = append(maps, m)
		}
		rec := linearize.RunMap(e.ctx, maps, linearize.Workload{Ops: linOps, Seed: 1})
		checkHistory(t, linearize.MapModel(), rec)
	})
	parallel(t, "Counter", h, func(t *testing.T, e *env) {
		skipIfGap(t, h, FeatureCounter)
		var counters []counter.Counter
		for range linClients {
			c, err := e.client().GetCounter(e.ctx, "lin")
			require.NoError(t, err)
			counters = append(counters, c)
		}
		rec := linearize.RunCounter(e.ctx, counters, linearize.Workload{Ops: linOps, Seed: 2})
		checkHistory(t, linearize.CounterModel(), rec)
	})
	parallel(t, "Value", h, func(t *testing.T, e *env) {
		skipIfGap(t, h, FeatureValue)
		var values []value.Value[string]
		for range linClients {
			v, err := atomix.GetValue[string](e.ctx, "lin", atomix.WithClient(e.client()))
			require.NoError(t, err)
			values = append(values, v)
		}
		rec := linearize.RunValue(e.ctx, values, linearize.Workload{Ops: linOps, Seed: 3})
		checkHistory(t, linearize.ValueModel(), rec)
	})
	parallel(t, "Set", h, func(t *testing.T, e *env) {
		skipIfGap(t, h, FeatureSet)
		var sets []set.Set[string]
		for range linClients {
			s, err := atomix.GetSet[string](e.ctx, "lin", atomix.WithClient(e.client()))
			require.NoError(t, err)
			sets = append(sets, s)
		}
		rec := linearize.RunSet(e.ctx, sets, linearize.Workload{Ops: linOps, Seed: 4})
		checkHistory(t, linearize.SetModel(), rec)
	})
}

// checkHistory fails t if the recorded history is not linearizable,
// showing the shortest part of it that proves so.
func checkHistory(t *testing.T, model porcupine.Model, rec *linearize.Recorder) {
	t.Helper()
	ops := rec.Operations()
	require.NotEmpty(t, ops, "no operation was recorded")
	pending := 0
	for _, op := range ops {
		if op.Return == math.MaxInt64 {
			pending++
		}
	}
	r := linearize.Check(model, ops, linCheckTimeout)
	switch r.Verdict {
	case porcupine.Ok:
		t.Logf("%d operations (%d of unknown outcome): linearizable", r.Ops, pending)
	case porcupine.Unknown:
		t.Logf("%d operations (%d of unknown outcome): the check ran out of time after %v; nothing proved", r.Ops, pending, linCheckTimeout)
	default:
		t.Errorf("%d operations: not linearizable; the shortest failing prefix of one key's history:\n%s",
			r.Ops, linearize.Format(model, r.Witness))
	}
}
