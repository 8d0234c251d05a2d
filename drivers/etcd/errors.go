package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/atomix/go-client/driver"
)

// opKind says whether a failed request could have changed the backend,
// which decides between ErrUnavailable and ErrAmbiguous.
type opKind bool

const (
	read  opKind = false
	write opKind = true
)

// errorf returns an error wrapping the sentinel kind, with the operation
// named: "etcd: map put: conflict".
func errorf(op string, kind error, format string, args ...any) error {
	if format == "" {
		return fmt.Errorf("etcd: %s: %w", op, kind)
	}
	return fmt.Errorf("etcd: %s: %w: %s", op, kind, fmt.Sprintf(format, args...))
}

// ambiguousContextError is returned when the caller's context ended while a
// write was in flight: the error is the context's (errors.Is matches
// context.Canceled or context.DeadlineExceeded) and also ErrAmbiguous,
// because the server may have applied the write.
type ambiguousContextError struct {
	op  string
	ctx error
}

func (e *ambiguousContextError) Error() string {
	return fmt.Sprintf("etcd: %s: %v: %v", e.op, e.ctx, driver.ErrAmbiguous)
}

func (e *ambiguousContextError) Unwrap() []error { return []error{e.ctx, driver.ErrAmbiguous} }

// classify turns an error from clientv3 into one wrapping exactly one of the
// driver's error kinds (or the caller's context error).
//
// Writes: clientv3 never retries a mutation once it may have reached the
// server, and waits for a ready connection before sending (gRPC
// WaitForReady), so a transport failure on a write means the request may
// have been applied: ErrAmbiguous. Server answers that say the request was
// not applied (no leader, too many requests, no space) are ErrUnavailable.
func (d *Driver) classify(ctx context.Context, op string, kind opKind, err error) error {
	if err == nil {
		return nil
	}
	var de driverError
	if errors.As(err, &de) {
		return err // already classified
	}
	if ctxErr := ctx.Err(); ctxErr != nil && isContextError(err) {
		if kind == write {
			return &ambiguousContextError{op: op, ctx: ctxErr}
		}
		return fmt.Errorf("etcd: %s: %w", op, ctxErr)
	}
	if d.isClosed() {
		return errorf(op, driver.ErrClosed, "driver closed")
	}
	sentinel := d.kindOf(err, kind)
	return &classifiedError{op: op, kind: sentinel, err: err}
}

// driverError marks errors that already carry a driver kind.
type driverError interface {
	error
	driverKind() error
}

// classifiedError wraps a backend error with the driver kind it maps to.
type classifiedError struct {
	op   string
	kind error
	err  error
}

func (e *classifiedError) Error() string {
	return fmt.Sprintf("etcd: %s: %v: %v", e.op, e.kind, e.err)
}

func (e *classifiedError) Unwrap() []error { return []error{e.kind, e.err} }

func (e *classifiedError) driverKind() error { return e.kind }

func (e *ambiguousContextError) driverKind() error { return driver.ErrAmbiguous }

func isContextError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if s, ok := status.FromError(err); ok {
		return s.Code() == codes.Canceled || s.Code() == codes.DeadlineExceeded
	}
	return false
}

// kindOf maps a backend error to a driver error kind.
func (d *Driver) kindOf(err error, kind opKind) error {
	ambiguousIfWrite := func(otherwise error) error {
		if kind == write {
			return driver.ErrAmbiguous
		}
		return otherwise
	}
	var etcdErr rpctypes.EtcdError
	if errors.As(err, &etcdErr) {
		switch etcdErr {
		case rpctypes.ErrLeaseNotFound:
			return driver.ErrClosed // the session's lease is gone
		case rpctypes.ErrNoLeader, rpctypes.ErrNotCapable, rpctypes.ErrUnhealthy,
			rpctypes.ErrTooManyRequests, rpctypes.ErrNoSpace, rpctypes.ErrCompacted:
			return driver.ErrUnavailable // rejected before it was proposed
		case rpctypes.ErrTimeout, rpctypes.ErrTimeoutDueToLeaderFail,
			rpctypes.ErrTimeoutDueToConnectionLost, rpctypes.ErrTimeoutWaitAppliedIndex:
			return ambiguousIfWrite(driver.ErrTimeout) // proposed; may still commit
		case rpctypes.ErrLeaderChanged, rpctypes.ErrStopped:
			return ambiguousIfWrite(driver.ErrUnavailable)
		}
		switch etcdErr.Code() {
		case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition,
			codes.PermissionDenied, codes.Unauthenticated:
			// request too large, too many operations in a txn, bad
			// credentials, permission denied: retrying cannot help.
			return driver.ErrInvalid
		case codes.Unavailable:
			return ambiguousIfWrite(driver.ErrUnavailable)
		case codes.DeadlineExceeded:
			return ambiguousIfWrite(driver.ErrTimeout)
		}
		return ambiguousIfWrite(driver.ErrUnavailable)
	}
	if errors.Is(err, clientv3.ErrNoAvailableEndpoints) {
		return driver.ErrUnavailable
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.ResourceExhausted:
			// gRPC refused to send a message over its size limit.
			return driver.ErrInvalid
		case codes.InvalidArgument, codes.OutOfRange, codes.PermissionDenied, codes.Unauthenticated:
			return driver.ErrInvalid
		case codes.Canceled:
			// The client connection is closing.
			return driver.ErrClosed
		case codes.DeadlineExceeded:
			return ambiguousIfWrite(driver.ErrTimeout)
		}
	}
	return ambiguousIfWrite(driver.ErrUnavailable)
}
