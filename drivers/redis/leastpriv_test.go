package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
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
	"+evalsha", "+eval",
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
	open := func(at string) (driver.Driver, error) {
		return redis.New(&goredis.UniversalOptions{
			Addrs: []string{at}, Username: user, Password: pass, ContextTimeoutEnabled: true,
		}, redis.Options{KeyPrefix: prefix})
	}
	conformance.Run(t, conformance.Harness{
		Name:        "redis-least-privilege",
		NewDriver:   func(context.Context, testing.TB) (driver.Driver, error) { return open(addr) },
		Backend:     addr,
		NewDriverAt: func(_ context.Context, _ testing.TB, at string) (driver.Driver, error) { return open(at) },
		Crash:       func(d driver.Driver) { d.(*redis.Driver).Crash() },
		SessionTTL:  conformanceTTL,
		Gaps: map[conformance.Feature]string{
			conformance.FeatureServerFaults: "TestConformance pauses and restarts servers of its own; this run checks permissions on a shared one",
		},
	})
}

// TestWriteWithoutWritePermission runs every write as a user who may run
// read commands and keep a session (SET, PEXPIRE, DEL) on the driver's
// keys, but not scripts (EVAL, EVALSHA) nor the other write commands: each
// write must return ErrPermission, promptly (within the test's deadline,
// with no retry loop), and store nothing, which the admin connection checks
// by finding no key under the prefix but the session's.
func TestWriteWithoutWritePermission(t *testing.T) {
	addr := testbackend.Redis(t)
	admin := adminClient(t, addr)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "ro" + hex.EncodeToString(b)
	user, pass := aclUser(t, admin, "~"+prefix+":*", "&"+prefix+":*", "+@read", "+@connection", "+subscribe", "+unsubscribe", "+set", "+pexpire", "+del")
	d, err := redis.New(&goredis.UniversalOptions{
		Addrs: []string{addr}, Username: user, Password: pass, ContextTimeoutEnabled: true,
		MaxRetries: 3,
	}, redis.Options{KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Close(ctx)
	})
	// One deadline for everything: a retry loop on NOPERM would end in
	// ErrTimeout or context.DeadlineExceeded, not ErrPermission.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := driver.ID{Namespace: "ns", Name: "p"}

	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, driver.ErrPermission) {
			t.Errorf("%s: err = %v, want ErrPermission", op, err)
		}
	}
	c, err := d.OpenCounter(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	check("Counter.Add", errOf(c.Add(ctx, 1)))
	check("Counter.CompareAndSet", errOf(c.CompareAndSet(ctx, 0, 1)))
	m, _ := d.OpenMap(ctx, id)
	check("Map.Put", errOf(m.Put(ctx, "k", []byte("v"), 0)))
	check("Map.Remove", errOf(m.Remove(ctx, "k", 0)))
	check("Map.Clear", m.Clear(ctx))
	v, _ := d.OpenValue(ctx, id)
	check("Value.Set", errOf(v.Set(ctx, []byte("v"), 0)))
	check("Value.Delete", v.Delete(ctx, 0))
	s, _ := d.OpenSet(ctx, id)
	check("Set.Add", errOf(s.Add(ctx, "e")))
	check("Set.Remove", errOf(s.Remove(ctx, "e")))
	check("Set.Clear", s.Clear(ctx))
	l, _ := d.OpenList(ctx, id)
	check("List.Append", errOf(l.Append(ctx, []byte("x"))))
	check("List.Clear", l.Clear(ctx))
	im, _ := d.OpenIndexedMap(ctx, id)
	check("IndexedMap.Append", errOf(im.Append(ctx, "k", []byte("v"))))
	check("IndexedMap.Clear", im.Clear(ctx))
	sess, err := d.NewSession(ctx, driver.SessionOptions{})
	if err != nil {
		t.Fatalf("NewSession (SET is allowed): %v", err)
	}
	e, _ := d.OpenElection(ctx, id)
	check("Election.Enter", errOf(e.Enter(ctx, sess, "c")))
	lk, _ := d.OpenLock(ctx, id)
	check("Lock.Acquire", errOf(lk.Acquire(ctx, sess, "o")))
	_ = sess.Close(ctx)
	if ctx.Err() != nil {
		t.Fatalf("the refused writes took until the deadline: %v", ctx.Err())
	}

	keys, err := admin.Keys(context.Background(), prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+":session:") {
			stored = append(stored, k)
		}
	}
	if len(stored) != 0 {
		t.Errorf("refused writes stored keys: %s", strings.Join(stored, ", "))
	}
}

func errOf[T any](_ T, err error) error { return err }
