package consul

import (
	"fmt"
	"testing"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

func termString(t driver.Term) string {
	return fmt.Sprintf("%d %q %q", t.Term, t.Leader, t.Candidates)
}

func TestElectionRepairAfterExpiry(t *testing.T) {
	ctx := testContext(t)
	addr, prefix := testbackend.Consul(t), testPrefix(t)
	d1, d2 := testDriverAt(t, addr, prefix), testDriverAt(t, addr, prefix)
	s1, s2 := testSession(t, d1), testSession(t, d2)
	e1, _ := d1.OpenElection(ctx, testID("e"))
	e2, _ := d2.OpenElection(ctx, testID("e"))
	first, _ := e1.Enter(ctx, s1, "same")
	// The leader's key disappears without a transaction (as on expiry),
	// and the same candidate enters again with another session: a new
	// leader, so a new term.
	if _, err := d1.client.Session().Destroy(s1.ID(), nil); err != nil {
		t.Fatal(err)
	}
	second, err := e2.Enter(ctx, s2, "same")
	if err != nil || second.Leader != "same" || second.Term <= first.Term {
		t.Fatalf("Enter after the leader's session ended = %s, %v; first term %s", termString(second), err, termString(first))
	}
	if now, err := e1.Term(ctx); err != nil || termString(now) != termString(second) {
		t.Fatalf("Term = %s, %v", termString(now), err)
	}
}
