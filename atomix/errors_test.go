package atomix

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// TestErrorMessageCutsLongNamesAndKeys checks that a message shows at most
// 64 bytes of a name or key, then the full length, while the fields keep
// the whole values.
func TestErrorMessageCutsLongNamesAndKeys(t *testing.T) {
	const mib = 1 << 20
	long := strings.Repeat("n", mib)
	e := &Error{Primitive: "map", Name: long, Op: "put", Key: strings.Repeat("k", mib), Err: ErrConflict}
	want := `atomix: map "` + strings.Repeat("n", 64) + `"…(1048576 bytes): put "` +
		strings.Repeat("k", 64) + `"…(1048576 bytes): conflict`
	if got := e.Error(); got != want {
		t.Errorf("got  %.300s\nwant %s", got, want)
	}
	if len(e.Name) != mib || len(e.Key.(string)) != mib {
		t.Error("the fields lost the full name or key")
	}

	for _, tc := range []struct {
		key  any
		want string
	}{
		// A character that would straddle the cut is left out whole.
		{strings.Repeat("x", 62) + "é€", `"` + strings.Repeat("x", 62) + `é"…(67 bytes)`},
		{strings.Repeat("x", 63) + "€", `"` + strings.Repeat("x", 63) + `"…(66 bytes)`},
		{[]byte(strings.Repeat("b", 100)), `"` + strings.Repeat("b", 64) + `"…(100 bytes)`},
		{struct{ S string }{strings.Repeat("s", 100)}, "{" + strings.Repeat("s", 63) + "…(102 bytes)"},
		{strings.Repeat("y", 64), `"` + strings.Repeat("y", 64) + `"`},
	} {
		e := &Error{Primitive: "set", Name: "s", Op: "add", Key: tc.key, Err: ErrInvalid}
		want := `atomix: set "s": add ` + tc.want + `: invalid argument`
		if got := e.Error(); got != want {
			t.Errorf("key %.20q…:\ngot  %s\nwant %s", fmt.Sprint(tc.key), got, want)
		}
	}
}
