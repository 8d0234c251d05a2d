package atomix

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Primitive: "map", Name: "users", Op: "put", Key: "k", Err: ErrConflict},
			`atomix: map "users": put "k": conflict`},
		{&Error{Primitive: "counter", Name: "hits", Op: "increment", Err: fmt.Errorf("%w: connection refused", ErrUnavailable)},
			`atomix: counter "hits": increment: unavailable: connection refused`},
		{&Error{Primitive: "list", Name: "l", Op: "get", Key: 3, Err: ErrNotFound},
			`atomix: list "l": get 3: not found`},
		{&Error{Primitive: "set", Name: "s", Op: "add", Key: []byte("a\x00"), Err: ErrClosed},
			`atomix: set "s": add "a\x00": closed`},
		{&Error{Primitive: "value", Name: "v", Op: "get", Err: context.DeadlineExceeded},
			`atomix: value "v": get: timeout: context deadline exceeded`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	deadline := &Error{Primitive: "map", Name: "m", Op: "get", Key: "k", Err: context.DeadlineExceeded}
	for _, target := range []error{ErrTimeout, context.DeadlineExceeded} {
		if !errors.Is(deadline, target) {
			t.Errorf("deadline error does not match %v", target)
		}
	}
	if errors.Is(deadline, context.Canceled) || errors.Is(deadline, ErrUnavailable) {
		t.Error("deadline error matches an unrelated error")
	}

	// A driver that already says ErrTimeout while wrapping the deadline is
	// not told twice.
	both := &Error{Primitive: "map", Name: "m", Op: "get", Err: fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)}
	if got, want := both.Error(), `atomix: map "m": get: timeout: context deadline exceeded`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	canceled := &Error{Primitive: "lock", Name: "l", Op: "lock", Err: context.Canceled}
	if !errors.Is(canceled, context.Canceled) || errors.Is(canceled, ErrTimeout) {
		t.Error("canceled error: want context.Canceled and not ErrTimeout")
	}

	wrapped := &Error{Primitive: "map", Name: "m", Op: "put", Err: fmt.Errorf("redis: %w", ErrAmbiguous)}
	if !errors.Is(wrapped, ErrAmbiguous) {
		t.Error("driver classification lost")
	}
	var e *Error
	if !errors.As(fmt.Errorf("outer: %w", wrapped), &e) || e.Op != "put" {
		t.Error("errors.As does not find *Error")
	}
}
