package atomix

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atomix/go-client/atomix/primitive"
)

// The error values, usable with errors.Is. They are the same values as
// package primitive's and package driver's.
var (
	// ErrNotFound: the key, element, index or value does not exist.
	ErrNotFound = primitive.ErrNotFound
	// ErrAlreadyExists: an insert-if-absent found the key present.
	ErrAlreadyExists = primitive.ErrAlreadyExists
	// ErrConflict: a version, IfMatch or compare-and-set precondition failed,
	// or a Lock instance already holds (or is acquiring) the lock.
	ErrConflict = primitive.ErrConflict
	// ErrInvalid: a bad name, option, codec or index, or a key or value too
	// large for the backend.
	ErrInvalid = primitive.ErrInvalid
	// ErrNotSupported: the backend cannot do this.
	ErrNotSupported = primitive.ErrNotSupported
	// ErrClosed: the primitive or its client has been closed.
	ErrClosed = primitive.ErrClosed
	// ErrUnavailable: the backend could not be reached; nothing was applied.
	ErrUnavailable = primitive.ErrUnavailable
	// ErrTimeout: the backend did not answer in time, or the operation's
	// context deadline passed.
	ErrTimeout = primitive.ErrTimeout
	// ErrAmbiguous: a write whose outcome is unknown; it may or may not have
	// been applied.
	ErrAmbiguous = primitive.ErrAmbiguous
	// ErrPermission: the backend refused the credentials or the operation.
	ErrPermission = primitive.ErrPermission
)

// Error is the error every primitive operation returns: it says which
// primitive, which operation and which key failed, and wraps the cause.
// errors.Is(err, ErrConflict) and errors.Is(err, context.Canceled) see
// through it; when the cause is context.DeadlineExceeded it matches
// ErrTimeout too.
type Error struct {
	// Primitive is the kind of primitive: "counter", "lock", "election",
	// "map", "set", "value", "list" or "indexedmap".
	Primitive string
	// Name is the primitive's name.
	Name string
	// Driver is the name of the client's driver ("etcd", "redis", …), or
	// "" when the error arose before a driver was found.
	Driver string
	// Op is the operation, in lower case: "open", "put", "get",
	// "compare-and-set", …
	Op string
	// Key is what the operation was about, when there is one: the key, the
	// element, the list index or the candidate ID. Nil otherwise.
	Key any
	// Err is the cause; it wraps one of the error values of this package
	// or is a context error.
	Err error
}

// Error formats the error as `atomix: map "users" (redis): put "k": conflict`.
// A name or key longer than 64 bytes is shown cut, followed by its length:
// `"aaaa"…(1048576 bytes)`; the fields keep the whole value.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("atomix: ")
	b.WriteString(e.Primitive)
	b.WriteByte(' ')
	b.WriteString(quote(e.Name))
	if e.Driver != "" {
		b.WriteString(" (")
		b.WriteString(e.Driver)
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(e.Op)
	if e.Key != nil {
		b.WriteByte(' ')
		b.WriteString(formatKey(e.Key))
	}
	b.WriteString(": ")
	if e.timeout() {
		b.WriteString(ErrTimeout.Error())
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, and ErrTimeout as well when the cause is a
// passed context deadline.
func (e *Error) Unwrap() []error {
	if e.timeout() {
		return []error{e.Err, ErrTimeout}
	}
	return []error{e.Err}
}

// timeout reports whether the cause is a context deadline that does not
// already say ErrTimeout.
func (e *Error) timeout() bool {
	return errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, ErrTimeout)
}

// maxShown is the most bytes of a name or key an error message shows, so
// that a message stays readable (and a log line small) however large the
// key an application passed.
const maxShown = 64

// formatKey renders a key for an error message: strings and byte slices
// quoted, anything else as fmt's %v, each cut to maxShown bytes.
func formatKey(k any) string {
	switch k := k.(type) {
	case string:
		return quote(k)
	case []byte:
		return quote(string(k))
	}
	s := fmt.Sprint(k)
	if len(s) <= maxShown {
		return s
	}
	return s[:cut(s)] + shownLength(len(s))
}

// quote quotes s as strconv.Quote does, cut to maxShown bytes.
func quote(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:cut(s)]) + shownLength(len(s))
}

// cut returns where to cut s, longer than maxShown, so that its first
// maxShown bytes at most are kept without splitting a character.
func cut(s string) int {
	n := maxShown
	for n > maxShown-utf8.UTFMax && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// shownLength is what follows a cut name or key: its full length.
func shownLength(n int) string {
	return "…(" + strconv.Itoa(n) + " bytes)"
}

// invalidf returns an error wrapping ErrInvalid with a formatted reason.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
