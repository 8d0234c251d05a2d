package consul

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/conformance"
	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// These tests run on a second test agent whose ACL system is enabled with
// default policy deny (testbackend.ConsulACL). Each creates a policy and a
// token of its own with the agent's management token.

// aclAgent is the ACL test agent: its address, the Consul client with its
// management token, and the name of its node (sessions are created there).
type aclAgent struct {
	addr  string
	mgmt  string // the management token
	admin *api.Client
	node  string
}

func newACLAgent(t *testing.T) *aclAgent {
	t.Helper()
	addr, mgmt := testbackend.ConsulACL(t)
	admin, err := api.NewClient(&api.Config{Address: addr, Token: mgmt})
	if err != nil {
		t.Fatal(err)
	}
	node, err := admin.Agent().NodeName()
	if err != nil {
		t.Fatalf("the agent's node name: %v", err)
	}
	return &aclAgent{addr: addr, mgmt: mgmt, admin: admin, node: node}
}

// token creates a policy with rules (HCL) and returns the secret of a new
// token that has only that policy.
func (a *aclAgent) token(t *testing.T, rules string) string {
	t.Helper()
	policy, _, err := a.admin.ACL().PolicyCreate(&api.ACLPolicy{Name: "atomix-" + newToken(), Rules: rules}, nil)
	if err != nil {
		t.Fatalf("create policy: %v", err)
	}
	token, _, err := a.admin.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: policy.ID}}}, nil)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return token.SecretID
}

// minimalRules is the least privilege the driver needs under prefix, as
// the package documentation states it: write on the keys under the prefix,
// write on sessions of the agent's node.
func minimalRules(prefix, node string) string {
	return fmt.Sprintf("key_prefix %q { policy = \"write\" }\nsession %q { policy = \"write\" }", prefix+"/", node)
}

// driverWithToken returns a driver on the ACL agent with token, under
// prefix, closed when the test ends.
func (a *aclAgent) driver(t *testing.T, prefix, token string) *Driver {
	t.Helper()
	d, err := New(Config{Address: a.addr, Token: token, Options: Options{Prefix: prefix}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	return d
}

// TestConformanceLeastPrivilege runs the conformance suite with a token
// that has only the policy the package documentation names as the least
// the driver needs.
func TestConformanceLeastPrivilege(t *testing.T) {
	a := newACLAgent(t)
	prefix := testPrefix(t)
	token := a.token(t, minimalRules(prefix, a.node))
	readOnly := a.token(t, fmt.Sprintf("key_prefix %q { policy = \"read\" }\nsession %q { policy = \"write\" }", prefix+"/", a.node))
	newDriver := func(at string) (driver.Driver, error) {
		return New(Config{Address: at, Token: token, Options: Options{Prefix: prefix}})
	}
	conformance.Run(t, conformance.Harness{
		Name: "consul",
		NewDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return newDriver(a.addr)
		},
		Backend: a.addr,
		NewDriverAt: func(_ context.Context, _ testing.TB, at string) (driver.Driver, error) {
			return newDriver(at)
		},
		NewReadOnlyDriver: func(context.Context, testing.TB) (driver.Driver, error) {
			return New(Config{Address: a.addr, Token: readOnly, Options: Options{Prefix: prefix}})
		},
		Crash:             func(d driver.Driver) { d.(*Driver).crash() },
		SessionTTL:        10 * time.Second,
		WatchMergesStates: true,
		Gaps: map[conformance.Feature]string{
			conformance.FeatureServerFaults: "TestConformance pauses and restarts servers of its own; this run checks permissions on a shared one",
		},
	})
}

// refusalBound is how long a refused call may take. A refusal is one round
// trip; the bound only tells a prompt answer from a call that retries until
// its context ends, which is refusalBound later.
const refusalBound = 10 * time.Second

// TestTokenWithoutRightsRefused checks the first use of a driver whose
// token Consul does not know, or knows with no rights at all: Ping, a read,
// writes and a lock are ErrPermission at once.
func TestTokenWithoutRightsRefused(t *testing.T) {
	a := newACLAgent(t)
	tokens := map[string]string{
		"unknown token":   newUUID(),
		"token no rights": a.token(t, `key_prefix "none/" { policy = "deny" }`),
	}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			d := a.driver(t, testPrefix(t), token)
			conformance.CheckRefused(t, "Ping", d.Ping)
			c := atomix.NewClient(atomix.WithDriver(d), atomix.WithSessionTTL(10*time.Second))
			t.Cleanup(func() { c.Close(context.Background()) })
			ctr, err := c.GetCounter(testContext(t), "c")
			if err != nil {
				t.Fatal(err)
			}
			conformance.CheckRefused(t, "Counter.Get", func(ctx context.Context) error { _, err := ctr.Get(ctx); return err })
			conformance.CheckRefused(t, "Counter.Set", func(ctx context.Context) error { _, err := ctr.Set(ctx, 1); return err })
			conformance.CheckRefused(t, "Counter.Increment", func(ctx context.Context) error { _, err := ctr.Increment(ctx, 1); return err })
			l, err := c.GetLock(testContext(t), "l")
			if err != nil {
				t.Fatal(err)
			}
			conformance.CheckRefused(t, "Lock.Lock", func(ctx context.Context) error { _, err := l.Lock(ctx); return err })
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newUUID returns a random (version 4) UUID, the form of a Consul token's
// secret.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// txnCounter is an http.RoundTripper that counts the requests to /v1/txn.
type txnCounter struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *txnCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/v1/txn" {
		c.n.Add(1)
	}
	return c.next.RoundTrip(r)
}

