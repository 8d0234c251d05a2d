package consul

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// consulElection keeps two kinds of keys under <base>/:
//
//   - c/<segment(candidate)>: one per candidate, locked by the session the
//     candidate entered with. The session's behaviour is "delete", so
//     Consul deletes the key when the session ends: the candidacy is gone.
//   - term: the term record, written only by check-and-set: the term
//     number, the leader and the leader's session, and the queue order.
//
// The candidates are the live candidate keys, in the record's order
// (keys the record does not list, which only a foreign writer could
// create, follow in creation order); the leader is the first.
//
// Every change (Enter, Leave, Anoint, Promote, Evict) is one transaction
// that changes candidate keys and check-and-sets the record to the new
// queue, with a new term number (the previous one plus one) when the leader
// changes. It also checks that the new leader's key is unchanged, so a
// record never names a leader that is already gone when it commits.
//
// A leader's key can disappear without a transaction: Consul deletes it
// when its session expires. The record then names a leader that is no
// longer first (or no longer the same holder: compared by session, so a
// candidate that re-enters with a new session is a new leader). Any client
// that sees such a stale record repairs it before reporting anything: it
// check-and-sets the record to the real leader with the next term number
// (Term, Watch and every change do this). So every term reported was first
// committed to the record, Term and Watch agree, and the term changes
// exactly when the leader changes. Leaders that came and went with nobody
// reading in between (two expiries in a row, say) merge into one change.
// A client that only watches needs write access to the record for this.
type consulElection struct {
	primitive
	dir       string // base + "/"
	record    string // dir + "term"
	candidate string // dir + "c/"
}

var _ driver.Election = (*consulElection)(nil)

func newElection(d *Driver, id driver.ID) *consulElection {
	e := &consulElection{}
	e.init(d, kindElection, id)
	e.dir = e.base + "/"
	e.record, e.candidate = e.dir+"term", e.dir+"c/"
	return e
}

// electionState is one reading of the election's keys.
type electionState struct {
	rec      termRecord
	recIndex uint64                 // the record's ModifyIndex; 0 when absent
	live     map[string]*api.KVPair // candidate -> its key
	idle     map[string]*api.KVPair // candidate keys without a session (not written by this driver)
	order    []string               // the candidates in priority order
}

func (st *electionState) leader() string {
	if len(st.order) == 0 {
		return ""
	}
	return st.order[0]
}

// stale reports whether the record does not name the current leader.
func (st *electionState) stale() bool {
	l := st.leader()
	if l != st.rec.leader {
		return true
	}
	return l != "" && st.live[l].Session != st.rec.leaderSession
}

// term is the state as a driver.Term; meaningful only when !stale.
func (st *electionState) term() driver.Term {
	return driver.Term{Term: st.rec.term, Leader: st.rec.leader, Candidates: slices.Clone(st.order)}
}

// load reads the election's keys.
func (e *consulElection) load(ctx context.Context, q *api.QueryOptions) (*electionState, uint64, error) {
	pairs, meta, err := e.d.kv.List(e.dir, q)
	if err != nil {
		return nil, 0, classify(ctx, err, reading)
	}
	st, err := e.parse(pairs)
	if err != nil {
		return nil, 0, err
	}
	return st, meta.LastIndex, nil
}

func (e *consulElection) parse(pairs api.KVPairs) (*electionState, error) {
	st := &electionState{live: map[string]*api.KVPair{}, idle: map[string]*api.KVPair{}}
	for _, p := range pairs {
		switch {
		case p.Key == e.record:
			rec, err := decodeRecord(p.Value)
			if err != nil {
				return nil, errCorrupt(err)
			}
			st.rec, st.recIndex = rec, p.ModifyIndex
		case strings.HasPrefix(p.Key, e.candidate):
			if id, ok := unsegment(p.Key[len(e.candidate):]); ok && p.Session != "" {
				st.live[id] = p
			} else if ok {
				st.idle[id] = p
			}
		}
	}
	listed := make(map[string]bool, len(st.rec.queue))
	for _, id := range st.rec.queue {
		if st.live[id] != nil && !listed[id] {
			st.order = append(st.order, id)
			listed[id] = true
		}
	}
	var rest []string
	for id := range st.live {
		if !listed[id] {
			rest = append(rest, id)
		}
	}
	slices.SortFunc(rest, func(a, b string) int {
		return cmp.Or(cmp.Compare(st.live[a].CreateIndex, st.live[b].CreateIndex), strings.Compare(a, b))
	})
	st.order = append(st.order, rest...)
	return st, nil
}

