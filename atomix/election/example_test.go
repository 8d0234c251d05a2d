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
