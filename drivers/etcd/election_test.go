package etcd

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// electionClient is one client of an election: its driver, session and
// instance.
type electionClient struct {
	d *Driver
	s *session
	e *etcdElection
}

func newElectionClient(t *testing.T, prefix string, id driver.ID) *electionClient {
	d := newTestDriver(t, prefix)
	e, err := d.OpenElection(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return &electionClient{d: d, s: newTestSession(t, d, 0), e: e.(*etcdElection)}
}

// termRecorder collects the terms a watch sends.
type termRecorder struct {
	ch <-chan driver.Term
}

func watchTerms(t *testing.T, e *etcdElection) termRecorder {
	ch := make(chan driver.Term, 100)
	if err := e.Watch(testContext(t), ch); err != nil {
		t.Fatal(err)
	}
	return termRecorder{ch}
}

func (r termRecorder) next(t *testing.T) driver.Term {
	t.Helper()
	return receive(t, r.ch, "a term from the watch")
}

func checkTerm(t *testing.T, what string, got driver.Term, err error, leader string, candidates ...string) driver.Term {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got.Leader != leader || !slices.Equal(got.Candidates, candidates) {
		t.Fatalf("%s = leader %q candidates %q; want %q %q", what, got.Leader, got.Candidates, leader, candidates)
	}
	return got
}

// TestElectionTermRules walks through every change and checks that the
// term changes exactly when the leader does, that GetTerm and the watch
// agree, and that the watch reports every change.
func TestElectionTermRules(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "election"}
	c := newElectionClient(t, prefix, id)
	w := watchTerms(t, newElectionClient(t, prefix, id).e)

	term, err := c.e.Term(ctx)
	checkTerm(t, "initial term", term, err, "")
	last := term.Term
	steps := []struct {
		name       string
		do         func() (driver.Term, error)
		newLeader  bool
		leader     string
		candidates []string
	}{
		{"Enter a", func() (driver.Term, error) { return c.e.Enter(ctx, c.s, "a") }, true, "a", []string{"a"}},
		{"Enter b", func() (driver.Term, error) { return c.e.Enter(ctx, c.s, "b") }, false, "a", []string{"a", "b"}},
		{"Enter c", func() (driver.Term, error) { return c.e.Enter(ctx, c.s, "c") }, false, "a", []string{"a", "b", "c"}},
		{"Promote c", func() (driver.Term, error) { return c.e.Promote(ctx, "c") }, false, "a", []string{"a", "c", "b"}},
		{"Promote c again", func() (driver.Term, error) { return c.e.Promote(ctx, "c") }, true, "c", []string{"c", "a", "b"}},
		{"Anoint b", func() (driver.Term, error) { return c.e.Anoint(ctx, "b") }, true, "b", []string{"b", "c", "a"}},
		{"Evict a", func() (driver.Term, error) { return c.e.Evict(ctx, "a") }, false, "b", []string{"b", "c"}},
		{"Evict b", func() (driver.Term, error) { return c.e.Evict(ctx, "b") }, true, "c", []string{"c"}},
		{"Leave c", func() (driver.Term, error) { return c.e.Leave(ctx, "c") }, true, "", nil},
		{"Enter a again", func() (driver.Term, error) { return c.e.Enter(ctx, c.s, "a") }, true, "a", []string{"a"}},
	}
	for _, s := range steps {
		got, err := s.do()
		got = checkTerm(t, s.name, got, err, s.leader, s.candidates...)
		switch {
		case s.newLeader && got.Term <= last:
			t.Errorf("%s: term %d, want above %d (new leader)", s.name, got.Term, last)
		case !s.newLeader && got.Term != last:
			t.Errorf("%s: term %d, want %d (same leader)", s.name, got.Term, last)
		}
		last = got.Term
		if read, err := c.e.Term(ctx); err != nil || !termsEqual(read, got) {
			t.Errorf("%s: Term() = %+v, %v; want %+v", s.name, read, err, got)
		}
		if watched := w.next(t); !termsEqual(watched, got) {
			t.Errorf("%s: watch sent %+v, want %+v", s.name, watched, got)
		}
	}

	// No-ops change nothing and write nothing.
	for name, do := range map[string]func() (driver.Term, error){
		"Enter a candidate":     func() (driver.Term, error) { return c.e.Enter(ctx, c.s, "a") },
		"Anoint the leader":     func() (driver.Term, error) { return c.e.Anoint(ctx, "a") },
		"Promote the leader":    func() (driver.Term, error) { return c.e.Promote(ctx, "a") },
		"Leave a non-candidate": func() (driver.Term, error) { return c.e.Leave(ctx, "z") },
	} {
		if got, err := do(); err != nil || got.Term != last || got.Leader != "a" {
			t.Errorf("%s = %+v, %v; want the term unchanged", name, got, err)
		}
	}
	for name, do := range map[string]func() (driver.Term, error){
		"Anoint":  func() (driver.Term, error) { return c.e.Anoint(ctx, "z") },
		"Promote": func() (driver.Term, error) { return c.e.Promote(ctx, "z") },
		"Evict":   func() (driver.Term, error) { return c.e.Evict(ctx, "z") },
	} {
		if _, err := do(); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("%s of a non-candidate: %v, want ErrNotFound", name, err)
		}
	}
	select {
	case extra := <-w.ch:
		t.Errorf("the watch sent %+v after no-ops", extra)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestElectionTermOnExpiry: leases that expire with no transaction change
// the leader, and the term follows, strictly increasing, whether read or
// watched; transactions after the expiries keep it increasing.
func TestElectionTermOnExpiry(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "election"}
	observer := newElectionClient(t, prefix, id)
	w := watchTerms(t, observer.e)
	var clients []*electionClient
	for _, name := range []string{"a", "b", "c", "d"} {
		c := newElectionClient(t, prefix, id)
		if _, err := c.e.Enter(ctx, c.s, name); err != nil {
			t.Fatal(err)
		}
		w.next(t)
		clients = append(clients, c)
	}
	raw := rawClient(t)
	term, err := observer.e.Term(ctx)
	last := checkTerm(t, "before expiries", term, err, "a", "a", "b", "c", "d").Term

	expire := func(c *electionClient) {
		t.Helper()
		if _, err := raw.Revoke(ctx, c.s.lease); err != nil {
			t.Fatal(err)
		}
	}
	// b is not the leader: its expiry changes the candidates, not the term.
	expire(clients[1])
	got := checkTerm(t, "after b expired", w.next(t), nil, "a", "a", "c", "d")
	if got.Term != last {
		t.Errorf("term after a non-leader expired = %d, want %d", got.Term, last)
	}
	// A transaction now rewrites the record without b.
	e := newElectionClient(t, prefix, id)
	if _, err := e.e.Enter(ctx, e.s, "e"); err != nil {
		t.Fatal(err)
	}
	checkTerm(t, "after e entered", w.next(t), nil, "a", "a", "c", "d", "e")
	for i, c := range []*electionClient{clients[0], clients[2], clients[3], e} {
		expire(c)
		want := []string{"c", "d", "e"}[min(i, 3):]
		leader := ""
		if len(want) > 0 {
			leader = want[0]
		}
		got := checkTerm(t, "watch after an expiry", w.next(t), nil, leader, want...)
		if got.Term <= last {
			t.Fatalf("term %d after the leader expired, want above %d", got.Term, last)
		}
		read, err := observer.e.Term(ctx)
		if err != nil || !termsEqual(read, got) {
			t.Fatalf("Term() = %+v, %v; the watch said %+v", read, err, got)
		}
		last = got.Term
	}
	if got, err := observer.e.Enter(ctx, observer.s, "f"); err != nil || got.Term <= last || got.Leader != "f" {
		t.Errorf("Enter after every expiry = %+v, %v; want leader f above term %d", got, err, last)
	}
}

