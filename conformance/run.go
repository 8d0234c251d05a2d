package conformance

import (
	"testing"
)

// The sizes of the concurrency tests: modest, so that the suite finishes in
// minutes on a real backend with two cores.
const (
	// casClients clients (each with its own driver) make casIncrements
	// compare-and-set increments each.
	casClients    = 4
	casIncrements = 25
	// lockClients clients each take the lock lockRounds times.
	lockClients = 4
	lockRounds  = 10
)

// Run runs the conformance suite against the backend that h describes,
// through the public API of package atomix.
//
// Every subtest uses a namespace of its own, so a persistent server may be
// shared with other runs. Most subtests run in parallel; the WatchCleanup
// subtests, which count the process's goroutines, run first and alone, so
// Run must not be called from a test that called t.Parallel. Features the
// harness lists in Gaps are reported as skipped subtests naming the gap.
func Run(t *testing.T, h Harness) {
	if h.NewDriver == nil {
		t.Fatal("conformance: Harness.NewDriver is nil")
	}
	if h.SessionTTL <= 0 {
		t.Fatal("conformance: Harness.SessionTTL must be positive (the smallest TTL the backend accepts)")
	}
	for f := range h.Gaps {
		if !knownFeature(f) {
			t.Errorf("conformance: Harness.Gaps lists unknown feature %q", f)
		}
	}

	t.Logf("conformance suite for driver %q, session TTL %v, watches merge states: %v, gaps %v",
		h.Name, h.SessionTTL, h.WatchMergesStates, h.Gaps)

	t.Run("WatchCleanup", func(t *testing.T) {
		t.Run("Map", func(t *testing.T) { testWatchCleanup(t, h, mapWatchSpec()) })
		t.Run("Set", func(t *testing.T) { testWatchCleanup(t, h, setWatchSpec()) })
		t.Run("Value", func(t *testing.T) { testWatchCleanup(t, h, valueWatchSpec()) })
		t.Run("List", func(t *testing.T) { testWatchCleanup(t, h, listWatchSpec()) })
		t.Run("IndexedMap", func(t *testing.T) { testWatchCleanup(t, h, indexedMapWatchSpec()) })
		t.Run("Election", func(t *testing.T) { testWatchCleanup(t, h, electionWatchSpec()) })
	})

	groups := []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		// The slowest first, so that they start early.
		{"SessionExpiry", testSessionExpiry},
		{"Lock", testLock},
		{"Semaphore", testSemaphore},
		{"Election", testElection},
		{"Counter", testCounter},
		{"Map", testMap},
		{"Set", testSet},
		{"Value", testValue},
		{"Ephemeral", testEphemeral},
		{"Fenced", testFenced},
		{"List", testList},
		{"IndexedMap", testIndexedMap},
		{"Kinds", testKinds},
		{"Errors", testErrors},
		{"DriverContract", testDriverContract},
		{"Faults", testFaults},
		{"Permissions", testPermissions},
		{"Observability", testObservability},
		{"ServerFaults", testServerFaults},
		{"Linearizability", testLinearizability},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, h)
		})
	}
}

// parallel runs f as a parallel subtest of t with an env of its own.
func parallel(t *testing.T, name string, h Harness, f func(t *testing.T, e *env)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		f(t, newEnv(t, h))
	})
}
