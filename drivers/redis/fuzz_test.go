package redis

import (
	"maps"
	"math"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/atomix/go-client/driver"
)

// fuzzReplica is a replica with a fixed state for FuzzChangeMessage, and
// what checks its apply.
type fuzzReplica struct {
	apply func(seq uint64, p *payload) (events int, err error)
	state func() any // a deep copy of the replica's state
}

// newFuzzReplica returns a replica of the kind k chooses, holding a few
// elements.
func newFuzzReplica(k byte) fuzzReplica {
	wrap := func(n int, err error) (int, error) { return n, err }
	switch k % 6 {
	case 0, 1: // map, indexed map
		headers := 1 + int(k%6)
		r := &hashReplica{headers: headers, entries: map[string]driver.Entry{
			"a": {Key: "a", Value: []byte("1"), Version: 3, Index: uint64(headers - 1)},
			"b": {Key: "b", Value: []byte("2"), Version: 5, Index: 2 * uint64(headers-1)},
		}, maxIndex: 2 * uint64(headers-1)}
		return fuzzReplica{
			apply: func(seq uint64, p *payload) (int, error) { e, err := r.apply(seq, p); return wrap(len(e), err) },
			state: func() any { return []any{maps.Clone(r.entries), r.maxIndex} },
		}
	case 2:
		r := &setReplica{elements: map[string]uint64{"a": 0, "b": 0}}
		return fuzzReplica{
			apply: func(seq uint64, p *payload) (int, error) { e, err := r.apply(seq, p); return wrap(len(e), err) },
			state: func() any { return maps.Clone(r.elements) },
		}
	case 3:
		r := &valueReplica{cur: driver.ValueEvent{Value: []byte("v"), Version: 7}}
		return fuzzReplica{
			apply: func(seq uint64, p *payload) (int, error) { e, err := r.apply(seq, p); return wrap(len(e), err) },
			state: func() any { return r.cur },
		}
	case 4:
		r := &listReplica{items: [][]byte{[]byte("a"), []byte("b"), []byte("c")}}
		return fuzzReplica{
			apply: func(seq uint64, p *payload) (int, error) { e, err := r.apply(seq, p); return wrap(len(e), err) },
			state: func() any { return slices.Clone(r.items) },
		}
	default:
		r := &electionReplica{term: driver.Term{Term: 4, Leader: "a", Candidates: []string{"a", "b"}}, minTTL: 500}
		return fuzzReplica{
			apply: func(seq uint64, p *payload) (int, error) { e, err := r.apply(seq, p); return wrap(len(e), err) },
			state: func() any { return []any{r.term.Clone(), r.minTTL} },
		}
	}
}

// FuzzChangeMessage feeds arbitrary change messages, as anyone allowed to
// PUBLISH on a channel could send them, to the parser and to the apply of
// every kind of replica (kind % 6: map, indexed map, set, value, list,
// election). Nothing may panic; a refused message must leave the copy as
// it was (the watcher then re-reads); and the bytes allocated must stay
// within a small multiple of the message's size, whatever it claims.
//
// The seed corpus is in testdata/fuzz/FuzzChangeMessage; run it longer
// with go test -fuzz=FuzzChangeMessage -fuzztime=30s ./drivers/redis/.
func FuzzChangeMessage(f *testing.F) {
	for _, seed := range changeSeeds() {
		f.Add(seed.kind, []byte(seed.msg))
	}
	f.Fuzz(func(t *testing.T, kind byte, msg []byte) {
		r := newFuzzReplica(kind)
		before := r.state()
		s := string(msg)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		allocated := ms.TotalAlloc
		p := &payload{s: s}
		seq := p.u64()
		if p.err != nil {
			return // the watcher re-reads
		}
		_, err := r.apply(seq, p)
		runtime.ReadMemStats(&ms)
		allocated = ms.TotalAlloc - allocated
		if limit := 64*uint64(len(s)) + 64<<10; allocated > limit {
			t.Fatalf("applying a %d-byte message allocated %d bytes (limit %d)", len(s), allocated, limit)
		}
		if err != nil && !reflect.DeepEqual(before, r.state()) {
			t.Fatalf("refused message %q (%v) changed the copy from %v to %v", s, err, before, r.state())
		}
	})
}

type changeSeed struct {
	kind byte
	msg  string
}

// changeSeeds are well-formed changes of each kind and the attacks the
// fuzz target must withstand.
func changeSeeds() []changeSeed {
	seq := be64(9)
	return []changeSeed{
		{0, seq + "U" + be32(1) + "a" + "new"},
		{0, seq + "I" + be32(1) + "c" + "new"},
		{0, seq + "R" + be32(1) + "a"},
		{0, seq + "C"},
		{0, seq + "I" + be32(math.MaxUint32) + "c"},
		{1, seq + "I" + be64(3) + be32(1) + "c" + "new"},
		{1, seq + "U" + be64(1) + be32(1) + "a" + "new"},
		{1, seq + "U" + be64(7) + be32(1) + "a" + "new"},
		{2, seq + "Ic"},
		{2, seq + "Ra"},
		{2, seq + "C"},
		{3, seq + "Unew"},
		{3, seq + "R"},
		{3, seq + "Inew"},
		{4, seq + "I" + be64(3) + "d"},
		{4, seq + "U" + be64(0) + "z"},
		{4, seq + "R" + be64(2)},
		{4, seq + "I" + be64(1<<63) + "x"},
		{4, seq + "R" + be64(math.MaxUint64)},
		{4, seq + "C"},
		{5, seq + be64(4) + be64(101) + be32(2) + be32(1) + "a" + be32(1) + "c"},
		{5, seq + be64(5) + be64(0) + be32(0)},
		{5, seq + be64(5) + be64(1000) + be32(math.MaxUint32)},
		{5, seq + be64(5) + be64(math.MaxUint64) + be32(1) + be32(1) + "b"},
	}
}

// TestChangeSeedsAccepted checks that the well-formed seeds are applied
// (so the fuzz target starts from messages that reach every case), and
// that the attacks are refused.
func TestChangeSeedsAccepted(t *testing.T) {
	refused := map[int]bool{4: true, 7: true, 13: true, 17: true, 18: true, 22: true, 23: true}
	for i, seed := range changeSeeds() {
		r := newFuzzReplica(seed.kind)
		p := &payload{s: seed.msg}
		_, err := r.apply(p.u64(), p)
		if (err != nil) != refused[i] {
			t.Errorf("seed %d (kind %d, %q): err = %v, want refused = %v", i, seed.kind, seed.msg, err, refused[i])
		}
	}
}
