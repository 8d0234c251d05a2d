package atomix

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/atomix/go-client/atomix/primitive"
)

// urlEnv is the environment variable the default client's URL is read from.
const urlEnv = "ATOMIX_URL"

// errNoDefaultClient is the error of every package-level getter without
// WithClient when ATOMIX_URL is unset.
var errNoDefaultClient = invalidf("no client: %s is not set and no atomix.WithClient option was given; "+
	"set %s to the backend's URL, e.g. etcd://127.0.0.1:2379, redis://127.0.0.1:6379, "+
	"consul://127.0.0.1:8500 or mem://NAME (in-process, for tests), and import its driver package "+
	`(e.g. _ "github.com/atomix/go-client/drivers/etcd"); or pass atomix.WithClient(client)`,
	urlEnv, urlEnv)

// defaultClient is the client of the package-level getters, opened on first
// use from ATOMIX_URL. A failed open is retried by the next getter.
var defaultClient struct {
	client atomic.Pointer[Client]
	mu     sync.Mutex // held while opening
}

// clientFor returns the client a package-level getter uses: the one given
// with WithClient, else the default client.
func clientFor(ctx context.Context, o *primitive.Options) (*Client, error) {
	switch c := o.Client.(type) {
	case nil:
		return getDefaultClient(ctx)
	case *Client:
		if c == nil {
			return nil, invalidf("atomix.WithClient(nil)")
		}
		return c, nil
	default:
		return nil, invalidf("the client option holds a %T, not an *atomix.Client (use atomix.WithClient)", c)
	}
}

func getDefaultClient(ctx context.Context) (*Client, error) {
	if c := defaultClient.client.Load(); c != nil {
		return c, nil
	}
	defaultClient.mu.Lock()
	defer defaultClient.mu.Unlock()
	if c := defaultClient.client.Load(); c != nil {
		return c, nil
	}
	url := os.Getenv(urlEnv)
	if url == "" {
		return nil, errNoDefaultClient
	}
	// Open, so that namespace= and session-ttl= in ATOMIX_URL apply.
	c, err := Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("default client from %s: %w", urlEnv, err)
	}
	defaultClient.client.Store(c)
	return c, nil
}
