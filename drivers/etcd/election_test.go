package etcd

import (
	"slices"
	"testing"

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
		if err != nil || !read.Equal(got) {
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
