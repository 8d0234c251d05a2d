package redis

import (
	"context"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"

	goredis "github.com/redis/go-redis/v9"
)

// script is one Lua script of the driver. Its text is a constant: user data
// travels only in KEYS and ARGV. It is run with EVALSHA, and with EVAL when
// the server's script cache does not have it (NOSCRIPT), which also loads it
// there; a NOSCRIPT reply means the script did not run, so the fallback is
// safe for every script.
type script struct {
	name string
	src  string
	sha  string
	// idempotent scripts may run twice with the effect of once (reads, and
	// writes whose second run changes nothing). Only they are left to
	// go-redis's retries; every other script is sent once, and a lost reply
	// is reported as ambiguous instead of being retried blindly.
	idempotent bool
}

// counterLib defines readCounter and advanceCounter, which every script
// that advances a per-primitive counter uses: a counter that is missing
// starts from the server's clock (see lua/counter.lua).
//
//go:embed lua/counter.lua
var counterLib string

// withCounter returns the source of a script that uses counterLib.
func withCounter(src string) string { return counterLib + src }

// queueLib defines queueJoin, queueHead and queueDrop: a FIFO queue of
// waiters whose release wakes only the next one (see lua/queue.lua). A
// script that queues waiters (a lock's; a semaphore's) prepends it with
// withQueue and passes the queue and its sequence among its KEYS.
//
//go:embed lua/queue.lua
var queueLib string

// withQueue returns the source of a script that uses queueLib.
func withQueue(src string) string { return queueLib + src }

func newScript(name, src string, idempotent bool) *script {
	sum := sha1.Sum([]byte(src))
	return &script{name: name, src: src, sha: hex.EncodeToString(sum[:]), idempotent: idempotent}
}

// run runs the script and returns its reply. A nil reply is returned as
// (nil, nil), not as goredis.Nil.
func (s *script) run(ctx context.Context, c goredis.UniversalClient, keys []string, args ...any) (any, error) {
	v, err := s.eval(ctx, c, "evalsha", s.sha, keys, args)
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		v, err = s.eval(ctx, c, "eval", s.src, keys, args)
	}
	if err == goredis.Nil {
		return nil, nil
	}
	return v, err
}

func (s *script) eval(ctx context.Context, c goredis.UniversalClient, verb, body string, keys []string, args []any) (any, error) {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, verb, body, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	a = append(a, args...)
	cmd := goredis.NewCmd(ctx, a...)
	if s.idempotent {
		_ = c.Process(ctx, cmd)
	} else {
		_ = c.Process(ctx, onceCmd{cmd})
	}
	return cmd.Val(), cmd.Err()
}

// onceCmd is a command go-redis must not send a second time: if the
// connection fails after it was written, go-redis returns the error
// instead of retrying (it still redirects MOVED/ASK and retries when the
// command never reached the wire). Writes that are not idempotent go
// through it, whatever MaxRetries the client was configured with.
type onceCmd struct{ *goredis.Cmd }

// NoRetry tells go-redis not to resend the command.
func (onceCmd) NoRetry() bool { return true }

// do runs a single command: through onceCmd when write is true and the
// command is not idempotent, with go-redis's retries otherwise.
func do(ctx context.Context, c goredis.UniversalClient, once bool, args ...any) (any, error) {
	cmd := goredis.NewCmd(ctx, args...)
	if once {
		_ = c.Process(ctx, onceCmd{cmd})
	} else {
		_ = c.Process(ctx, cmd)
	}
	v, err := cmd.Val(), cmd.Err()
	if err == goredis.Nil {
		return nil, nil
	}
	return v, err
}
