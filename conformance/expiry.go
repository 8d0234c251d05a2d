package conformance

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
)

// testSessionExpiry checks that what a vanished client held is released
// after its session TTL. Its subtests run at the same time whatever -parallel
// says, because each waits for a TTL (up to twice 10s on Consul).
func testSessionExpiry(t *testing.T, h Harness) {
	skipIfGap(t, h, FeatureSessionExpiry)
	if h.Crash == nil {
		t.Fatal("conformance: Harness.Crash is nil: set it, or declare the gap FeatureSessionExpiry")
	}
	cases := []struct {
		name    string
		feature Feature
		run     func(*testing.T, *env)
	}{
		{"LockHolderVanishes", FeatureLock, testLockHolderVanishes},
		{"SemaphoreHolderVanishes", FeatureSemaphore, testSemaphoreHolderVanishes},
		{"ElectionLeaderVanishes", FeatureElection, testElectionLeaderVanishes},
		{"LeaderOfLeadVanishes", FeatureElection, testLeaderOfLeadVanishes},
		{"EphemeralOwnerVanishes", FeatureEphemeral, testEphemeralOwnerVanishes},
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Go(func() {
			t.Run(c.name, func(t *testing.T) {
				skipIfGap(t, h, c.feature)
				c.run(t, newEnv(t, h))
			})
		})
	}
	wg.Wait()
}

func testLockHolderVanishes(t *testing.T, e *env) {
	testHolderVanishes(t, e, func(c *atomix.Client) owner { return lockOwner(e.lock(c, "l")) })
}

func testSemaphoreHolderVanishes(t *testing.T, e *env) {
	testHolderVanishes(t, e, func(c *atomix.Client) owner { return semaphoreOwner(e.semaphore(c, "s", 2), 2) })
}

func testElectionLeaderVanishes(t *testing.T, e *env) {
	ctx := e.ctx
	d := e.driver()
	leader := e.election(e.expiringClientOn(d, e.ns), "e")
	follower := e.election(e.client(), "e")
	ts := &terms{t: t}
	first := ts.want(leader)(leader.Enter(ctx))
	ts.want(leader, follower)(follower.Enter(ctx))
	ch := make(chan election.Event)
	require.NoError(t, follower.Watch(ctx, ch))

	crashed := time.Now()
	e.h.Crash(d)
	deadline := time.Now().Add(e.expiry)
	for {
		ev := recv(t, ch, time.Until(deadline), "the candidacy of a vanished leader must end once its session TTL (%v) expires", e.h.SessionTTL)
		if ev.Term.Leader == follower.ID() {
			t.Logf("the follower led %v after the leader vanished (session TTL %v)", time.Since(crashed).Round(time.Millisecond), e.h.SessionTTL)
			require.Greater(t, ev.Term.Term, first.Term)
			break
		}
	}
	ts.want(follower)(follower.GetTerm(ctx))
}
