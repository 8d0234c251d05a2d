package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/redis"
)

// minimalCommands are the commands the driver sends, directly or from its
// Lua scripts: the "+" part of the minimal ACL rule that doc.go documents.
// TestConformanceLeastPrivilege checks that they are enough.
var minimalCommands = []string{
	// Connection set-up and health. go-redis also sends CLIENT SETINFO
	// (Redis 7.2 and later), whose refusal it ignores.
	"+hello", "+ping", "+client|setname",
	// Commands sent directly.
	"+get", "+set", "+del", "+incrby", "+pexpire", "+unlink",
	"+hget", "+hlen", "+hscan", "+scard", "+sismember", "+sscan",
	"+llen", "+lindex", "+lrange",
	"+evalsha", "+eval", "+evalsha_ro", "+eval_ro",
	"+subscribe", "+unsubscribe",
	// Commands of the Lua scripts (a script runs with its caller's ACL).
	"+copy", "+exists", "+incr", "+pttl", "+publish", "+time",
	"+hdel", "+hexists", "+hgetall", "+hincrby", "+hmget", "+hset",
	"+lpop", "+lpush", "+lset", "+rpop", "+rpush",
	"+sadd", "+smembers", "+srem",
	"+zadd", "+zrange", "+zrangebyscore", "+zrem", "+zrevrangebyscore",
}

// aclUser creates a Redis user with the given rules (after "reset on
// >password"), removed when the test ends, and returns its name and
// password.
func aclUser(t *testing.T, admin goredis.UniversalClient, rules ...string) (string, string) {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	user, pass := "lp-"+hex.EncodeToString(b), hex.EncodeToString(b)+"-pw"
	args := []any{"ACL", "SETUSER", user, "reset", "on", ">" + pass}
	for _, r := range rules {
		args = append(args, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.Do(ctx, args...).Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	t.Cleanup(func() { _ = admin.Do(context.Background(), "ACL", "DELUSER", user).Err() })
	return user, pass
}

func adminClient(t *testing.T, addr string) goredis.UniversalClient {
	t.Helper()
	c := goredis.NewUniversalClient(&goredis.UniversalOptions{Addrs: []string{addr}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestConformanceLeastPrivilege runs the whole suite as a user whose ACL
// allows only the driver's commands, on the keys and channels of one
// prefix: the minimal rule of the package documentation is enough.
func TestConformanceLeastPrivilege(t *testing.T) {
	addr := testbackend.Redis(t)
	admin := adminClient(t, addr)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "lp" + hex.EncodeToString(b)
	rules := append([]string{"~" + prefix + ":*", "&" + prefix + ":*"}, minimalCommands...)
	user, pass := aclUser(t, admin, rules...)
	// The read-only user may read, subscribe and keep a session (SET,
	// PEXPIRE, DEL on session keys only), but run no write script nor any
	// other write.
	roUser, roPass := aclUser(t, admin, "%R~"+prefix+":*", "~"+prefix+":session:*", "&"+prefix+":*", "+@read", "+@connection",
		"+evalsha_ro", "+eval_ro", "+subscribe", "+unsubscribe", "+set", "+pexpire", "+del")
	openAs := func(at, user, pass string) (driver.Driver, error) {
		return redis.New(&goredis.UniversalOptions{
			Addrs: []string{at}, Username: user, Password: pass, ContextTimeoutEnabled: true,
		}, redis.Options{KeyPrefix: prefix})
	}
	open := func(at string) (driver.Driver, error) { return openAs(at, user, pass) }
	conformance.Run(t, conformance.Harness{
		Name:        "redis-least-privilege",
		NewDriver:   func(context.Context, testing.TB) (driver.Driver, error) { return open(addr) },
		Backend:     addr,
		NewDriverAt: func(_ context.Context, _ testing.TB, at string) (driver.Driver, error) { return open(at) },
		NewReadOnlyDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return openAs(addr, roUser, roPass)
		},
		Crash:      func(d driver.Driver) { d.(*redis.Driver).Crash() },
		SessionTTL: conformanceTTL,
		Gaps: map[conformance.Feature]string{
			conformance.FeatureServerFaults: "TestConformance pauses and restarts servers of its own; this run checks permissions on a shared one",
		},
	})
}

func errOf[T any](_ T, err error) error { return err }
