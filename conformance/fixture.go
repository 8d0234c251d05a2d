package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/driver"
)

// timing holds how long the suite waits for things, derived from the
// harness so that a slow backend (Consul's 10s minimum TTL) is waited for and
// a broken driver fails instead of hanging.
type timing struct {
	// test bounds everything one subtest does.
	test time.Duration
	// event bounds the wait for one thing that must happen promptly: an
	// event, a blocked call returning, a channel closing.
	event time.Duration
	// expiry bounds the wait for a crashed client's session to expire;
	// backends may take up to twice the TTL.
	expiry time.Duration
	// quiet is how long something that must not happen is watched for.
	quiet time.Duration
}

func timingOf(h Harness) timing {
	expiry := 3*h.SessionTTL + 15*time.Second
	return timing{
		test:   4*time.Minute + expiry,
		event:  15 * time.Second,
		expiry: expiry,
		quiet:  300 * time.Millisecond,
	}
}

// env is the world of one subtest: a namespace of its own (so that runs on
// a persistent server never see each other's state), a context bounding the
// subtest, and the clients it opens, all closed when the subtest ends.
type env struct {
	timing
	t   *testing.T
	h   Harness
	ctx context.Context
	ns  string
}

func newEnv(t *testing.T, h Harness) *env {
	tm := timingOf(h)
	ctx, cancel := context.WithTimeout(context.Background(), tm.test)
	t.Cleanup(cancel)
	return &env{timing: tm, t: t, h: h, ctx: ctx, ns: uniqueNamespace(t)}
}

// uniqueNamespace returns a namespace no other run of the suite uses.
func uniqueNamespace(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random namespace: %v", err)
	}
	return "conformance-" + hex.EncodeToString(b)
}

// cleanupContext bounds the work done when a subtest ends; the subtest's own
// context may have expired by then.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// driver returns a new, independent driver connected to the backend. It is
// closed when the subtest ends, if the client it is given to has not
// closed it already.
func (e *env) driver() driver.Driver {
	e.t.Helper()
	d, err := e.h.NewDriver(e.ctx, e.t)
	require.NoError(e.t, err, "Harness.NewDriver")
	require.NotNil(e.t, d, "Harness.NewDriver returned a nil driver")
	e.t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		_ = d.Close(ctx) // the client usually closed it already
	})
	return d
}

// stableSessionTTL is the session TTL of every client whose session the
// suite does not expect to expire: long enough that a renewal delayed by a
// loaded machine never ends a session in the middle of a test (with the
// harness's short TTL it could, and an election or lock test then saw a
// change no client made).
const stableSessionTTL = 30 * time.Second

// clientOn returns a client in namespace ns over d, closed when the subtest
// ends (which also closes d). Its session is not expected to expire: its
// TTL is stableSessionTTL (or the harness's, if longer).
func (e *env) clientOn(d driver.Driver, ns string) *atomix.Client {
	return e.clientWithTTL(d, ns, max(e.h.SessionTTL, stableSessionTTL))
}

// expiringClientOn is clientOn with the harness's SessionTTL, for a client
// whose session the suite lets expire (after Harness.Crash).
func (e *env) expiringClientOn(d driver.Driver, ns string) *atomix.Client {
	return e.clientWithTTL(d, ns, e.h.SessionTTL)
}

func (e *env) clientWithTTL(d driver.Driver, ns string, ttl time.Duration) *atomix.Client {
	c := atomix.NewClient(atomix.WithDriver(d), atomix.WithNamespace(ns), atomix.WithSessionTTL(ttl))
	e.t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		_ = c.Close(ctx) // tests that close it themselves check the error
	})
	return c
}

// client returns a client of its own (its own driver, as another process
// would have) in the subtest's namespace.
func (e *env) client() *atomix.Client {
	e.t.Helper()
	return e.clientOn(e.driver(), e.ns)
}

// clientIn returns a client of its own in namespace ns.
func (e *env) clientIn(ns string) *atomix.Client {
	e.t.Helper()
	return e.clientOn(e.driver(), ns)
}

// limits returns the sizes the backend accepts, as a driver reports them.
func (e *env) limits() driver.Limits {
	e.t.Helper()
	return e.driver().Limits()
}

// withTimeout returns a context derived from the subtest's that ends after
// d, cancelled when the subtest ends.
func (e *env) withTimeout(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(e.ctx, d)
	e.t.Cleanup(cancel)
	return ctx
}

// skipIfGap skips t, naming the gap, when the harness declares f a gap.
func skipIfGap(t testing.TB, h Harness, f Feature) {
	t.Helper()
	if reason, ok := h.Gaps[f]; ok {
		t.Skipf("gap: %s: %s", f, reason)
	}
}
