package linearize_test

import (
	"fmt"
	"time"

	"github.com/atomix/go-client/conformance/linearize"
)

// Record the operations of concurrent clients, then check the history.
func Example() {
	rec := linearize.NewRecorder()

	put := rec.Begin(0, linearize.MapInput{Op: linearize.Put, Key: "k", Value: "a"})
	put.Return(linearize.MapOutput{})

	get := rec.Begin(1, linearize.MapInput{Op: linearize.Get, Key: "k"})
	get.Return(linearize.MapOutput{Value: "a", OK: true})

	// A write that timed out: it may or may not have been applied.
	lost := rec.Begin(0, linearize.MapInput{Op: linearize.Put, Key: "k", Value: "b"})
	lost.Pending(linearize.MapOutput{Unknown: true})

	r := linearize.Check(linearize.MapModel(), rec.Operations(), 10*time.Second)
	fmt.Println(r.Verdict, r.Ops)
	// Output: Ok 3
}
