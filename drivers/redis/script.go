package redis

import (
	"context"
	"crypto/sha1"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

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
	// shaArg is sha as a command argument, converted once: converting a
	// string to an interface allocates.
	shaArg any
	// idempotent scripts may run twice with the effect of once (reads, and
	// writes whose second run changes nothing). Only they are left to
	// go-redis's retries; every other script is sent once, and a lost reply
	// is reported as ambiguous instead of being retried blindly.
	idempotent bool
	// readOnly scripts only read. They run with EVALSHA_RO (EVAL_RO to
	// load), so a user whose ACL allows reads but no writes can run them,
	// and the server refuses any write they might attempt.
	readOnly bool
}

// counterLib defines readCounter and advanceCounter, which every script
// that advances a per-primitive counter uses: a counter that is missing
// starts from the server's clock (see lua/counter.lua).
//
//go:embed lua/counter.lua
var counterLib string

// withCounter returns the source of a script that uses counterLib.
func withCounter(src string) string { return counterLib + src }

// queueLib defines queueJoin, queueHead and queueDrop: the FIFO queue of
// waiters that a lock and a semaphore share (see lua/queue.lua). A script
// that queues waiters prepends it with withQueue and passes the queue and
// its sequence among its KEYS.
//
//go:embed lua/queue.lua
var queueLib string

// withQueue returns the source of a script that uses queueLib.
func withQueue(src string) string { return queueLib + src }

func newScript(name, src string, idempotent bool) *script {
	sum := sha1.Sum([]byte(src))
	sha := hex.EncodeToString(sum[:])
	return &script{name: name, src: src, sha: sha, shaArg: sha, idempotent: idempotent}
}

// newReadScript returns a script that only reads; it is idempotent.
func newReadScript(name, src string) *script {
	s := newScript(name, src, true)
	s.readOnly = true
	return s
}

// run runs the script and returns its reply. A nil reply is returned as
// (nil, nil), not as goredis.Nil.
func (s *script) run(ctx context.Context, c goredis.UniversalClient, keys scriptKeys, args ...any) (any, error) {
	// Typed any, so that a run does not convert (and allocate) them.
	var evalsha, eval any = "evalsha", "eval"
	if s.readOnly {
		evalsha, eval = "evalsha_ro", "eval_ro"
	}
	v, err := s.eval(ctx, c, evalsha, s.shaArg, keys, args)
	if s.readOnly && err != nil && isUnknownCommand(err) {
		// Redis before 7.0 has no EVALSHA_RO: run it as any script.
		evalsha, eval = "evalsha", "eval"
		v, err = s.eval(ctx, c, evalsha, s.shaArg, keys, args)
	}
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		v, err = s.eval(ctx, c, eval, s.src, keys, args)
	}
	if err == goredis.Nil {
		return nil, nil
	}
	return v, err
}

// runReplicated runs the script, which must be idempotent (a pipeline may
// be resent), followed on the same connection by WAIT replicas timeout,
// and returns the script's reply and how many replicas acknowledged it. On
// a cluster client the keyless WAIT goes to the script's node. A WAIT that
// fails is returned as the error, with the reply.
func (s *script) runReplicated(ctx context.Context, c goredis.UniversalClient, replicas int, timeout time.Duration, keys scriptKeys, args ...any) (any, int64, error) {
	if !s.idempotent {
		return nil, 0, fmt.Errorf("script %s is not idempotent: it cannot be pipelined with WAIT", s.name)
	}
	var verb, body any = "evalsha", s.shaArg
	for {
		cmd := goredis.NewCmd(ctx, s.args(verb, body, keys, args)...)
		wait := goredis.NewIntCmd(ctx, "wait", replicas, timeout.Milliseconds())
		_, _ = c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			_ = p.Process(ctx, cmd)
			_ = p.Process(ctx, wait)
			return nil
		})
		err := cmd.Err()
		if err != nil && verb == "evalsha" && goredis.HasErrorPrefix(err, "NOSCRIPT") {
			verb, body = "eval", s.src
			continue
		}
		v := cmd.Val()
		if err == goredis.Nil {
			v, err = nil, nil
		}
		if err != nil {
			return nil, 0, err
		}
		n, err := wait.Result()
		return v, n, err
	}
}

// args returns the arguments of EVAL or EVALSHA (verb) with body (the
// script's source or its SHA). They take one allocation, the slice: verb,
// body and keys were converted to arguments once.
func (s *script) args(verb, body any, keys scriptKeys, args []any) []any {
	a := make([]any, 0, 3+len(keys.args)+len(args))
	a = append(a, verb, body, len(keys.args))
	a = append(a, keys.args...)
	return append(a, args...)
}

func (s *script) eval(ctx context.Context, c goredis.UniversalClient, verb, body any, keys scriptKeys, args []any) (any, error) {
	cmd := goredis.NewCmd(ctx, s.args(verb, body, keys, args)...)
	process(ctx, c, cmd, !s.idempotent)
	return cmd.Val(), cmd.Err()
}

// scriptKeys are the KEYS of a script's runs: their names, and the same
// names as command arguments. A primitive builds the keys of its scripts
// once, so a run converts none of them again (converting a string to an
// interface allocates).
type scriptKeys struct {
	names []string
	args  []any
}

// keysOf returns the scriptKeys of names, which it keeps.
func keysOf(names ...string) scriptKeys {
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	return scriptKeys{names: names, args: args}
}

// first returns the first n keys of k.
func (k scriptKeys) first(n int) scriptKeys { return scriptKeys{names: k.names[:n], args: k.args[:n]} }

// pick returns the keys of k at the indexes at, in that order.
func (k scriptKeys) pick(at ...int) scriptKeys {
	names := make([]string, len(at))
	for i, j := range at {
		names[i] = k.names[j]
	}
	return keysOf(names...)
}

// with returns the keys of k followed by names; k is unchanged.
func (k scriptKeys) with(names ...string) scriptKeys {
	return keysOf(append(slices.Clone(k.names), names...)...)
}

// process sends cmd, through onceCmd when once is true. (A cluster client
// reloads its map of slots after a dial error or a redirect: see
// slotMapHook.)
func process(ctx context.Context, c goredis.UniversalClient, cmd *goredis.Cmd, once bool) {
	if once {
		_ = c.Process(ctx, onceCmd{cmd})
	} else {
		_ = c.Process(ctx, cmd)
	}
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
	process(ctx, c, cmd, once)
	v, err := cmd.Val(), cmd.Err()
	if err == goredis.Nil {
		return nil, nil
	}
	return v, err
}

// isUnknownCommand reports whether err is the server's refusal of a command
// it does not know.
func isUnknownCommand(err error) bool {
	return goredis.HasErrorPrefix(err, "ERR unknown command")
}
