package redis

import (
	"context"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// A Redis Cluster client routes each command by its map of slots to
// masters, which go-redis reloads only after a redirect, and every minute.
// After a failover the map names the dead master until it is reloaded:
// commands fail to dial it. And a node answers a command for a slot it
// does not serve with a redirect (MOVED, or ASK while the slot migrates)
// instead of running it; go-redis follows MaxRedirects of them, but during
// a failover the nodes may disagree for a moment about who serves a slot,
// and a command can exhaust its redirects and fail with the last one.
// Either way nothing ran, so slotMapHook asks for a reload of the map and
// sends the command again (bounded): for every command and pipeline of the
// driver's cluster client, whatever call path sent it (scripts, plain
// commands, the session's pipelines). The pub/sub connection, which
// go-redis dials outside of the hooks, asks for the reload itself (see
// hub.connect, reloadSlotMap). A command that still fails fails with the
// redirect (which serverErrorKind classifies as ErrUnavailable) or the
// dial error (ErrUnavailable).

// redirectRetries bounds the rounds of a redirected command sent again
// after go-redis gave up, and dialRetries those of a command that could
// not reach its node (go-redis has already retried that one; during an
// outage, before a replica takes over, another round only delays the
// error). reloadPause is the pause before each round: a reload of the slot
// map that the round asks for may wait for the one before it to be 200ms
// old (go-redis reloads at most that often), and must land first.
const (
	redirectRetries = 3
	dialRetries     = 1
	reloadPause     = 250 * time.Millisecond
)

// rounds returns how many more times a command that failed with err may
// be sent after a reload of the slot map: 0 unless it was misrouted.
func rounds(err error) int {
	switch {
	case isRedirect(err):
		return redirectRetries
	case isDialError(err):
		return dialRetries
	}
	return 0
}

// isRedirect reports whether err is a Redis Cluster redirect reply: the
// command was not run.
func isRedirect(err error) bool {
	if err == nil {
		return false
	}
	return goredis.HasErrorPrefix(err, "MOVED") || goredis.HasErrorPrefix(err, "ASK")
}

// misrouted reports whether err says that the command went to a node that
// does not serve its slot, or that is gone: it was not run, and the slot
// map may be stale.
func misrouted(err error) bool { return isRedirect(err) || isDialError(err) }

// reloadSlotMap asks c, if it is a cluster client, to reload its map of
// slots to masters when err says that the map may be stale (misrouted).
func reloadSlotMap(c goredis.UniversalClient, err error) {
	if cc, ok := c.(*goredis.ClusterClient); ok && misrouted(err) {
		cc.ReloadState(context.Background())
	}
}

// slotMapHook sends a misrouted command again after a reload of the
// cluster client's slot map (see above). It is added to a cluster client
// only.
type slotMapHook struct{ c *goredis.ClusterClient }

// withSlotMapRetries adds a slotMapHook to c if c is a cluster client.
func withSlotMapRetries(c goredis.UniversalClient) {
	if cc, ok := c.(*goredis.ClusterClient); ok {
		cc.AddHook(slotMapHook{cc})
	}
}

func (slotMapHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h slotMapHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		for i := 0; i < rounds(err); i++ {
			if !h.pause(ctx) {
				break
			}
			err = next(ctx, cmd)
		}
		return err
	}
}

// ProcessPipelineHook sends again the commands of a pipeline that were
// misrouted, and only them: the others ran. A transaction (MULTI/EXEC)
// is left as it is.
func (h slotMapHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		if err == nil || isTransaction(cmds) {
			return err
		}
		for i := 0; ; i++ {
			var again []goredis.Cmder
			for _, c := range cmds {
				if i < rounds(c.Err()) {
					again = append(again, c)
				}
			}
			if len(again) == 0 || !h.pause(ctx) {
				break
			}
			_ = next(ctx, again)
			err = firstErr(cmds)
		}
		return err
	}
}

// pause asks for a reload of the slot map and waits for it before the
// next round; it reports false if ctx ended first.
func (h slotMapHook) pause(ctx context.Context) bool {
	h.c.ReloadState(context.Background())
	return driver.Sleep(ctx, reloadPause)
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

var _ goredis.Hook = slotMapHook{}
