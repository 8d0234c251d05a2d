package consul

import (
	"context"
	"errors"
	"time"

	"github.com/atomix/go-client/driver"
)

// cleanupTimeout bounds how long a failed attempt waits for its traces to
// be removed before it returns; what is left is removed in the background.
const cleanupTimeout = 2 * time.Second

// cleanUp runs once, the removal of what a failed acquisition attempt made
// with sess may have left (a waiter or contender key, a hold it got after
// all), until it succeeds. It tries for cleanupTimeout after ctx ended,
// then goes on in the background until it succeeds, the session ends
// (Consul then deletes the keys) or the driver is closed.
func cleanUp(ctx context.Context, sess *session, once func(context.Context) error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if !undo(cctx, sess, once) {
		go undo(sess.ctx, sess, once)
	}
}

// undo retries once until it succeeds or ctx ends (or the session does),
// with driver.RetryCleanup, and reports whether it is over. It is over too
// when the agent refuses it (ErrPermission): retrying cannot help, and
// whatever the attempt left is held by its session, so Consul deletes it
// when the session ends.
func undo(ctx context.Context, sess *session, once func(context.Context) error) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(sess.ctx, cancel)()
	return driver.RetryCleanup(ctx, nil, func(ctx context.Context) error {
		if err := once(ctx); !errors.Is(err, driver.ErrPermission) {
			return err
		}
		return nil
	})
}
