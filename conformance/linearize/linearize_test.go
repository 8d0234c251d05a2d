package linearize

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/atomix/go-client/atomix"
)

// op builds an operation of client c over [call, ret]; ret < 0 makes it
// pending.
func op(c int, call, ret int64, in, out any) porcupine.Operation {
	if ret < 0 {
		ret = math.MaxInt64
	}
	return porcupine.Operation{ClientId: c, Call: call, Return: ret, Input: in, Output: out}
}

func TestModels(t *testing.T) {
	cases := []struct {
		name  string
		model porcupine.Model
		ok    []porcupine.Operation // linearizable
		bad   []porcupine.Operation // not linearizable
	}{
		{
			name:  "Map",
			model: MapModel(),
			ok: []porcupine.Operation{
				op(0, 0, 10, MapInput{Op: Put, Key: "k", Value: "a"}, MapOutput{}),
				op(1, 5, 15, MapInput{Op: Get, Key: "k"}, MapOutput{}), // concurrent with the put: absent is fine
				op(1, 20, 30, MapInput{Op: Remove, Key: "k"}, MapOutput{Value: "a", OK: true}),
				op(0, 20, 30, MapInput{Op: Insert, Key: "j", Value: "b"}, MapOutput{OK: true}),
			},
			bad: []porcupine.Operation{
				op(0, 0, 10, MapInput{Op: Put, Key: "k", Value: "a"}, MapOutput{}),
				op(0, 11, 20, MapInput{Op: Put, Key: "k", Value: "b"}, MapOutput{}),
				op(1, 21, 30, MapInput{Op: Get, Key: "k"}, MapOutput{Value: "a", OK: true}), // stale read
			},
		},
		{
			name:  "Value",
			model: ValueModel(),
			ok: []porcupine.Operation{
				op(0, 0, 10, ValueInput{Op: Set, Value: "a"}, ValueOutput{}),
				op(1, 11, 20, ValueInput{Op: Get}, ValueOutput{Value: "a", OK: true}),
				op(1, 21, 30, ValueInput{Op: Delete}, ValueOutput{OK: true}),
			},
			bad: []porcupine.Operation{
				op(0, 0, 10, ValueInput{Op: Set, Value: "a"}, ValueOutput{}),
				op(1, 11, 20, ValueInput{Op: Delete}, ValueOutput{OK: true}),
				op(0, 21, 30, ValueInput{Op: Get}, ValueOutput{Value: "a", OK: true}), // deleted value read back
			},
		},
		{
			name:  "Counter",
			model: CounterModel(),
			ok: []porcupine.Operation{
				op(0, 0, 10, CounterInput{Op: Add, Value: 1}, CounterOutput{Value: 2}),
				op(1, 0, 10, CounterInput{Op: Add, Value: 1}, CounterOutput{Value: 1}),
				op(1, 11, 20, CounterInput{Op: CAS, Expect: 2, Value: 5}, CounterOutput{OK: true}),
				op(0, 21, 30, CounterInput{Op: Get}, CounterOutput{Value: 5}),
			},
			bad: []porcupine.Operation{
				op(0, 0, 10, CounterInput{Op: Add, Value: 1}, CounterOutput{Value: 1}),
				op(1, 0, 10, CounterInput{Op: Add, Value: 1}, CounterOutput{Value: 1}), // lost update
			},
		},
		{
			name:  "Set",
			model: SetModel(),
			ok: []porcupine.Operation{
				op(0, 0, 10, SetInput{Op: Add, Element: "x"}, SetOutput{OK: true}),
				op(1, 5, 15, SetInput{Op: Add, Element: "x"}, SetOutput{OK: false}),
				op(1, 20, 30, SetInput{Op: Contains, Element: "x"}, SetOutput{OK: true}),
			},
			bad: []porcupine.Operation{
				op(0, 0, 10, SetInput{Op: Add, Element: "x"}, SetOutput{OK: true}),
				op(1, 11, 20, SetInput{Op: Add, Element: "x"}, SetOutput{OK: true}), // added twice
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := Check(c.model, c.ok, 5*time.Second); r.Verdict != porcupine.Ok {
				t.Errorf("linearizable history rejected: %v\n%s", r.Verdict, Format(c.model, c.ok))
			}
			r := Check(c.model, c.bad, 5*time.Second)
			if r.Verdict != porcupine.Illegal {
				t.Fatalf("non-linearizable history accepted: %v\n%s", r.Verdict, Format(c.model, c.bad))
			}
			if len(r.Witness) == 0 || len(r.Witness) > len(c.bad) {
				t.Errorf("witness has %d operations, want 1..%d", len(r.Witness), len(c.bad))
			}
			var html strings.Builder
			if err := r.Visualize(&html); err != nil || !strings.Contains(html.String(), "<html") {
				t.Errorf("Visualize: %v (%d bytes)", err, html.Len())
			}
		})
	}
}