// TestElectionConcurrentEnter: candidates entering at once each get one
// place, and the first one's term is the only leadership term.
func TestElectionConcurrentEnter(t *testing.T) {
	ctx := testContext(t)
	prefix, id := testPrefix(t), driver.ID{Name: "election"}
	const n = 5
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		c := newElectionClient(t, prefix, id)
		go func(name string) {
			_, err := c.e.Enter(ctx, c.s, name)
			errs <- err
		}(string(rune('a' + i)))
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	term, err := newElectionClient(t, prefix, id).e.Term(ctx)
	if err != nil || len(term.Candidates) != n || term.Leader != term.Candidates[0] {
		t.Errorf("Term = %+v, %v; want %d candidates", term, err, n)
	}
}

func TestElectionRecordEncoding(t *testing.T) {
	for _, q := range [][]string{nil, {""}, {"a", "b/c", "\x00\xff"}} {
		term, got, err := decodeElectionRecord(encodeElectionRecord(42, q))
		if err != nil || term != 42 || !slices.Equal(got, q) {
			t.Errorf("round trip of %q = %d %q %v", q, term, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {2}, {1}, {1, 5, 3, 'a'}} {
		if _, _, err := decodeElectionRecord(bad); err == nil {
			t.Errorf("decodeElectionRecord(%v) accepted a malformed record", bad)
		}
	}
}
