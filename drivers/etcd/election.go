package etcd

import (
	"context"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// etcdElection is a driver.Election kept in two kinds of keys under
// rootKey + "/":
//
//   - "c/" + candidate, one per candidate, attached to the lease of the
//     session it entered with: the key exists exactly as long as the
//     candidacy lives;
//   - "r", the record: the term number t and the queue of candidates in
//     priority order, as the last transaction left them. It has no lease.
//
// Every change (Enter, Leave, Anoint, Promote, Evict) is one transaction
// that writes the record and the candidate's key together, guarded by the
// record's mod revision. A lease's expiry, however, deletes candidate keys
// without any transaction, so the record may name dead candidates. The state
// of the election is therefore defined as a function of both kinds of keys,
// computed the same way by Term, by every transaction, and by Watch:
//
//   - Candidates are the record's queue without the candidates whose key is
//     gone; Leader is the first of them.
//   - Term is t + i, where i is the position of the leader in the record's
//     queue, or t + len(queue) when no candidate is alive.
//
// While the record's leader lives the term is t. When leaders expire one
// after another, each successor sits further down the queue, so the term
// grows by at least one per change of leader, and the leaderless term is
// above all of them; none of this needs a write. A transaction that
// changes the leader writes t' = current term + 1 with the new leader at
// position 0; one that keeps the leader writes t' = current term. So the
// term is unique, strictly increasing, and changes exactly when the leader
// does, whether by a transaction or by expiry.
//
// A transaction computes the current state from what it read and commits
// only if the record is unchanged and the candidates it relies on (the old
// and new leader, the one it acts on) still have the keys it read; when
// something changed, its else branch returns the fresh record and keys and
// it retries. Each instance caches the last state it saw, so an
// uncontended change is one round trip.
type etcdElection struct {
	primitive
	prefix     string // rootKey + "/"
	end        string
	recordKey  string
	candPrefix string
	candEnd    string

	mu    sync.Mutex
	cache *electionState // nil when unknown
}

var _ driver.Election = (*etcdElection)(nil)

func newElection(d *Driver, id driver.ID) *etcdElection {
	e := &etcdElection{primitive: newPrimitive(d, kindElection, id)}
	e.prefix = e.root + "/"
	e.end = rangeEnd(e.prefix)
	e.recordKey = e.prefix + "r"
	e.candPrefix = e.prefix + "c/"
	e.candEnd = rangeEnd(e.candPrefix)
	return e
}

// electionState is the record and the live candidate keys.
type electionState struct {
	recordRev int64            // mod revision of the record, 0 when there is none
	term      uint64           // the record's t
	queue     []string         // the record's queue
	live      map[string]int64 // candidate -> create revision of its key
}

// current returns the term the state defines.
func (st *electionState) current() driver.Term {
	var t driver.Term
	head := -1
	for i, c := range st.queue {
		if _, ok := st.live[c]; ok {
			if head < 0 {
				head = i
			}
			t.Candidates = append(t.Candidates, c)
		}
	}
	if head < 0 {
		t.Term = st.term + uint64(len(st.queue))
		return t
	}
	t.Term = st.term + uint64(head)
	t.Leader = t.Candidates[0]
	return t
}

func (e *etcdElection) candidateKey(c string) string { return e.candPrefix + c }

// readOps are the reads that load the state: the record and the keys.
func (e *etcdElection) readOps() []clientv3.Op {
	return []clientv3.Op{
		clientv3.OpGet(e.recordKey),
		clientv3.OpGet(e.candPrefix, clientv3.WithRange(e.candEnd), clientv3.WithKeysOnly()),
	}
}

// parseState builds the state from the results of readOps.
func (e *etcdElection) parseState(resp *clientv3.TxnResponse) (*electionState, error) {
	var record *mvccKV
	if kvs := rangeResp(resp, 0); len(kvs) > 0 {
		record = kvs[0]
	}
	st, err := e.newState(record, rangeResp(resp, 1))
	if err != nil {
		return nil, driver.Errorf(driver.ErrInvalid, "%v", err)
	}
	return st, nil
}

func (e *etcdElection) newState(record *mvccKV, candidates []*mvccKV) (*electionState, error) {
	st := &electionState{live: make(map[string]int64, len(candidates))}
	if record != nil {
		term, queue, err := decodeElectionRecord(record.Value)
		if err != nil {
			return nil, err
		}
		st.recordRev, st.term, st.queue = record.ModRevision, term, queue
	}
	for _, kv := range candidates {
		st.live[string(kv.Key[len(e.candPrefix):])] = kv.CreateRevision
	}
	return st, nil
}

// load reads the state in one transaction of two reads.
func (e *etcdElection) load(ctx context.Context) (*electionState, error) {
	resp, err := e.txn(ctx, read, nil, e.readOps(), nil)
	if err != nil {
		return nil, err
	}
	st, err := e.parseState(resp)
	if err != nil {
		return nil, err
	}
	e.remember(st)
	return st, nil
}

func (e *etcdElection) remember(st *electionState) {
	e.mu.Lock()
	if e.cache == nil || st.recordRev >= e.cache.recordRev {
		e.cache = st
	}
	e.mu.Unlock()
}

// Term reads the record and the candidate keys in one transaction.
func (e *etcdElection) Term(ctx context.Context) (driver.Term, error) {
	st, err := e.load(ctx)
	if err != nil {
		return driver.Term{}, err
	}
	return st.current(), nil
}

// plan is what a change decided from one state: the new queue (nil with
// write false for a no-op), the candidate it acts on, and the error to
// return if the state is confirmed.
type plan struct {
	write   bool
	queue   []string
	target  string
	enter   *session // put the target's key with this session's lease
	remove  bool     // delete the target's key
	failure error
}

// change runs one change: decide computes a plan from a state; the plan is
// committed in one transaction guarded by the state it was computed from.
// Both branches of the transaction end with the reads that load the state,
// so the term returned is exactly the state the transaction left (or found).
func (e *etcdElection) change(ctx context.Context, decide func(st *electionState, cur driver.Term) plan) (driver.Term, error) {
	e.mu.Lock()
	st := e.cache
	e.mu.Unlock()
	if st == nil {
		var err error
		if st, err = e.load(ctx); err != nil {
			return driver.Term{}, err
		}
	}
	for {
		cur := st.current()
		p := decide(st, cur)
		cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(e.recordKey), "=", st.recordRev)}
		guarded := map[string]bool{}
		guard := func(c string) {
			if rev, ok := st.live[c]; ok && !guarded[c] {
				guarded[c] = true
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(e.candidateKey(c)), "=", rev))
			}
		}
		guard(cur.Leader)
		guard(p.target)
		var then []clientv3.Op
		if p.write {
			newLeader := ""
			if len(p.queue) > 0 {
				newLeader = p.queue[0]
			}
			term := driver.NextTerm(cur.Term, cur.Leader, newLeader)
			if term != cur.Term {
				guard(newLeader)
			}
			then = append(then, clientv3.OpPut(e.recordKey, string(encodeElectionRecord(term, p.queue))))
			switch {
			case p.enter != nil:
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(e.candidateKey(p.target)), "=", 0))
				then = append(then, clientv3.OpPut(e.candidateKey(p.target), "", clientv3.WithLease(p.enter.lease)))
			case p.remove:
				then = append(then, clientv3.OpDelete(e.candidateKey(p.target)))
			}
		}
		writes := len(then)
		then = append(then, e.readOps()...)
		// A no-op only confirms the state: it cannot have written anything.
		kind := read
		if p.write {
			kind = write
		}
		resp, err := e.txn(ctx, kind, cmps, then, e.readOps())
		if err != nil {
			if p.write {
				e.forget()
			}
			return driver.Term{}, err
		}
		reads := resp
		if resp.Succeeded && writes > 0 {
			reads = &clientv3.TxnResponse{Header: resp.Header, Succeeded: true, Responses: resp.Responses[writes:]}
		}
		fresh, err := e.parseState(reads)
		if err != nil {
			return driver.Term{}, err
		}
		e.remember(fresh)
		if !resp.Succeeded {
			st = fresh
			continue
		}
		if p.failure != nil {
			return driver.Term{}, p.failure
		}
		return fresh.current(), nil
	}
}

