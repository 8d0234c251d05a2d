package redis

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// classify returns the error kind of err, an error from go-redis, and
// whether err is the caller's context ending (then the kind is nil). write
// says whether the command may have changed state: a write whose reply was
// lost is ErrAmbiguous, where a read that failed the same way is
// ErrUnavailable or ErrTimeout.
func classify(err error, write bool) (kind error, fromContext bool) {
	var rerr goredis.Error
	switch {
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
// replica, the cluster is down or its topology changed under the command,
// memory is full, a script is busy) are ErrUnavailable: nothing was applied, and a script that fails on its first
// write changes nothing either. Refused credentials or permissions are
// ErrPermission, also a command of a script that the user's ACL denies.
func serverErrorKind(msg string) error {
	prefix, _, _ := strings.Cut(msg, " ")
	switch prefix {
	case "NOAUTH", "WRONGPASS", "NOPERM":
		return driver.ErrPermission
	case "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY",
		"OOM", "NOREPLICAS", "MISCONF":
		return driver.ErrUnavailable
	case "MOVED", "ASK":
		// A Redis Cluster redirect that outlived go-redis's redirects and
		// the driver's own retries (redirectHook): the nodes disagree
		// about who serves the slot, as during a failover. Nothing ran.
		return driver.ErrUnavailable
	case "ERR":
		if strings.Contains(msg, "max number of clients") {
			return driver.ErrUnavailable
		}
		// Redis 7.0 reports a command of a script that the user's ACL
		// denies (PUBLISH to a channel it may not publish to, a key it
		// may not write) as a script error starting with this text. The
		// scripts publish before writing, so nothing was applied.
		if strings.Contains(msg, "The user executing the script can't") {
			return driver.ErrPermission
		}
	}
	// WRONGTYPE (a key of the primitive holds something else) and script
	// errors: the request cannot be served as it stands.
	return driver.ErrInvalid
}

// wrapError turns err from go-redis into the driver's error: a
// driver.Error of its kind with err as the cause. write says whether the
// command may have changed state.
//
// When ctx has ended, a read reports ctx.Err() and a write that may have
// been applied reports driver.Interrupted (ErrAmbiguous and ctx.Err()).
func wrapError(ctx context.Context, err error, write bool) error {
	if driver.IsClassified(err) {
		return err
	}
	if tlsErr := driver.TLSFailure("the server", err); tlsErr != nil {
		// A certificate that does not verify fails the handshake, before
		// anything is sent; a server's alert refuses the connection at its
		// first read, before any command runs.
		return tlsErr
	}
	kind, fromContext := classify(err, write)
	if fromContext {
		return err
	}
	switch kind {
	case driver.ErrTimeout, driver.ErrUnavailable, driver.ErrAmbiguous:
		if ierr := driver.Interrupted(ctx, kind == driver.ErrAmbiguous); ierr != nil {
			return ierr
		}
	}
	return driver.Wrap(kind, err, "")
}
