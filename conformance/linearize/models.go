package linearize

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/anishathalye/porcupine"
)

// Op names an operation in the inputs of every model.
type Op string

// The operations the models know. Each model accepts only its own.
const (
	Get      Op = "get"      // Map, Value, Counter: read
	Put      Op = "put"      // Map: insert or replace
	Insert   Op = "insert"   // Map: insert if absent
	Remove   Op = "remove"   // Map, Set: delete
	Set      Op = "set"      // Value, Counter: replace
	Delete   Op = "delete"   // Value: delete
	Add      Op = "add"      // Counter: add a delta; Set: add an element
	CAS      Op = "cas"      // Counter: compare and set
	Contains Op = "contains" // Set: membership
)

// MapInput is one operation on a Map of string keys and values.
type MapInput struct {
	Op    Op // Get, Put, Insert or Remove
	Key   string
	Value string // for Put and Insert
}

// MapOutput is what a Map operation returned. OK means: Get found the key,
// Insert inserted, Remove removed (false: ErrNotFound or ErrAlreadyExists);
// it is ignored for Put. Value is what Get read or Remove removed. Unknown
// marks a pending operation, whose output is not checked.
type MapOutput struct {
	Value   string
	OK      bool
	Unknown bool
}

// register is the state of one key, one set element or one value: present
// or not, and the value if present.
type register struct {
	value   string
	present bool
}

func (r register) String() string {
	if !r.present {
		return "absent"
	}
	return strconv.Quote(r.value)
}

// MapModel is the sequential specification of a Map whose operations are
// MapInput/MapOutput. Histories are partitioned by key.
func MapModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionBy(func(op porcupine.Operation) string { return op.Input.(MapInput).Key }),
		Init:      func() any { return register{} },
		Step: func(state, input, output any) (bool, any) {
			s, in, out := state.(register), input.(MapInput), output.(MapOutput)
			switch in.Op {
			case Get:
				return out.Unknown || (out.OK == s.present && (!s.present || out.Value == s.value)), s
			case Put:
				return true, register{value: in.Value, present: true}
			case Insert:
				if s.present {
					return out.Unknown || !out.OK, s
				}
				return out.Unknown || out.OK, register{value: in.Value, present: true}
			case Remove:
				if !s.present {
					return out.Unknown || !out.OK, s
				}
				return out.Unknown || (out.OK && out.Value == s.value), register{}
			}
			return false, s
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(MapInput), output.(MapOutput)
			switch in.Op {
			case Put, Insert:
				return fmt.Sprintf("%s(%q, %q)%s", in.Op, in.Key, in.Value, describeOK(in.Op == Insert, out.OK, out.Unknown))
			default:
				return fmt.Sprintf("%s(%q)%s", in.Op, in.Key, describeRead(out.Value, out.OK, out.Unknown))
			}
		},
		DescribeState: func(state any) string { return state.(register).String() },
	}
}

// ValueInput is one operation on a Value of strings.
type ValueInput struct {
	Op    Op // Get, Set or Delete
	Value string
}

// ValueOutput is what a Value operation returned. OK means: Get found a
// value, Delete deleted one (false: ErrNotFound); it is ignored for Set.
type ValueOutput struct {
	Value   string
	OK      bool
	Unknown bool
}

// ValueModel is the sequential specification of a Value whose operations
// are ValueInput/ValueOutput.
func ValueModel() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return register{} },
		Step: func(state, input, output any) (bool, any) {
			s, in, out := state.(register), input.(ValueInput), output.(ValueOutput)
			switch in.Op {
			case Get:
				return out.Unknown || (out.OK == s.present && (!s.present || out.Value == s.value)), s
			case Set:
				return true, register{value: in.Value, present: true}
			case Delete:
				return out.Unknown || out.OK == s.present, register{}
			}
			return false, s
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(ValueInput), output.(ValueOutput)
			switch in.Op {
			case Set:
				return fmt.Sprintf("set(%q)%s", in.Value, describeOK(false, out.OK, out.Unknown))
			case Delete:
				return "delete()" + describeOK(true, out.OK, out.Unknown)
			default:
				return "get()" + describeRead(out.Value, out.OK, out.Unknown)
			}
		},
		DescribeState: func(state any) string { return state.(register).String() },
	}
}