// forget drops the cached state after a write whose outcome is unknown.
func (e *etcdElection) forget() {
	e.mu.Lock()
	e.cache = nil
	e.mu.Unlock()
}

// Watch sends the term after every transaction or expiry that changes it.
func (e *etcdElection) Watch(ctx context.Context, ch chan<- driver.Term) error {
	var last driver.Term
	changed := func(ctx context.Context, m mirror) bool {
		t := e.termOf(m)
		if t.Equal(last) {
			return true
		}
		last = t
		return send(ctx, ch, t)
	}
	return e.startWatch(ctx, e.prefix, e.end, rangeWatch{
		init:     func(m mirror) { last = e.termOf(m) },
		changed:  func(ctx context.Context, _ []change, m mirror) bool { return changed(ctx, m) },
		resynced: func(ctx context.Context, _, fresh mirror) bool { return changed(ctx, fresh) },
		finish:   func() { close(ch) },
	})
}

// termOf computes the term from a watch's mirror. An undecodable record
// reads as none.
func (e *etcdElection) termOf(m mirror) driver.Term {
	var candidates []*mvccKV
	for k, kv := range m {
		if strings.HasPrefix(k, e.candPrefix) {
			candidates = append(candidates, kv)
		}
	}
	st, err := e.newState(m[e.recordKey], candidates)
	if err != nil {
		st, _ = e.newState(nil, candidates)
	}
	return st.current()
}
