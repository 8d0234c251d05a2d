package redis

import (
	"context"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// A Redis Cluster node answers a command for a slot it does not serve with
// a redirect (MOVED, or ASK while the slot migrates) instead of running
// it. go-redis follows MaxRedirects of them, reloading its map of slots to
// nodes in the background; during a failover the nodes may disagree for a
// moment about who serves a slot, and a command can exhaust its redirects
// and fail with the last one. Nothing was applied, so such a command is
// sent again once the map has been reloaded: redirectHook does it for
// every command and pipeline of the driver's cluster client, whatever call
// path sent it (scripts, plain commands, the session's pipelines). A
// command still redirected after redirectRetries rounds fails with the
// redirect, which serverErrorKind classifies as ErrUnavailable.

// redirectRetries bounds the rounds of a command redirected again after
// go-redis gave up; redirectBackoff is the pause before the first, doubled
// each round, which leaves time for the reload of the slot map that each
// round asks for (go-redis reloads at most every 200ms).
const (
	redirectRetries = 3
	redirectBackoff = 100 * time.Millisecond
)

// isRedirect reports whether err is a Redis Cluster redirect reply: the
// command was not run.
func isRedirect(err error) bool {
	if err == nil {
		return false
	}
	return goredis.HasErrorPrefix(err, "MOVED") || goredis.HasErrorPrefix(err, "ASK")
}

// redirectHook sends a redirected command again after a reload of the
// cluster client's slot map (see above). It is added to a cluster client
// only.
type redirectHook struct{ c *goredis.ClusterClient }

// withRedirectRetries adds a redirectHook to c if c is a cluster client.
func withRedirectRetries(c goredis.UniversalClient) {
	if cc, ok := c.(*goredis.ClusterClient); ok {
		cc.AddHook(redirectHook{cc})
	}
}

func (redirectHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h redirectHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		for i := 0; i < redirectRetries && isRedirect(err); i++ {
			if !h.pause(ctx, i) {
				break
			}
			err = next(ctx, cmd)
		}
		return err
	}
}

// ProcessPipelineHook sends again the commands of a pipeline that were
// redirected, and only them: the others ran. A transaction (MULTI/EXEC)
// is left as it is.
func (h redirectHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		if err == nil || isTransaction(cmds) {
			return err
		}
		for i := 0; i < redirectRetries; i++ {
			var again []goredis.Cmder
			for _, c := range cmds {
				if isRedirect(c.Err()) {
					again = append(again, c)
				}
			}
			if len(again) == 0 || !h.pause(ctx, i) {
				break
			}
			_ = next(ctx, again)
			err = firstErr(cmds)
		}
		return err
	}
}

// pause asks for a reload of the slot map and waits before round i; it
// reports false if ctx ended first.
func (h redirectHook) pause(ctx context.Context, i int) bool {
	h.c.ReloadState(ctx)
	t := time.NewTimer(redirectBackoff << i)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// firstErr is the error of a pipeline: its first command's that failed.
func firstErr(cmds []goredis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

func isTransaction(cmds []goredis.Cmder) bool {
	for _, c := range cmds {
		if strings.EqualFold(c.Name(), "multi") {
			return true
		}
	}
	return false
}

var _ goredis.Hook = redirectHook{}
