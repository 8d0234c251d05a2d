package consul

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/driver"
)

// access says whether a failed request could have changed the backend's
// state, which decides between ErrUnavailable and ErrAmbiguous.
type access int

const (
	reading access = iota
	writing
)

// classify turns an error from the Consul API into a *driver.Error whose
// cause is the API's error (an api.StatusError, a *url.Error, …), or into
// the caller's context error by driver.Interrupted's rule.
func classify(ctx context.Context, err error, a access) error {
	if err == nil {
		return nil
	}
	if ue, ok := err.(*url.Error); ok {
		err = requestError{ue}
	}
	if tlsErr := driver.TLSFailure("the agent", err); tlsErr != nil {
		// Certificates that do not verify and refused client certificates
		// end the connection before any request is read.
		return tlsErr
	}
	if errors.Is(err, http.ErrSchemeMismatch) {
		return driver.Wrap(driver.ErrInvalid, err, "the agent does not speak TLS")
	}
	if ierr := driver.Interrupted(ctx, a == writing && !notSent(err)); ierr != nil {
		return ierr
	}
	var se api.StatusError
	if errors.As(err, &se) {
		return driver.Wrap(statusKind(se.Code, se.Body, a), err, "")
	}
	if notSent(err) {
		return driver.Wrap(driver.ErrUnavailable, err, "")
	}
	var ne net.Error
	switch {
	case a == writing:
		return driver.Wrap(driver.ErrAmbiguous, err, "the request was sent but its answer was lost")
	case errors.As(err, &ne) && ne.Timeout():
		return driver.Wrap(driver.ErrTimeout, err, "")
	default:
		return driver.Wrap(driver.ErrUnavailable, err, "")
	}
}

// requestError is an HTTP request to the agent that failed. Its text leaves
// out the request's URL, which repeats the primitive's path and the key that
// the portable layer names; errors.As still reaches the *url.Error and the
// network error below it.
type requestError struct{ err *url.Error }

func (e requestError) Error() string { return e.err.Err.Error() }
func (e requestError) Unwrap() error { return e.err }

// statusKind classifies an HTTP error answer from the agent.
func statusKind(code int, body string, a access) error {
	switch {
	case code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge:
		return driver.ErrInvalid
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return driver.ErrPermission
	case code == http.StatusNotFound:
		return driver.ErrNotFound
	case code == http.StatusConflict:
		return driver.ErrConflict
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return driver.ErrUnavailable
	case a == writing && !rejectedBeforeApply(body):
		return driver.ErrAmbiguous
	case code == http.StatusGatewayTimeout:
		return driver.ErrTimeout
	}
	return driver.ErrUnavailable
}

// rejectedBeforeApply reports whether a server error says that a write was
// turned away before it reached the raft log. Any other server error on a
// write leaves its outcome unknown.
func rejectedBeforeApply(body string) bool {
	for _, s := range []string{
		"No cluster leader",
		"No path to datacenter",
		// The server that took the request could not open a connection
		// to the leader to forward it (a leader just lost): the RPC was
		// never made.
		"rpc error getting client",
		"rate limit",
		"timed out enqueuing operation",
		"Permission denied",
		"ACL not found",
	} {
		if strings.Contains(body, s) {
			return true
		}
	}
	return false
}

// notSent reports whether err happened before the request could reach the
// agent: the connection could not be made. (A failed TLS handshake is
// classified before, by driver.TLSFailure.)
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect")
}

var (
	// errClosed is returned by everything used after its driver or
	// primitive was closed.
	errClosed = driver.Errorf(driver.ErrClosed, "")
	// errSessionEnded is returned by a call bound to a session that ended.
	errSessionEnded = driver.Errorf(driver.ErrClosed, "the session has ended")
	// errVersion is the conflict of a write whose version precondition
	// failed.
	errVersion = driver.Errorf(driver.ErrConflict, "the version does not match")
	// errNotFound is the plain ErrNotFound.
	errNotFound = driver.Errorf(driver.ErrNotFound, "")
)

// errCorrupt reports a stored value that this driver did not write.
func errCorrupt(cause error) error {
	return driver.Wrap(driver.ErrInvalid, cause, "not a value this driver wrote")
}