// TestRevokedTokenEndsLockWait checks that a lock attempt waiting in line
// ends with ErrPermission once its token is deleted, instead of asking the
// agent again until its context ends, and that its clean-up, refused too,
// is not retried.
func TestRevokedTokenEndsLockWait(t *testing.T) {
	a := newACLAgent(t)
	prefix := testPrefix(t)
	ctx := testContext(t)
	holder := a.driver(t, prefix, a.mgmt)
	hl, err := holder.OpenLock(ctx, testID("l"))
	must(t, err)
	if _, err := hl.Acquire(ctx, testSession(t, holder), "holder"); err != nil {
		t.Fatal(err)
	}

	token := a.token(t, minimalRules(prefix, a.node))
	// Blocking queries come back every second, so the wait asks again soon
	// after the token is gone.
	counter := &txnCounter{next: http.DefaultTransport}
	client, err := api.NewClient(&api.Config{Address: a.addr, Token: token, HttpClient: &http.Client{Transport: counter}})
	must(t, err)
	d, err := NewWithClient(client, Options{Prefix: prefix, WaitTime: time.Second})
	must(t, err)
	t.Cleanup(func() { d.Close(context.Background()) })
	l, err := d.OpenLock(ctx, testID("l"))
	must(t, err)
	sess := testSession(t, d)

	done := make(chan error, 1)
	wctx, cancel := context.WithTimeout(ctx, refusalBound+5*time.Second)
	defer cancel()
	go func() {
		_, err := l.Acquire(wctx, sess, "waiter")
		done <- err
	}()
	waitUntil(t, refusalBound, "the waiter is in line", func() bool {
		keys, _, err := a.admin.KV().Keys(hl.(*consulLock).waiters, "", nil)
		return err == nil && len(keys) == 1
	})
	self, _, err := a.admin.ACL().TokenReadSelf(&api.QueryOptions{Token: token})
	must(t, err)
	sent := counter.n.Load()
	if _, err := a.admin.ACL().TokenDelete(self.AccessorID, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, driver.ErrPermission) {
			t.Errorf("Acquire after its token was deleted: %v, want ErrPermission", err)
		}
	case <-time.After(refusalBound):
		t.Fatalf("Acquire still waits %v after its token was deleted", refusalBound)
	}
	// The only transaction after the refused wait is the refused clean-up
	// of the waiter key (which Consul deletes with the session).
	if n := counter.n.Load() - sent; n > 1 {
		t.Errorf("%d transactions after the token was deleted, want at most 1: a refusal was retried", n)
	}
}
