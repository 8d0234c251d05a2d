package atomix_test

import (
	"encoding/hex"
	"testing"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/primitive"
)

func TestElectionIDs(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	a, _ := c.GetElection(ctx, "e")
	b, _ := c.GetElection(ctx, "e")
	if a.ID() == b.ID() {
		t.Fatalf("two instances share the default ID %q", a.ID())
	}
	if b, err := hex.DecodeString(a.ID()); err != nil || len(b) != 16 {
		t.Fatalf("default ID %q is not 16 random bytes in hex", a.ID())
	}
	n, err := c.GetElection(ctx, "e", primitive.WithSessionID("node-1"))
	if err != nil {
		t.Fatal(err)
	}
	if n.ID() != "node-1" {
		t.Fatalf("ID %q, want node-1", n.ID())
	}
	term, err := n.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if term.Leader != "node-1" {
		t.Fatalf("leader %q", term.Leader)
	}
	_, err = a.Anoint(ctx, "nobody")
	wantErr(t, err, atomix.ErrNotFound, `atomix: election "e" (memory): anoint "nobody": `)
}

func TestElectionCloseLeaves(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	a, _ := c.GetElection(ctx, "e")
	b, _ := c.GetElection(ctx, "e")
	if _, err := a.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Enter(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	term, err := b.GetTerm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if term.Leader != b.ID() || len(term.Candidates) != 1 {
		t.Fatalf("after the leader's Close: %+v, want %s alone", term, b.ID())
	}
	_, err = a.Enter(ctx)
	wantErr(t, err, atomix.ErrClosed)
}
