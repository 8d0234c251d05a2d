package testbackend

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// backend is one kind of server the tests can get, and the one this test
// process got. Its address is resolved once per process, in the package's
// order: the environment, a local binary, a container, skip (or fail).
type backend struct {
	name    string // as ATOMIX_REQUIRE_BACKENDS names it
	addrEnv string // the variable that names an existing server
	binary  string // the server's executable
	howTo   string // how a user gets one, for the skip message
	// process starts the binary at bin and returns the address to use.
	process func(t testing.TB, bin string) (string, error)
	// container starts a container and returns the address to use.
	container func(ctx context.Context) (string, error)

	mu   sync.Mutex
	addr string // set once a server is up
	err  string // set once getting one failed; later callers fail the same way
}

// address returns the server's address, starting one on first use.
func (b *backend) address(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(b.addrEnv); addr != "" {
		return addr
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.addr != "" {
		return b.addr
	}
	if b.err == "" {
		b.addr, b.err = b.start(t)
	}
	if b.addr == "" {
		Unavailable(t, b.name, b.err, b.howTo)
	}
	return b.addr
}

// start tries each allowed way in turn and returns the address, or why
// every way failed.
func (b *backend) start(t testing.TB) (string, string) {
	var why []string
	if UseProcess() {
		if bin := FindBinary(b.binary); bin == "" {
			why = append(why, "no "+b.binary+" binary on PATH or in "+BinDir())
		} else if addr, err := b.process(t, bin); err != nil {
			why = append(why, err.Error())
		} else {
			return addr, ""
		}
	}
	if UseContainer() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		addr, err := b.container(ctx)
		if err == nil {
			return addr, ""
		}
		why = append(why, err.Error())
	}
	if len(why) == 0 {
		why = append(why, "ATOMIX_TEST_PROVIDER="+Provider()+" allows no way")
	}
	return "", strings.Join(why, "; ")
}