// A write of unknown outcome may have been applied or not: both readings
// must be accepted, and a read of a value nobody wrote must still fail.
func TestPendingWrites(t *testing.T) {
	m := MapModel()
	applied := []porcupine.Operation{
		op(0, 0, -1, MapInput{Op: Put, Key: "k", Value: "a"}, MapOutput{Unknown: true}),
		op(1, 10, 20, MapInput{Op: Get, Key: "k"}, MapOutput{Value: "a", OK: true}),
	}
	notApplied := []porcupine.Operation{
		op(0, 0, -1, MapInput{Op: Put, Key: "k", Value: "a"}, MapOutput{Unknown: true}),
		op(1, 10, 20, MapInput{Op: Get, Key: "k"}, MapOutput{}),
		op(1, 30, 40, MapInput{Op: Get, Key: "k"}, MapOutput{}),
	}
	flipFlop := []porcupine.Operation{
		op(0, 0, -1, MapInput{Op: Put, Key: "k", Value: "a"}, MapOutput{Unknown: true}),
		op(1, 10, 20, MapInput{Op: Get, Key: "k"}, MapOutput{Value: "a", OK: true}),
		op(1, 30, 40, MapInput{Op: Get, Key: "k"}, MapOutput{}), // applied, then gone
	}
	for name, h := range map[string][]porcupine.Operation{"applied": applied, "not applied": notApplied} {
		if r := Check(m, h, 5*time.Second); r.Verdict != porcupine.Ok {
			t.Errorf("%s: %v", name, r.Verdict)
		}
	}
	if r := Check(m, flipFlop, 5*time.Second); r.Verdict != porcupine.Illegal {
		t.Errorf("a pending write applied and then undone was accepted: %v", r.Verdict)
	}
}

// The witness is a prefix of the failing key's history, and it is itself
// rejected.
func TestWitnessIsShortAndIllegal(t *testing.T) {
	m := CounterModel()
	var h []porcupine.Operation
	var v int64
	for i := range 50 {
		v++
		h = append(h, op(i%3, int64(i*10), int64(i*10+5), CounterInput{Op: Add, Value: 1}, CounterOutput{Value: v}))
	}
	h = append(h, op(0, 600, 605, CounterInput{Op: Get}, CounterOutput{Value: 3})) // stale
	for i := range 20 {
		v++
		h = append(h, op(1, int64(700+i*10), int64(705+i*10), CounterInput{Op: Add, Value: 1}, CounterOutput{Value: v}))
	}
	r := Check(m, h, 5*time.Second)
	if r.Verdict != porcupine.Illegal {
		t.Fatalf("verdict %v", r.Verdict)
	}
	if len(r.Witness) != 51 {
		t.Errorf("witness has %d operations, want the 51 up to the stale read:\n%s", len(r.Witness), Format(m, r.Witness))
	}
	if porcupine.CheckOperations(m, r.Witness) {
		t.Error("the witness is linearizable")
	}
}

func TestUnknown(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{atomix.ErrNotFound, false},
		{atomix.ErrConflict, false},
		{fmt.Errorf("put: %w", atomix.ErrUnavailable), false},
		{fmt.Errorf("put: %w", errors.Join(atomix.ErrUnavailable, context.DeadlineExceeded)), true},
		{fmt.Errorf("put: %w", errors.Join(atomix.ErrUnavailable, atomix.ErrAmbiguous)), true},
		{atomix.ErrAmbiguous, true},
		{atomix.ErrTimeout, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, true},
		{fmt.Errorf("put: %w", errors.Join(atomix.ErrNotFound, atomix.ErrAmbiguous)), true},
		{errors.New("connection reset"), true},
	} {
		if got := Unknown(c.err); got != c.want {
			t.Errorf("Unknown(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
