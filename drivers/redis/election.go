package redis

import (
	"context"
	_ "embed"
	"math"
	"time"

	"github.com/atomix/go-client/driver"
)

var (
	//go:embed lua/election.lua
	electionSource string

	// electionIdempotent runs the operations that have the effect of one
	// run when run twice (term, enter, leave, drop, anoint); electionOnce
	// the others (promote, evict), which go-redis must not retry.
	electionIdempotent = newScript("election", withCounter(electionSource), true)
	electionOnce       = newScript("election", withCounter(electionSource), false)
)

// election implements driver.Election. It keeps no state per candidate.
//
// The candidates are a Redis list in priority order, with a hash from each
// candidate to its session; the term is a hash with the term number and its
// leader. A candidacy is live while the lease of its session in the
// election's slot exists (see session). Every operation, reading the term
// included, is one script that first drops the candidates whose lease has
// expired and bumps the term if the leader is then not the term's leader,
// so the term changes exactly when the leader does, and every read sees
// expired candidates gone.
//
// A candidate's lease can expire without any script running. Watchers
// therefore also run the term script when the shortest lease among the
// candidates would expire (every script returns it, and every change
// message carries it): a leader whose client died is replaced, and every
// watcher told, within about a TTL, without keyspace notifications and
// without polling faster than once per candidate TTL.
type election struct {
	*handle
	keys scriptKeys // candidates, their sessions, the term, the event counter, the lease prefix
}

func newElection(h *handle) *election {
	return &election{
		handle: h,
		keys: keysOf(
			h.ks.key("cands"), h.ks.key("sessions"), h.ks.key("term"), h.ks.key("seq"), h.ks.leasePrefix(),
		),
	}
}

// electionState is the decoded reply of the election script.
type electionState struct {
	found  bool
	seq    uint64
	term   driver.Term
	minTTL int64 // ms; -1 when there is no candidate
}

func (e *election) run(ctx context.Context, op, candidate, sessionID, ttl string) (electionState, error) {
	s := electionIdempotent
	if op == "promote" || op == "evict" {
		s = electionOnce
	}
	r, err := s.run(ctx, e.client(), e.keys, e.ks.channelArg(), op, candidate, sessionID, ttl)
	if err != nil {
		return electionState{}, err
	}
	a, err := replyArray(r, 4)
	if err != nil {
		return electionState{}, err
	}
	status, err1 := replyInt(a[0])
	seq, err2 := replyUint(a[1])
	term, err3 := replyUint(a[2])
	minTTL, err4 := replyInt(a[3])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return electionState{}, badReply("malformed election state")
	}
	st := electionState{found: status == 1, seq: seq, minTTL: minTTL, term: driver.Term{Term: term, Candidates: make([]string, 0, len(a)-4)}}
	for _, c := range a[4:] {
		id, _ := replyString(c)
		st.term.Candidates = append(st.term.Candidates, id)
	}
	if len(st.term.Candidates) > 0 {
		st.term.Leader = st.term.Candidates[0]
	}
	return st, nil
}

// do runs op and returns the term it produced.
func (e *election) do(ctx context.Context, op, candidate, sessionID, ttl string) (driver.Term, error) {
	if err := e.begin(ctx); err != nil {
		return driver.Term{}, err
	}
	st, err := e.run(ctx, op, candidate, sessionID, ttl)
	if err != nil {
		return driver.Term{}, e.fail(ctx, err, op != "term")
	}
	if !st.found {
		return driver.Term{}, errNotCandidate
	}
	return st.term, nil
}

var errNotCandidate = driver.Errorf(driver.ErrNotFound, "not a candidate")

func (e *election) Term(ctx context.Context) (driver.Term, error) {
	return e.do(ctx, "term", "", "", "")
}

// Enter runs the enter script, which creates the session's lease in the
// election's slot if absent, then has the session renew that lease.
func (e *election) Enter(ctx context.Context, s driver.Session, candidate string) (driver.Term, error) {
	if err := e.begin(ctx); err != nil {
		return driver.Term{}, err
	}
	ss, err := e.sessionOf(s)
	if err != nil {
		return driver.Term{}, err
	}
	t, err := e.do(ctx, "enter", candidate, ss.id, ss.ttlMS)
	if err != nil {
		return driver.Term{}, err // an entry that did happen expires with the lease
	}
	if !ss.bind(e.keys.names[4]+ss.id, e.drop) {
		_ = e.drop(context.WithoutCancel(ctx), ss.id)
		return driver.Term{}, errSessionEnded
	}
	return t, nil
}

