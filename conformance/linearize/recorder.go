package linearize

import (
	"context"
	"errors"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/atomix/go-client/atomix"
)

// Recorder collects the operations of several concurrent clients into one
// history. It is safe for concurrent use. Times are taken from one monotonic
// clock, started by NewRecorder.
type Recorder struct {
	start time.Time

	mu  sync.Mutex
	ops []porcupine.Operation
}

// NewRecorder returns an empty Recorder whose clock starts now.
func NewRecorder() *Recorder {
	return &Recorder{start: time.Now()}
}

func (r *Recorder) now() int64 {
	return int64(time.Since(r.start))
}

// Call is one operation in flight, returned by Recorder.Begin. Exactly one
// of Return, Pending or Drop ends it; the first one called counts and later
// calls do nothing.
type Call struct {
	r      *Recorder
	client int
	input  any
	call   int64
	once   sync.Once
}

// Begin records that client (numbered from 0) is about to send the
// operation input. Call it before the request leaves.
func (r *Recorder) Begin(client int, input any) *Call {
	return &Call{r: r, client: client, input: input, call: r.now()}
}

// Return records that the operation completed with output. Call it after
// the reply arrived.
func (c *Call) Return(output any) {
	c.once.Do(func() {
		ret := c.r.now()
		c.r.add(porcupine.Operation{ClientId: c.client, Input: c.input, Call: c.call, Output: output, Return: ret})
	})
}

// Pending records that the operation's outcome is unknown: it may have
// taken effect at any time after its call, or never. output is what the
// model receives for it; the models of this package accept any output
// whose Unknown field is set.
func (c *Call) Pending(output any) {
	c.once.Do(func() {
		c.r.add(porcupine.Operation{ClientId: c.client, Input: c.input, Call: c.call, Output: output, Return: math.MaxInt64})
	})
}

// Drop leaves the operation out of the history: a read whose outcome is
// unknown, or a write known not to have been applied.
func (c *Call) Drop() {
	c.once.Do(func() {})
}

func (r *Recorder) add(op porcupine.Operation) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// Operations returns a copy of the history recorded so far, ordered by
// call time.
func (r *Recorder) Operations() []porcupine.Operation {
	r.mu.Lock()
	ops := append([]porcupine.Operation(nil), r.ops...)
	r.mu.Unlock()
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	return ops
}

// Len returns the number of operations recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops)
}

// Unknown reports whether an operation that returned err may or may not
// have taken effect: err is atomix.ErrAmbiguous or atomix.ErrTimeout, or
// the operation's context ended (context.Canceled, context.DeadlineExceeded)
// while it was in flight, or any error this package cannot classify (a
// write that failed for a reason the caller did not expect is treated as
// possibly applied, never as certainly not). It returns false for nil and
// for the errors that state a definite outcome: ErrNotFound,
// ErrAlreadyExists, ErrConflict, ErrInvalid, ErrPermission, ErrClosed and
// ErrNotSupported (the operation was refused and changed nothing), and
// ErrUnavailable (the backend could not be reached: by the driver contract,
// nothing was applied; a history checks that claim).
func Unknown(err error) bool {
	if err == nil {
		return false
	}
	for _, definite := range []error{
		atomix.ErrNotFound, atomix.ErrAlreadyExists, atomix.ErrConflict, atomix.ErrInvalid,
		atomix.ErrPermission, atomix.ErrClosed, atomix.ErrNotSupported, atomix.ErrUnavailable,
	} {
		if errors.Is(err, definite) && !errors.Is(err, atomix.ErrAmbiguous) && !errors.Is(err, atomix.ErrTimeout) &&
			!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return false
		}
	}
	return true
}