// commit writes the queue order with the ops that go with it, as one
// transaction, and returns the resulting term. newSession is the session
// of a candidate that ops create (Enter), "" otherwise. ok is false when
// the state changed since st was read.
func (e *consulElection) commit(ctx context.Context, st *electionState, order []string, ops []kvOp, newSession string) (driver.Term, bool, error) {
	rec := termRecord{term: st.rec.term, queue: order}
	var leaderKey *api.KVPair
	if len(order) > 0 {
		rec.leader = order[0]
		if leaderKey = st.live[rec.leader]; leaderKey != nil {
			rec.leaderSession = leaderKey.Session
		} else {
			rec.leaderSession = newSession
		}
	}
	if rec.leader != st.rec.leader || rec.leaderSession != st.rec.leaderSession {
		rec.term++
	}
	t := driver.Term{Term: rec.term, Leader: rec.leader, Candidates: slices.Clone(order)}
	if len(ops) == 0 && rec.term == st.rec.term && slices.Equal(order, st.order) {
		return t, true, nil // nothing to write
	}
	lockOp := -1
	for i, op := range ops {
		if op.Verb == api.KVLock {
			lockOp = i
		}
	}
	ops = append(ops, kvOp{Verb: api.KVCAS, Key: e.record, Value: rec.encode(), Index: st.recIndex})
	if leaderKey != nil && !touches(ops, leaderKey.Key) {
		ops = append(ops, kvOp{Verb: api.KVCheckIndex, Key: leaderKey.Key, Index: leaderKey.ModifyIndex})
	}
	_, rb, err := e.d.txn(ctx, ops)
	switch {
	case err != nil:
		return driver.Term{}, false, err
	case rb != nil && lockOp >= 0 && strings.Contains(rb.reason(lockOp), "invalid session"):
		return driver.Term{}, false, errSessionEnded
	case rb != nil:
		return driver.Term{}, false, nil
	}
	return t, true, nil
}

// touches reports whether ops already check or change key.
func touches(ops []kvOp, key string) bool {
	for _, op := range ops {
		if op.Key == key {
			return true
		}
	}
	return false
}

// change runs one election change: it reads the state, lets plan decide
// the new order and the operations that go with it, and commits them,
// again from a fresh read whenever the state changed in between. plan
// returns done (with no order) when nothing is to change; the current term
// is then returned, after repairing a stale record.
func (e *consulElection) change(ctx context.Context, plan func(st *electionState) (order []string, ops []kvOp, newSession string, done bool, err error)) (driver.Term, error) {
	if err := e.check(); err != nil {
		return driver.Term{}, err
	}
	for {
		st, _, err := e.load(ctx, read(ctx))
		if err != nil {
			return driver.Term{}, err
		}
		order, ops, newSession, done, err := plan(st)
		if err != nil {
			return driver.Term{}, err
		}
		if done {
			if !st.stale() {
				return st.term(), nil
			}
			order = st.order // repair
		}
		t, ok, err := e.commit(ctx, st, order, ops, newSession)
		if err != nil || ok {
			return t, err
		}
		if err := ctx.Err(); err != nil {
			return driver.Term{}, err
		}
	}
}

// Term returns the current term from a consistent read, repairing a stale
// record first.
func (e *consulElection) Term(ctx context.Context) (driver.Term, error) {
	if err := e.check(); err != nil {
		return driver.Term{}, err
	}
	t, _, err := e.current(ctx, readConsistent)
	return t, err
}

// current returns the current term and the index of the read it came
// from, repairing a stale record first.
func (e *consulElection) current(ctx context.Context, mode func(context.Context) *api.QueryOptions) (driver.Term, uint64, error) {
	for {
		st, index, err := e.load(ctx, mode(ctx))
		if err != nil {
			return driver.Term{}, 0, err
		}
		if !st.stale() {
			return st.term(), index, nil
		}
		if _, _, err := e.commit(ctx, st, st.order, nil, ""); err != nil {
			return driver.Term{}, 0, err
		}
	}
}

