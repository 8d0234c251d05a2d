package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// Harness tells the suite how to reach one backend through one driver.
type Harness struct {
	// Name names the driver in test output, e.g. "etcd".
	Name string

	// NewDriver returns a new, independent driver connected to the backend:
	// each call is a separate connection, as a separate process would have.
	// Every call must reach the same backend state. The suite closes the
	// drivers it makes.
	NewDriver func(ctx context.Context, t testing.TB) (driver.Driver, error)

	// Backend is the host:port of one server of the backend, for the fault
	// tier, which puts a TCP fault proxy in front of it.
	Backend string

	// NewDriverAt returns a new driver like NewDriver, but connecting to
	// addr (a fault proxy in front of Backend) instead of the backend. With
	// Backend, it enables the fault tier; a backend without a network
	// declares the FeatureFaults gap instead.
	NewDriverAt func(ctx context.Context, t testing.TB, addr string) (driver.Driver, error)

	// StartServer starts a backend server of the test's own, for the fault
	// tier's scenarios that pause and restart a server (the shared backend
	// of the other tests must not be disturbed); the suite connects to it
	// with NewDriverAt(Server.Addr()). The server must be stopped when t
	// ends. Package testbackend's Restartable servers (StartEtcdServer,
	// StartRedisServer, StartConsulServer) are Servers. Without it the
	// harness declares the FeatureServerFaults gap.
	StartServer func(t testing.TB) Server

	// VersionsSurviveEmptyRestart declares that versions (lock fencing
	// versions, entry versions) keep increasing across a restart of the
	// server that loses all its data (Server.Restart), as the Redis driver
	// does by starting a missing counter from the server's clock. Without
	// it the suite only records what versions did, since a store that
	// restarts empty (etcd, Consul) starts its revisions again.
	VersionsSurviveEmptyRestart bool

	// Crash makes d vanish as if its process had died: it stops renewing
	// its sessions and drops its connections without releasing anything, so
	// that the backend has to expire its sessions. Afterwards d need only
	// return errors.
	Crash func(d driver.Driver)

	// NewReadOnlyDriver returns a new driver that sees the same state as
	// NewDriver's, with credentials that may read every primitive and keep
	// sessions but not write. It enables the permissions tier, which expects
	// every write to be refused with ErrPermission at once and nothing to be
	// written; a harness without credentials to limit declares the
	// FeaturePermissions gap instead.
	NewReadOnlyDriver func(ctx context.Context, t testing.TB) (driver.Driver, error)
	// DiscardHistory, if set, makes the backend forget its history of
	// changes up to now (etcd's compaction). The observability tier calls
	// it while a watch's connection is cut, on backends whose clients
	// resume a broken watch from where it was without re-reading: the
	// watch must then re-read. Leave it nil where a cut connection alone
	// makes a watch re-read.
	DiscardHistory func(ctx context.Context, t testing.TB)

	// SessionTTL is the session TTL the suite configures for clients whose
	// expiry it waits for. Use the smallest the backend accepts.
	SessionTTL time.Duration

	// WatchMergesStates declares that the backend reports states rather
	// than changes (Consul's blocking queries), so a watch may merge the
	// changes that land between two of its reads into the events that turn
	// one state into the next, as the driver contract allows. Every watch
	// must still converge to the latest state: the suite then checks that
	// instead of comparing events one by one, and checks what merging
	// cannot excuse (an event that cannot follow the state before it, a
	// write reported out of commit order, anything from before the watch).
	// It is a declared property, not a gap: nothing is skipped.
	WatchMergesStates bool

	// Gaps lists what the backend cannot do, by feature name (see the
	// Feature constants), with the reason. The suite reports each gap as a
	// skipped test naming it; it never passes over one silently.
	Gaps map[Feature]string
}

// Feature names a part of the suite that a backend may declare as a gap.
type Feature string

// The features a harness may list in Gaps.
const (
	FeatureCounter    Feature = "counter"
	FeatureLock       Feature = "lock"
	FeatureElection   Feature = "election"
	FeatureMap        Feature = "map"
	FeatureSet        Feature = "set"
	FeatureValue      Feature = "value"
	FeatureList       Feature = "list"
	FeatureIndexedMap Feature = "indexedmap"
	// FeatureSemaphore: the semaphore tier (a driver implementing
	// driver.SemaphoreOpener).
	FeatureSemaphore Feature = "semaphore"
	// FeatureSemaphoreFIFO: semaphore waiters are granted in arrival order
	// (a driver that cannot order waiters declares this gap).
	FeatureSemaphoreFIFO Feature = "semaphore-fifo"
	// FeatureSessionExpiry: a crashed client's sessions expire.
	FeatureSessionExpiry Feature = "session-expiry"
	// FeatureFaults: the fault tier, which needs a network between the
	// driver and its backend.
	FeatureFaults Feature = "faults"
	// FeaturePermissions: the permissions tier, which needs credentials
	// limited to reading (Harness.NewReadOnlyDriver).
	FeaturePermissions Feature = "permissions"
	// FeatureEphemeral: session-bound map entries and set elements
	// (_map.Ephemeral, set.Ephemeral).
	FeatureEphemeral Feature = "ephemeral"
	// FeatureFenced: writes fenced by a lock (_map.Fenced, value.Fenced),
	// checked in the same atomic step as the write.
	FeatureFenced Feature = "fenced"
	// FeatureServerFaults: the fault tier's scenarios that pause and
	// restart a server of the test's own (Harness.StartServer).
	FeatureServerFaults Feature = "server-faults"
)

// Server is a backend server that belongs to one test, for the scenarios
// that pause and restart it. Each method returns once the server is in the
// state it names (after a restart: answering) and fails the test if it
// cannot get there.
type Server interface {
	// Addr is the host:port drivers connect to, the same across restarts.
	Addr() string
	// Pause freezes the server's process (SIGSTOP): connections stay open
	// and nothing answers.
	Pause()
	// Resume continues a paused server.
	Resume()
	// RestartKeepingData kills the server as a crash would and starts it
	// again on its data: every write it acknowledged survives.
	RestartKeepingData()
	// Restart kills the server and starts it again with no data at all.
	Restart()
}

// knownFeature reports whether f is one of the Feature constants.
func knownFeature(f Feature) bool {
	switch f {
	case FeatureCounter, FeatureLock, FeatureElection, FeatureMap, FeatureSet,
		FeatureValue, FeatureList, FeatureIndexedMap, FeatureSemaphore, FeatureSemaphoreFIFO,
		FeatureSessionExpiry, FeatureFaults, FeatureServerFaults, FeaturePermissions, FeatureEphemeral, FeatureFenced:
		return true
	}
	return false
}