// drop withdraws the candidacies of session id and deletes its lease: what
// the session's Close runs.
func (e *election) drop(ctx context.Context, id string) error {
	_, err := e.run(ctx, "drop", "", id, "")
	return err
}

func (e *election) Leave(ctx context.Context, candidate string) (driver.Term, error) {
	return e.do(ctx, "leave", candidate, "", "")
}

func (e *election) Anoint(ctx context.Context, candidate string) (driver.Term, error) {
	return e.do(ctx, "anoint", candidate, "", "")
}

func (e *election) Promote(ctx context.Context, candidate string) (driver.Term, error) {
	return e.do(ctx, "promote", candidate, "", "")
}

func (e *election) Evict(ctx context.Context, candidate string) (driver.Term, error) {
	return e.do(ctx, "evict", candidate, "", "")
}

func (e *election) Watch(ctx context.Context, ch chan<- driver.Term) error {
	return startWatch(ctx, e.handle, &electionReplica{e: e}, e.keys.names[3], ch)
}

// electionReplica is a watcher's copy of an election: the last term sent.
type electionReplica struct {
	e      *election
	term   driver.Term
	minTTL int64
}

// load runs the term script, which also drops expired candidates.
func (r *electionReplica) load(ctx context.Context, first bool) (uint64, []driver.Term, error) {
	st, err := r.e.run(ctx, "term", "", "", "")
	if err != nil {
		return 0, nil, err
	}
	var events []driver.Term
	if !first && !r.term.Equal(st.term) {
		events = []driver.Term{st.term.Clone()}
	}
	r.term, r.minTTL = st.term, st.minTTL
	return st.seq, events, nil
}

// maxRecheck bounds the lease time a change message may claim, so that
// converting it to a Duration cannot overflow.
const maxRecheck = int64(math.MaxInt64 / int64(time.Millisecond) / 2)

func (r *electionReplica) apply(_ uint64, p *payload) ([]driver.Term, error) {
	term := p.u64()
	ttl := p.u64() // the shortest lease left, plus 1; 0 for none
	count := p.u32()
	if p.err != nil {
		return nil, p.err
	}
	// Each candidate takes at least its 4-byte length: a count the bytes
	// present cannot hold is refused before anything is allocated for it.
	if uint64(count) > uint64(p.left()/4) {
		return nil, badReply("%d candidates claimed in %d bytes", count, p.left())
	}
	if ttl > uint64(maxRecheck)+1 {
		return nil, badReply("lease time %d out of range", ttl)
	}
	n := int(count)
	t := driver.Term{Term: term, Candidates: make([]string, 0, n)}
	seen := make(map[string]struct{}, n)
	for i := 0; i < n; i++ {
		c := p.str()
		if p.err != nil {
			return nil, p.err
		}
		if _, dup := seen[c]; dup {
			return nil, badReply("candidate %q listed twice", c)
		}
		seen[c] = struct{}{}
		t.Candidates = append(t.Candidates, c)
	}
	p.end()
	if p.err != nil {
		return nil, p.err
	}
	if n > 0 {
		t.Leader = t.Candidates[0]
	}
	// The term changes exactly when the leader does, by one.
	want := r.term.Term
	if t.Leader != r.term.Leader {
		want++
	}
	if term != want {
		return nil, badReply("term %d with leader %q after term %d with leader %q", term, t.Leader, r.term.Term, r.term.Leader)
	}
	r.term, r.minTTL = t, int64(ttl)-1
	return []driver.Term{t.Clone()}, nil
}

// recheck is when the shortest candidate lease would expire.
func (r *electionReplica) recheck() time.Duration {
	if r.minTTL < 0 {
		return 0
	}
	return time.Duration(r.minTTL)*time.Millisecond + 10*time.Millisecond
}
