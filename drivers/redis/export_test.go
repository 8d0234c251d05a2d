package redis

import (
	"context"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// DescribeLock describes the state of the lock id on the server that d
// (a *Driver) reaches, for a test's failure message: the hold, the queue
// of waiters in order, and how long each one's session lease has left
// (-2: gone, so the member is skipped).
func DescribeLock(ctx context.Context, d driver.Driver, id driver.ID) string {
	rd, ok := d.(*Driver)
	if !ok {
		return fmt.Sprintf("not a redis driver: %T", d)
	}
	defer rd.Close(ctx)
	l := newLock(&handle{d: rd, ks: newKeyspace(rd.opts.KeyPrefix, "lock", id)})
	c := rd.client
	leaseTTL := func(sid string) string {
		ms, err := c.PTTL(ctx, l.keys.names[2]+sid).Result()
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(ms.Milliseconds(), "ms")
	}
	var b strings.Builder
	hold, err := c.HGetAll(ctx, l.keys.names[0]).Result()
	switch {
	case err != nil:
		fmt.Fprintf(&b, "hold: %v; ", err)
	case len(hold) == 0:
		b.WriteString("hold: none; ")
	default:
		fmt.Fprintf(&b, "hold: version %s, owner %s, session %s (lease %s); ", hold["version"], hold["owner"], hold["session"], leaseTTL(hold["session"]))
	}
	queue, err := c.ZRangeWithScores(ctx, l.keys.names[3], 0, -1).Result()
	if err != nil {
		fmt.Fprintf(&b, "queue: %v", err)
		return b.String()
	}
	fmt.Fprintf(&b, "queue (%d):", len(queue))
	for _, z := range queue {
		m, _ := z.Member.(string)
		sid, _, _ := strings.Cut(m, ":")
		fmt.Fprintf(&b, " [%v] %s (lease %s)", z.Score, m, leaseTTL(sid))
	}
	if n, err := c.Get(ctx, l.keys.names[1]).Result(); err == nil || err == goredis.Nil {
		fmt.Fprintf(&b, "; version counter %q", n)
	}
	return b.String()
}

// CommandStats is commandStats, for the benchmarks of package redis_test.
var CommandStats = commandStats
