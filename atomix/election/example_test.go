package election_test

import (
	"context"
	"fmt"
	"log"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
	"github.com/atomix/go-client/atomix/primitive"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

// Candidates queue first come, first served; Promote, Anoint and Evict
// reorder them.
func Example() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://election-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	var last election.Term
	for _, id := range []string{"a", "b", "c"} {
		e, err := client.GetElection(ctx, "primary", primitive.WithSessionID(id))
		if err != nil {
			log.Fatal(err)
		}
		term, err := e.Enter(ctx)
		if err != nil {
			log.Fatal(err)
		}
		last = term
	}
	fmt.Println(last.Leader, last.Candidates)

	e, err := client.GetElection(ctx, "primary")
	if err != nil {
		log.Fatal(err)
	}
	term, err := e.Promote(ctx, "c")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(term.Leader, term.Candidates)
	term, err = e.Anoint(ctx, "c")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(term.Leader, term.Candidates)
	term, err = e.Evict(ctx, "c")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(term.Leader, term.Candidates)
	// Output:
	// a [a b c]
	// a [a c b]
	// c [c a b]
	// a [a b]
}

// Lead runs work only while this instance leads: the context it returns
// ends as soon as leadership does (another candidate anointed here).
func ExampleElection_Lead() {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://lead-example")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)

	a, err := client.GetElection(ctx, "scheduler", primitive.WithSessionID("a"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := client.GetElection(ctx, "scheduler", primitive.WithSessionID("b"))
	if err != nil {
		log.Fatal(err)
	}
	leading, term, err := a.Lead(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("a leads term", term.Term)
	if _, err := b.Enter(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := b.Anoint(ctx, "b"); err != nil {
		log.Fatal(err)
	}
	<-leading.Done() // the work under a's leadership stops here
	fmt.Println("a stopped leading:", context.Cause(leading) != nil)
	// Output:
	// a leads term 1
	// a stopped leading: true
}
