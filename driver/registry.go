package driver

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
)

// Opener opens a Driver from a URL whose scheme it was registered for.
// Query parameters carry driver settings; an unknown parameter is an error
// wrapping ErrInvalid.
type Opener func(ctx context.Context, u *url.URL) (Driver, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes opener the one for scheme. Driver packages call it from
// init. Registering a scheme twice, or a nil opener, panics: it is a
// programming error in a driver package, never a user input.
func Register(scheme string, opener Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if opener == nil {
		panic("driver: Register opener is nil for scheme " + scheme)
	}
	if _, dup := registry[scheme]; dup {
		panic("driver: Register called twice for scheme " + scheme)
	}
	registry[scheme] = opener
}

// Open parses rawURL and opens it with the opener registered for its scheme.
func Open(ctx context.Context, rawURL string) (Driver, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: url %q: %v", ErrInvalid, rawURL, err)
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("%w: url %q has no scheme (want one of %v)", ErrInvalid, rawURL, Schemes())
	}
	registryMu.RLock()
	opener := registry[u.Scheme]
	registryMu.RUnlock()
	if opener == nil {
		return nil, fmt.Errorf("%w: no driver registered for scheme %q (registered: %v; import the driver package, e.g. _ \"github.com/atomix/go-client/drivers/etcd\")", ErrInvalid, u.Scheme, Schemes())
	}
	return opener(ctx, u)
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s := make([]string, 0, len(registry))
	for k := range registry {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