// Enter creates the candidate's key, locked by s, and appends it to the
// queue. A candidate already present keeps its place. The driver keeps no
// state per candidate, and Close does not leave: the portable layer does.
func (e *consulElection) Enter(ctx context.Context, s driver.Session, candidate string) (driver.Term, error) {
	sess, err := e.d.sessionOf(s)
	if err != nil {
		return driver.Term{}, err
	}
	key := e.candidate + segment(candidate)
	t, err := e.change(ctx, func(st *electionState) ([]string, []kvOp, string, bool, error) {
		if st.live[candidate] != nil {
			return nil, nil, "", true, nil
		}
		precondition := kvOp{Verb: api.KVCheckNotExists, Key: key}
		if idle := st.idle[candidate]; idle != nil { // a key without a session: lock it
			precondition = kvOp{Verb: api.KVCheckIndex, Key: key, Index: idle.ModifyIndex}
		}
		ops := []kvOp{precondition, {Verb: api.KVLock, Key: key, Session: sess.id}}
		return append(slices.Clone(st.order), candidate), ops, sess.id, false, nil
	})
	if err == errSessionEnded { // Consul no longer knows the session
		sess.end()
	}
	return t, err
}

// Leave deletes the candidate's key and drops it from the queue.
func (e *consulElection) Leave(ctx context.Context, candidate string) (driver.Term, error) {
	return e.remove(ctx, candidate, false)
}

// Evict is Leave, with ErrNotFound for a non-candidate.
func (e *consulElection) Evict(ctx context.Context, candidate string) (driver.Term, error) {
	return e.remove(ctx, candidate, true)
}

func (e *consulElection) remove(ctx context.Context, candidate string, mustExist bool) (driver.Term, error) {
	return e.change(ctx, func(st *electionState) ([]string, []kvOp, string, bool, error) {
		key := st.live[candidate]
		if key == nil {
			if mustExist {
				return nil, nil, "", false, errNotCandidate
			}
			return nil, nil, "", true, nil
		}
		order := slices.DeleteFunc(slices.Clone(st.order), func(id string) bool { return id == candidate })
		return order, []kvOp{{Verb: api.KVDeleteCAS, Key: key.Key, Index: key.ModifyIndex}}, "", false, nil
	})
}

// Anoint moves the candidate to the head of the queue.
func (e *consulElection) Anoint(ctx context.Context, candidate string) (driver.Term, error) {
	return e.change(ctx, func(st *electionState) ([]string, []kvOp, string, bool, error) {
		key := st.live[candidate]
		if key == nil {
			return nil, nil, "", false, errNotCandidate
		}
		if st.leader() == candidate {
			return nil, nil, "", true, nil
		}
		order := append([]string{candidate}, slices.DeleteFunc(slices.Clone(st.order), func(id string) bool { return id == candidate })...)
		return order, []kvOp{{Verb: api.KVCheckIndex, Key: key.Key, Index: key.ModifyIndex}}, "", false, nil
	})
}

// Promote swaps the candidate with the one before it.
func (e *consulElection) Promote(ctx context.Context, candidate string) (driver.Term, error) {
	return e.change(ctx, func(st *electionState) ([]string, []kvOp, string, bool, error) {
		key := st.live[candidate]
		if key == nil {
			return nil, nil, "", false, errNotCandidate
		}
		i := slices.Index(st.order, candidate)
		if i == 0 {
			return nil, nil, "", true, nil
		}
		order := slices.Clone(st.order)
		order[i-1], order[i] = order[i], order[i-1]
		return order, []kvOp{{Verb: api.KVCheckIndex, Key: key.Key, Index: key.ModifyIndex}}, "", false, nil
	})
}

var errNotCandidate = driver.Errorf(driver.ErrNotFound, "not a candidate")

// Watch follows the election's keys with blocking queries and sends each
// new term. A stale record is repaired, not reported: the repair's own
// write brings the next answer.
func (e *consulElection) Watch(ctx context.Context, ch chan<- driver.Term) error {
	if err := e.check(); err != nil {
		return err
	}
	last, index, err := e.current(ctx, read)
	if err != nil {
		return err
	}
	wctx, cancel := e.watchContext(ctx)
	go func() {
		defer close(ch)
		defer cancel()
		follow(wctx, e.d, index, func(q *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
			return e.d.kv.List(e.dir, q)
		}, func(pairs api.KVPairs) bool {
			st, err := e.parse(pairs)
			if err != nil {
				return true // a foreign record; wait for the next answer
			}
			if st.stale() {
				e.commit(wctx, st, st.order, nil, "")
				return true
			}
			t := st.term()
			if t.Equal(last) {
				return true
			}
			if !send(wctx, ch, t) {
				return false
			}
			last = t
			return true
		}, e.resynced)
	}()
	return nil
}
