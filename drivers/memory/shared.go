package memory

import (
	"context"
	"net/url"
	"sync"

	"github.com/atomix/go-client/driver"
)

// Scheme is the URL scheme of the memory driver: "mem://NAME" connects to
// the process-wide store NAME (see [SharedStore]).
const Scheme = "mem"

var shared = struct {
	mu     sync.Mutex
	stores map[string]*Store
}{stores: map[string]*Store{}}

// SharedStore returns the process-wide store called name, making it with the
// default options on first use. Every call with the same name returns the
// same store, so connections made from it share state as connections to one
// server do. Shared stores live until the process exits.
func SharedStore(name string) *Store {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	s, ok := shared.stores[name]
	if !ok {
		s = NewStore()
		shared.stores[name] = s
	}
	return s
}

func init() {
	driver.Register(Scheme, openURL)
}

// openURL opens "mem://NAME": a new connection to SharedStore(NAME). The URL
// takes no user, path, query parameters or fragment.
func openURL(_ context.Context, u *url.URL) (driver.Driver, error) {
	name := u.Host
	if u.Opaque != "" {
		name = u.Opaque // "mem:NAME"
	}
	switch {
	case name == "":
		return nil, driver.Errorf(driver.ErrInvalid, "want mem://NAME, where NAME names a process-wide store")
	case u.User != nil:
		return nil, driver.Errorf(driver.ErrInvalid, "a mem URL takes no user")
	case u.Path != "" && u.Path != "/":
		return nil, driver.Errorf(driver.ErrInvalid, "a mem URL takes no path (want mem://NAME)")
	case u.RawQuery != "":
		return nil, driver.Errorf(driver.ErrInvalid, "a mem URL takes no query parameters")
	case u.Fragment != "":
		return nil, driver.Errorf(driver.ErrInvalid, "a mem URL takes no fragment")
	}
	return SharedStore(name).Connect(), nil
}