// CounterInput is one operation on a Counter. Value is the value of Set,
// the delta of Add and the update of CAS; Expect is CAS's expected value.
type CounterInput struct {
	Op     Op // Get, Set, Add or CAS
	Value  int64
	Expect int64
}

// CounterOutput is what a Counter operation returned: the value Get read,
// the new value Set and Add returned, and for CAS whether it swapped (OK).
type CounterOutput struct {
	Value   int64
	OK      bool
	Unknown bool
}

// CounterModel is the sequential specification of a Counter whose
// operations are CounterInput/CounterOutput. The counter starts at 0.
func CounterModel() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return int64(0) },
		Step: func(state, input, output any) (bool, any) {
			s, in, out := state.(int64), input.(CounterInput), output.(CounterOutput)
			switch in.Op {
			case Get:
				return out.Unknown || out.Value == s, s
			case Set:
				return out.Unknown || out.Value == in.Value, in.Value
			case Add:
				return out.Unknown || out.Value == s+in.Value, s + in.Value
			case CAS:
				if s == in.Expect {
					return out.Unknown || out.OK, in.Value
				}
				return out.Unknown || !out.OK, s
			}
			return false, s
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(CounterInput), output.(CounterOutput)
			var call string
			switch in.Op {
			case Get:
				call = "get()"
			case CAS:
				call = fmt.Sprintf("cas(%d, %d)", in.Expect, in.Value)
				return call + describeOK(true, out.OK, out.Unknown)
			default:
				call = fmt.Sprintf("%s(%d)", in.Op, in.Value)
			}
			if out.Unknown {
				return call + " -> ?"
			}
			return fmt.Sprintf("%s -> %d", call, out.Value)
		},
		DescribeState: func(state any) string { return strconv.FormatInt(state.(int64), 10) },
	}
}

// SetInput is one operation on a Set of strings.
type SetInput struct {
	Op      Op // Add, Remove or Contains
	Element string
}

// SetOutput is what a Set operation returned: Add's "was absent",
// Remove's "was present", Contains's answer.
type SetOutput struct {
	OK      bool
	Unknown bool
}

// SetModel is the sequential specification of a Set whose operations are
// SetInput/SetOutput. Histories are partitioned by element.
func SetModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionBy(func(op porcupine.Operation) string { return op.Input.(SetInput).Element }),
		Init:      func() any { return false },
		Step: func(state, input, output any) (bool, any) {
			present, in, out := state.(bool), input.(SetInput), output.(SetOutput)
			switch in.Op {
			case Contains:
				return out.Unknown || out.OK == present, present
			case Add:
				return out.Unknown || out.OK == !present, true
			case Remove:
				return out.Unknown || out.OK == present, false
			}
			return false, present
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(SetInput), output.(SetOutput)
			return fmt.Sprintf("%s(%q)%s", in.Op, in.Element, describeOK(true, out.OK, out.Unknown))
		},
		DescribeState: func(state any) string {
			if state.(bool) {
				return "present"
			}
			return "absent"
		},
	}
}

// partitionBy returns a porcupine partition function that groups
// operations by key, in a stable order.
func partitionBy(key func(porcupine.Operation) string) func([]porcupine.Operation) [][]porcupine.Operation {
	return func(history []porcupine.Operation) [][]porcupine.Operation {
		groups := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := key(op)
			groups[k] = append(groups[k], op)
		}
		keys := make([]string, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, groups[k])
		}
		return out
	}
}

func describeOK(show, ok, unknown bool) string {
	switch {
	case unknown:
		return " -> ?"
	case !show:
		return ""
	default:
		return fmt.Sprintf(" -> %t", ok)
	}
}

func describeRead(v string, ok, unknown bool) string {
	switch {
	case unknown:
		return " -> ?"
	case !ok:
		return " -> absent"
	default:
		return fmt.Sprintf(" -> %q", v)
	}
}
