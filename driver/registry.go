package driver

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
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
// Errors wrap ErrInvalid for a URL that does not parse, has no scheme or
// names a scheme nobody registered; they never contain the URL, which may
// hold a password or a token, and name at most its scheme.
func Open(ctx context.Context, rawURL string) (Driver, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, Errorf(ErrInvalid, "the URL does not parse: %s (escape reserved characters such as '/', '@', '?' and '%%' in the user, password and query with %%-escapes)", parseProblem(err))
	}
	if u.Scheme == "" {
		return nil, Errorf(ErrInvalid, "the URL has no scheme (want one of %v)", Schemes())
	}
	registryMu.RLock()
	opener := registry[u.Scheme]
	registryMu.RUnlock()
	if opener == nil {
		return nil, Errorf(ErrInvalid, "no driver registered for scheme %q (registered: %v; import the driver package, e.g. _ \"github.com/atomix/go-client/drivers/etcd\")", u.Scheme, Schemes())
	}
	return opener(ctx, u)
}

// parseProblem says what is wrong with a URL that url.Parse refused,
// without any part of it: url.Parse's own messages quote the URL, and a
// password containing a '/' ends up quoted as a port.
func parseProblem(err error) string {
	var escape url.EscapeError
	var host url.InvalidHostError
	switch {
	case errors.As(err, &escape):
		return "malformed %-escape"
	case errors.As(err, &host):
		return "invalid character in the host"
	case strings.Contains(err.Error(), "invalid port"):
		return "invalid port after the host"
	case strings.Contains(err.Error(), "control character"):
		return "control character"
	case strings.Contains(err.Error(), "missing protocol scheme"):
		return "missing scheme"
	default:
		return "malformed"
	}
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
