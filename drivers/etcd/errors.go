package etcd

import (
	"context"
	"errors"

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

// Errors the driver returns without a backend cause.
var (
	errClosed       = &driver.Error{Kind: driver.ErrClosed}
	errDriverClosed = &driver.Error{Kind: driver.ErrClosed, Detail: "the driver is closed"}
)

// The answers of failed preconditions.
var (
	errNotFound       = &driver.Error{Kind: driver.ErrNotFound}
	errAlreadyExists  = &driver.Error{Kind: driver.ErrAlreadyExists}
	errMalformedEntry = &driver.Error{Kind: driver.ErrInvalid, Detail: "malformed entry record"}
)

// notAtVersion is the ErrConflict of a failed version precondition.
func notAtVersion(v uint64) error {
	return driver.Errorf(driver.ErrConflict, "not at version %d", v)
}

// classify turns an error from clientv3 into a *driver.Error that wraps it
// (or into driver.Interrupted's error when the caller's context ended).
//
// Writes: clientv3 never retries a mutation once it may have reached the
// server, and waits for a ready connection before sending (gRPC
// WaitForReady), so a transport failure on a write means the request may
// have been applied: ErrAmbiguous. Server answers that say the request was
// not applied (no leader, too many requests, no space) are ErrUnavailable.
func (d *Driver) classify(ctx context.Context, kind opKind, err error) error {
	if err == nil {
		return nil
	}
	if driver.IsClassified(err) && !isContextError(err) {
		return err
	}
	if isContextError(err) {
		if ierr := driver.Interrupted(ctx, bool(kind)); ierr != nil {
			return ierr
		}
	}
	if d.closed.Load() {
		return errDriverClosed
	}
	return driver.Wrap(kindOf(err, kind), err, "")
}

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
func kindOf(err error, kind opKind) error {
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
		case rpctypes.ErrAuthFailed, rpctypes.ErrPermissionDenied, rpctypes.ErrInvalidAuthToken:
			return driver.ErrPermission
		}
		switch etcdErr.Code() {
		case codes.PermissionDenied, codes.Unauthenticated:
			// bad credentials, an expired token, a missing role.
			return driver.ErrPermission
		case codes.InvalidArgument, codes.OutOfRange, codes.FailedPrecondition:
			// request too large, too many operations in a txn: retrying
			// cannot help.
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
		case codes.InvalidArgument, codes.OutOfRange:
			return driver.ErrInvalid
		case codes.PermissionDenied, codes.Unauthenticated:
			return driver.ErrPermission
		case codes.Canceled:
			// The client connection is closing.
			return driver.ErrClosed
		case codes.DeadlineExceeded:
			return ambiguousIfWrite(driver.ErrTimeout)
		}
	}
	return ambiguousIfWrite(driver.ErrUnavailable)
}
