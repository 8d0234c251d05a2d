package linearize

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Result is the outcome of Check.
type Result struct {
	// Verdict is porcupine.Ok (linearizable), porcupine.Illegal (not), or
	// porcupine.Unknown (the check ran out of time; nothing was proved).
	Verdict porcupine.CheckResult
	// Ops is the number of operations checked.
	Ops int
	// Witness, for Illegal, is a short history that is already not
	// linearizable on its own: the shortest prefix, in time, of the
	// history of one partition (one key, one element) that the checker
	// rejects, with the operations still in flight at the cut turned into
	// pending writes (reads among them left out). If the whole history were
	// linearizable, so would this prefix be, so it proves the failure.
	Witness []porcupine.Operation

	model porcupine.Model
	info  porcupine.LinearizationInfo
}

// Check checks that ops, a history of the model's operations (from
// Recorder.Operations), is linearizable, spending at most about timeout on
// the check and, for a failure, as much again on finding Result.Witness.
func Check(model porcupine.Model, ops []porcupine.Operation, timeout time.Duration) Result {
	verdict, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	r := Result{Verdict: verdict, Ops: len(ops), model: model, info: info}
	if verdict == porcupine.Illegal {
		r.Witness = witness(model, ops, time.Now().Add(timeout))
	}
	return r
}

// Visualize writes porcupine's HTML visualization of the checked history
// (every partition, with the longest linearizations found) to w.
func (r Result) Visualize(w io.Writer) error {
	if r.model.Init == nil {
		return fmt.Errorf("linearize: nothing was checked")
	}
	return porcupine.Visualize(r.model, r.info, w)
}

// Format describes ops one per line, in call order: the client, the call
// and return times from the recorder's start, and the operation as the
// model describes it. A pending operation shows "pending" as its return.
func Format(model porcupine.Model, ops []porcupine.Operation) string {
	ops = append([]porcupine.Operation(nil), ops...)
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	var b strings.Builder
	for _, op := range ops {
		ret := "pending"
		if op.Return != math.MaxInt64 {
			ret = time.Duration(op.Return).Round(time.Microsecond).String()
		}
		desc := fmt.Sprint(op.Input, " -> ", op.Output)
		if model.DescribeOperation != nil {
			desc = model.DescribeOperation(op.Input, op.Output)
		}
		fmt.Fprintf(&b, "client %d  [%s, %s]  %s\n", op.ClientId,
			time.Duration(op.Call).Round(time.Microsecond), ret, desc)
	}
	return b.String()
}

// witness returns the shortest prefix of one partition of ops that is not
// linearizable, giving up (and returning the whole failing partition) at
// deadline.
func witness(model porcupine.Model, ops []porcupine.Operation, deadline time.Time) []porcupine.Operation {
	partitions := [][]porcupine.Operation{ops}
	if model.Partition != nil {
		partitions = model.Partition(ops)
	}
	illegal := func(h []porcupine.Operation) bool {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		return porcupine.CheckOperationsTimeout(model, h, left) == porcupine.Illegal
	}
	for _, p := range partitions {
		if !illegal(p) {
			continue
		}
		var cuts []int64
		for _, op := range p {
			if op.Return != math.MaxInt64 {
				cuts = append(cuts, op.Return)
			}
		}
		sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
		best := p
		lo, hi := 0, len(cuts)-1
		for lo <= hi {
			mid := (lo + hi) / 2
			h := prefix(p, cuts[mid])
			if illegal(h) {
				best, hi = h, mid-1
			} else {
				lo = mid + 1
			}
		}
		return best
	}
	return ops
}

// prefix returns the operations of p called at or before cut, with those
// still in flight at cut made pending (writes) or left out (reads). Any
// linearization of p restricted to these operations is one of the prefix,
// so a prefix that is not linearizable shows that p is not.
func prefix(p []porcupine.Operation, cut int64) []porcupine.Operation {
	var h []porcupine.Operation
	for _, op := range p {
		if op.Call > cut {
			continue
		}
		if op.Return > cut {
			if isRead(op.Input) {
				continue
			}
			op.Output = unknownOutput(op.Output)
			op.Return = math.MaxInt64
		}
		h = append(h, op)
	}
	return h
}

func isRead(input any) bool {
	switch in := input.(type) {
	case MapInput:
		return in.Op == Get
	case ValueInput:
		return in.Op == Get
	case CounterInput:
		return in.Op == Get
	case SetInput:
		return in.Op == Contains
	}
	return false
}

func unknownOutput(output any) any {
	switch output.(type) {
	case MapOutput:
		return MapOutput{Unknown: true}
	case ValueOutput:
		return ValueOutput{Unknown: true}
	case CounterOutput:
		return CounterOutput{Unknown: true}
	case SetOutput:
		return SetOutput{Unknown: true}
	}
	return output
}
