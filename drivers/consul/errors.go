package consul

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
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

// classify turns an error from the Consul API into one that wraps exactly
// one driver.Err* kind (or the caller's context error). what names the
// request in the message.
func classify(ctx context.Context, what string, err error, a access) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if a == writing && !notSent(err) {
			return fmt.Errorf("%w: consul %s interrupted by the caller's context: %w", driver.ErrAmbiguous, what, ctxErr)
		}
		return fmt.Errorf("consul %s: %w", what, ctxErr)
	}
	var se api.StatusError
	if errors.As(err, &se) {
		return statusError(what, se.Code, se.Body, a)
	}
	if notSent(err) {
		return fmt.Errorf("%w: consul %s: %v", driver.ErrUnavailable, what, err)
	}
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	switch {
	case a == writing:
		return fmt.Errorf("%w: consul %s: the request was sent but its answer was lost: %v", driver.ErrAmbiguous, what, err)
	case timeout:
		return fmt.Errorf("%w: consul %s: %v", driver.ErrTimeout, what, err)
	default:
		return fmt.Errorf("%w: consul %s: %v", driver.ErrUnavailable, what, err)
	}
}

// statusError classifies an HTTP error answer from the agent.
func statusError(what string, code int, body string, a access) error {
	kind := driver.ErrUnavailable
	switch {
	case code == http.StatusBadRequest:
		kind = driver.ErrInvalid
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		kind = driver.ErrInvalid
		body += " (check the ACL token)"
	case code == http.StatusNotFound:
		kind = driver.ErrNotFound
	case code == http.StatusConflict:
		kind = driver.ErrConflict
	case code == http.StatusRequestEntityTooLarge:
		kind = driver.ErrInvalid
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		kind = driver.ErrUnavailable
	case a == writing && !rejectedBeforeApply(body):
		kind = driver.ErrAmbiguous
	case code == http.StatusGatewayTimeout:
		kind = driver.ErrTimeout
	}
	return fmt.Errorf("%w: consul %s: HTTP %d: %s", kind, what, code, body)
}

// rejectedBeforeApply reports whether a server error says that a write was
// turned away before it reached the raft log. Any other server error on a
// write leaves its outcome unknown.
func rejectedBeforeApply(body string) bool {
	for _, s := range []string{
		"No cluster leader",
		"No path to datacenter",
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
// agent: the connection or the TLS handshake failed.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	var header tls.RecordHeaderError
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &verify) || errors.As(err, &header)
}

// errClosed is returned by everything used after its driver or primitive
// was closed.
func errClosed(what string) error {
	return fmt.Errorf("%w: consul %s", driver.ErrClosed, what)
}
