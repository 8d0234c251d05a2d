package redis_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/semaphore"
)

// rawSemAcquire is the least a Redis semaphore can do (Redis has none of
// its own): one script that adds the owner to a set of holders if fewer
// than the limit hold; the release is SREM. No session, queue or fencing
// version: a floor for the two round trips of atomix's Acquire and
// Release, which also subscribes to the semaphore's channel.
var rawSemAcquire = goredis.NewScript(`
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then
  return redis.call('SADD', KEYS[1], ARGV[1])
end
return 0`)

// BenchmarkSemaphoreAcquireRelease: an uncontended Acquire and Release of
// one permit of four.
func BenchmarkSemaphoreAcquireRelease(b *testing.B) {
	const key = "raw:bench:semaphore"
	runEach(b, func(b *testing.B, ctx context.Context, c goredis.UniversalClient) {
		for b.Loop() {
			n, err := rawSemAcquire.Run(ctx, c, []string{key}, "me", 4).Int()
			check(b, err)
			if n != 1 {
				b.Fatal("the raw semaphore was not free")
			}
			check(b, c.SRem(ctx, key, "me").Err())
		}
	}, func(b *testing.B, ctx context.Context, c *atomix.Client) {
		s, err := c.GetSemaphore(ctx, "s", semaphore.WithLimit(4))
		check(b, err)
		for b.Loop() {
			_, err := s.Acquire(ctx)
			check(b, err)
			_, err = s.Release(ctx)
			check(b, err)
		}
	})
}
