package urlparam

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/atomix/go-client/driver"
)

// Query is the parsed query of a URL: its keys and values, which of them
// were read, and the first error met. Make one with Parse. A Query is not
// safe for concurrent use.
type Query struct {
	pairs []pair         // in order of appearance
	keys  map[string]int // key → number of pairs with it
	read  map[string]bool
	err   error
}

// pair is one key=value segment of the query.
type pair struct {
	raw        string // as it appeared, for Without
	key, value string // unescaped
}

// Parse splits rawQuery (url.URL.RawQuery, without the '?') into key=value
// pairs, unescaping each as url.QueryUnescape does ('+' is a space). Empty
// segments ("a=1&&b=2", a trailing '&') are skipped; a segment without '='
// has the empty value. A malformed %-escape or a ';' is an error wrapping
// driver.ErrInvalid that names no value.
func Parse(rawQuery string) (*Query, error) {
	q := &Query{keys: map[string]int{}, read: map[string]bool{}}
	for n, raw := range strings.Split(rawQuery, "&") {
		if raw == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(raw, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, driver.Errorf(driver.ErrInvalid, "query parameter %d: malformed %%-escape in its key", n+1)
		}
		if strings.Contains(rawKey, ";") {
			return nil, driver.Errorf(driver.ErrInvalid, "query parameter %q: ';' is not a separator; use '&'", key)
		}
		if strings.Contains(rawValue, ";") {
			return nil, driver.Errorf(driver.ErrInvalid, "query parameter %q: ';' in the value must be escaped as %%3B", key)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, driver.Errorf(driver.ErrInvalid, "query parameter %q: malformed %%-escape in its value", key)
		}
		q.pairs = append(q.pairs, pair{raw: raw, key: key, value: value})
		q.keys[key]++
	}
	return q, nil
}

// Keys returns the distinct keys of the query in order of first appearance.
func (q *Query) Keys() []string {
	var keys []string
	for _, p := range q.pairs {
		if !slices.Contains(keys, p.key) {
			keys = append(keys, p.key)
		}
	}
	return keys
}

// Has reports whether key is in the query. It does not count as reading it.
func (q *Query) Has(key string) bool { return q.keys[key] > 0 }

// Without returns the raw query with every pair of the given keys removed
// and the others kept as they were, in order. It lets a layer above a
// driver take its own parameters out before the driver sees the URL.
func (q *Query) Without(keys ...string) string {
	var kept []string
	for _, p := range q.pairs {
		if !slices.Contains(keys, p.key) {
			kept = append(kept, p.raw)
		}
	}
	return strings.Join(kept, "&")
}

// Err returns the first error met by the getters so far, or nil.
func (q *Query) Err() error { return q.err }

// Done returns the first error met by the getters, else an error naming
// the keys no getter read (sorted, so that the message does not depend on
// the order of the URL), else nil. A driver calls it after reading every
// parameter it knows.
func (q *Query) Done() error {
	if q.err != nil {
		return q.err
	}
	var unknown []string
	for key := range q.keys {
		if !q.read[key] {
			unknown = append(unknown, fmt.Sprintf("%q", key))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	noun := "parameter"
	if len(unknown) > 1 {
		noun = "parameters"
	}
	return driver.Errorf(driver.ErrInvalid, "unknown query %s %s", noun, strings.Join(unknown, ", "))
}

// fail records the first error: a driver.ErrInvalid naming key.
func (q *Query) fail(key, format string, args ...any) {
	q.failCause(key, nil, format, args...)
}

// failCause is fail with the error that caused it, reachable with
// errors.As. The cause must not contain a secret value.
func (q *Query) failCause(key string, cause error, format string, args ...any) {
	if q.err == nil {
		q.err = errorf(key, cause, format, args...)
	}
}

// errorf is the error about key: ErrInvalid, the key, what is wrong, and
// the cause if any.
func errorf(key string, cause error, format string, args ...any) error {
	return driver.Wrap(driver.ErrInvalid, cause, "query parameter %q: %s", key, fmt.Sprintf(format, args...))
}

// value marks key read and returns its only value, whether it is present,
// and whether it may be used (present exactly once).
func (q *Query) value(key string) (string, bool) {
	q.read[key] = true
	switch q.keys[key] {
	case 0:
		return "", false
	case 1:
	default:
		q.fail(key, "given %d times", q.keys[key])
		return "", false
	}
	for _, p := range q.pairs {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false // unreachable: keys counts the pairs
}

// errEmpty is the cause of a parameter given without a value where one is
// needed.
var errEmpty = errors.New("empty value")
