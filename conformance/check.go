package conformance

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
)

// expect returns a function that fails t unless the call it is given
// returned want and no error:
//
//	expect(t, int64(3))(c.Increment(ctx, 1))
func expect[T any](t testing.TB, want T, msgAndArgs ...any) func(T, error) {
	return func(got T, err error) {
		t.Helper()
		require.NoError(t, err, msgAndArgs...)
		require.Equal(t, want, got, msgAndArgs...)
	}
}

// errOf returns the error of a two-result call.
func errOf[T any](_ T, err error) error { return err }

// errOf3 returns the error of a three-result call.
func errOf3[A, B any](_ A, _ B, err error) error { return err }

// drain runs an iteration to its end and returns what it yielded before an
// error, the number of errors yielded (at most one is allowed), and the error.
func drain[T any](seq iter.Seq2[T, error]) (items []T, errs int, err error) {
	for v, e := range seq {
		if e != nil {
			errs++
			err = e
			continue
		}
		if errs == 0 {
			items = append(items, v)
		}
	}
	return items, errs, err
}

// iterate runs an iteration that must succeed and returns what it yielded.
func iterate[T any](t testing.TB, seq iter.Seq2[T, error]) []T {
	t.Helper()
	items, errs, err := drain(seq)
	require.NoError(t, err, "iteration")
	require.Zero(t, errs)
	return items
}

// requireIterClosed checks that an iteration over a closed primitive yields
// exactly one error, ErrClosed, and nothing else.
func requireIterClosed[T any](t testing.TB, what string, seq iter.Seq2[T, error]) {
	t.Helper()
	items, errs, err := drain(seq)
	require.Empty(t, items, "%s yielded items", what)
	require.Equal(t, 1, errs, "%s must yield exactly one error", what)
	require.ErrorIs(t, err, atomix.ErrClosed, what)
}

// requireClosedErrors checks that every call listed failed with ErrClosed.
func requireClosedErrors(t testing.TB, calls map[string]error) {
	t.Helper()
	for op, err := range calls {
		require.ErrorIs(t, err, atomix.ErrClosed, "%s on a closed primitive", op)
	}
}

// isDone reports whether ch is closed, without waiting.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// requireDoneWithin fails t unless ch closes within d.
func requireDoneWithin(t testing.TB, ch <-chan struct{}, d time.Duration, msgAndArgs ...any) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		require.FailNow(t, "not closed within "+d.String(), msgAndArgs...)
	}
}

// async runs f in a goroutine and returns a channel that receives its
// result. Assertions on the result belong to the test goroutine.
func async[T any](f func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := f()
		ch <- result[T]{v, err}
	}()
	return ch
}

// result is what an async call returned.
type result[T any] struct {
	val T
	err error
}

// await returns the result of an async call, failing t if it does not come
// within d.
func await[T any](t testing.TB, ch <-chan result[T], d time.Duration, msgAndArgs ...any) result[T] {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r
	case <-timer.C:
		require.FailNow(t, "no result within "+d.String(), msgAndArgs...)
		panic("unreachable")
	}
}

// requirePending fails t if the async call returns within d.
func requirePending[T any](t testing.TB, ch <-chan result[T], d time.Duration, msgAndArgs ...any) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-ch:
		require.FailNow(t, "returned while it should still be blocked", "result %v, error %v; %v", r.val, r.err, msgAndArgs)
	case <-timer.C:
	}
}

// concurrently runs f(0) … f(n-1) in goroutines and fails t with the errors
// they return.
func concurrently(t testing.TB, n int, f func(i int) error) {
	t.Helper()
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- f(i) }()
	}
	for range n {
		require.NoError(t, <-errs)
	}
}

// casLoop calls try until it has succeeded n times; try reports false for a
// lost race, which is retried until ctx ends.
func casLoop(ctx context.Context, n int, try func() (bool, error)) error {
	for done := 0; done < n; {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("after %d of %d successes: %w", done, n, err)
		}
		ok, err := try()
		if err != nil {
			return err
		}
		if ok {
			done++
		}
	}
	return nil
}

// requireCloseAgain checks that closing again is harmless.
func requireCloseAgain(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		require.ErrorIs(t, err, atomix.ErrClosed, "a second Close")
	}
}

// versionTracker checks that the versions of successive writes strictly
// increase.
type versionTracker struct {
	t    testing.TB
	last uint64
}

func (v *versionTracker) next(version uint64, what string) {
	v.t.Helper()
	require.Greater(v.t, version, v.last, "%s: versions must strictly increase", what)
	v.last = version
}

// expectErr returns nil if err is target, else an error saying what came.
func expectErr(err, target error, format string, args ...any) error {
	if errors.Is(err, target) {
		return nil
	}
	return fmt.Errorf("%s: want %v, got %v", fmt.Sprintf(format, args...), target, err)
}
