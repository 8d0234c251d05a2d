package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// classify returns the error kind of err, an error from go-redis, and
// whether err is the caller's context ending (then the kind is nil and err
// is returned as it is). write says whether the command may have changed
// state: a write whose reply was lost is ErrAmbiguous, where a read that
// failed the same way is ErrUnavailable or ErrTimeout.
func classify(err error, write bool) (kind error, fromContext bool) {
	var rerr goredis.Error
	var bad errBadReply
	switch {
	case errors.As(err, &bad):
		return driver.ErrInvalid, false
	case errors.Is(err, goredis.ErrClosed):
		return driver.ErrClosed, false
	case errors.As(err, &rerr):
		return serverErrorKind(rerr.Error()), false
	case isDialError(err):
		// The connection was never made: nothing was sent.
		return driver.ErrUnavailable, false
	case errors.Is(err, goredis.ErrPoolTimeout):
		// No connection was free in time: nothing was sent.
		return driver.ErrTimeout, false
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		if write {
			return driver.ErrAmbiguous, false
		}
		return driver.ErrTimeout, false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// go-redis reports the context's own error only before it sends a
		// command (waiting for a pooled connection, dialing); once a command
		// is on the wire a deadline shows as a network timeout, above.
		return nil, true
	}
	if write {
		// EOF, a reset connection or anything else after the command may
		// have been written: the outcome is unknown.
		return driver.ErrAmbiguous, false
	}
	return driver.ErrUnavailable, false
}

// isDialError reports whether err happened while connecting.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// serverErrorKind classifies an error reply of the server. Replies that
// mean the command was refused before it ran (the server is loading, is a
// replica, the cluster is down, memory is full, a script is busy, the
// client is not allowed) are ErrUnavailable: nothing was applied, and a
// script that fails on its first write changes nothing either.
func serverErrorKind(msg string) error {
	prefix, _, _ := strings.Cut(msg, " ")
	switch prefix {
	case "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY",
		"OOM", "NOREPLICAS", "MISCONF", "NOAUTH", "WRONGPASS", "NOPERM":
		return driver.ErrUnavailable
	case "ERR":
		if strings.Contains(msg, "max number of clients") {
			return driver.ErrUnavailable
		}
	}
	// WRONGTYPE (a key of the primitive holds something else) and script
	// errors: the request cannot be served as it stands.
	return driver.ErrInvalid
}

// describe names a primitive in messages: its kind and quoted ID.
func describe(kind string, id driver.ID) string {
	if id.Namespace == "" {
		return kind + " " + strconv.Quote(id.Name)
	}
	return kind + " " + strconv.Quote(id.Namespace) + "/" + strconv.Quote(id.Name)
}

// keyOp names an operation on key in an error message.
func keyOp(op, key string) string {
	const maxShown = 64
	if len(key) > maxShown {
		return op + " " + strconv.Quote(key[:maxShown]) + "…"
	}
	return op + " " + strconv.Quote(key)
}

// wrapError turns err from go-redis into the driver's error for op on what.
//
// When ctx has ended, a read reports ctx.Err() and a write that may have
// been applied reports ErrAmbiguous wrapping ctx.Err() as well, so that
// errors.Is finds both.
func wrapError(ctx context.Context, what, op string, err error, write bool) error {
	kind, fromContext := classify(err, write)
	if fromContext {
		return fmt.Errorf("redis: %s: %s: %w", what, op, err)
	}
	if cerr := ctx.Err(); cerr != nil && (kind == driver.ErrTimeout || kind == driver.ErrUnavailable || kind == driver.ErrAmbiguous) {
		if kind == driver.ErrAmbiguous {
			return fmt.Errorf("redis: %s: %s: %w: %w: %v", what, op, kind, cerr, err)
		}
		return fmt.Errorf("redis: %s: %s: %w: %v", what, op, cerr, err)
	}
	return fmt.Errorf("redis: %s: %s: %w: %v", what, op, kind, err)
}
