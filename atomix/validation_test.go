package atomix_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	"github.com/atomix/go-client/atomix/indexedmap"
	"github.com/atomix/go-client/atomix/list"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/primitive"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
	"github.com/atomix/go-client/driver"
	"github.com/atomix/go-client/drivers/memory"
)

// newClient returns a client over a fresh in-memory store, closed when the
// test ends.
func newClient(t testing.TB, opts ...atomix.Option) *atomix.Client {
	t.Helper()
	c := atomix.NewClient(append([]atomix.Option{atomix.WithDriver(memory.New())}, opts...)...)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// getters opens one primitive of every kind called name on c.
var getters = map[string]func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error{
	"counter": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := c.GetCounter(ctx, name, opts...)
		return err
	},
	"lock": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := c.GetLock(ctx, name, opts...)
		return err
	},
	"election": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := c.GetElection(ctx, name, opts...)
		return err
	},
	"map": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := atomix.GetMap[string, string](ctx, name, append(opts, atomix.WithClient(c))...)
		return err
	},
	"set": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := atomix.GetSet[string](ctx, name, append(opts, atomix.WithClient(c))...)
		return err
	},
	"value": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := atomix.GetValue[string](ctx, name, append(opts, atomix.WithClient(c))...)
		return err
	},
	"list": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := atomix.GetList[string](ctx, name, append(opts, atomix.WithClient(c))...)
		return err
	},
	"indexedmap": func(ctx context.Context, c *atomix.Client, name string, opts ...primitive.Option) error {
		_, err := atomix.GetIndexedMap[string, string](ctx, name, append(opts, atomix.WithClient(c))...)
		return err
	},
}

// wantErr fails unless err matches target and its message contains every
// part.
func wantErr(t *testing.T, err, target error, parts ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want an error matching %v", err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not say %q", err, p)
		}
	}
}

func TestInvalidNames(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	long := strings.Repeat("n", 1025)
	for kind, get := range getters {
		t.Run(kind, func(t *testing.T) {
			wantErr(t, get(ctx, c, ""), atomix.ErrInvalid, `atomix: `+kind+` "": open: `, "empty name")
			wantErr(t, get(ctx, c, long), atomix.ErrInvalid, "1025 bytes is longer than 1024")
			if err := get(ctx, c, strings.Repeat("n", 1024)); err != nil {
				t.Fatalf("a 1024-byte name: %v", err)
			}
		})
	}
}

func TestBadClientOptionsSurfaceOnFirstUse(t *testing.T) {
	ctx := t.Context()
	for name, opts := range map[string][]atomix.Option{
		"long namespace": {atomix.WithDriver(memory.New()), atomix.WithNamespace(strings.Repeat("x", 1025))},
		"zero TTL":       {atomix.WithDriver(memory.New()), atomix.WithSessionTTL(0)},
		"nil driver":     {atomix.WithDriver(nil)},
		"no driver":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			c := atomix.NewClient(opts...)
			if c == nil {
				t.Fatal("NewClient returned nil")
			}
			defer c.Close(ctx)
			for kind, get := range getters {
				if err := get(ctx, c, "x"); !errors.Is(err, atomix.ErrInvalid) {
					t.Errorf("%s: got %v, want ErrInvalid", kind, err)
				}
			}
		})
	}
	_, err := atomix.Open(ctx, "mem://x", atomix.WithSessionTTL(-1))
	wantErr(t, err, atomix.ErrInvalid, "session TTL")
	_, err = atomix.Open(ctx, "mem://x", atomix.WithDriver(memory.New()))
	wantErr(t, err, atomix.ErrInvalid, "WithDriver")
	_, err = atomix.Open(ctx, "nosuch://x")
	wantErr(t, err, atomix.ErrInvalid, "nosuch")
}

func TestOpenRedactsPassword(t *testing.T) {
	_, err := atomix.Open(t.Context(), "nosuch://user:secret@host")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("got %v, want an error without the password", err)
	}
}

func TestWithClientNil(t *testing.T) {
	_, err := atomix.GetMap[string, string](t.Context(), "m", atomix.WithClient(nil))
	wantErr(t, err, atomix.ErrInvalid, "WithClient(nil)")
}

func TestCodecOfWrongType(t *testing.T) {
	ctx := t.Context()
	c := atomix.WithClient(newClient(t))
	_, err := atomix.GetMap[string, int](ctx, "m", c, _map.WithValueType(generic.String()))
	wantErr(t, err, atomix.ErrInvalid, `atomix: map "m": open:`, "value codec")
	_, err = atomix.GetMap[int, string](ctx, "m", c, _map.WithKeyType(generic.String()))
	wantErr(t, err, atomix.ErrInvalid, "key codec")
	_, err = atomix.GetSet[[]byte](ctx, "s", c, set.WithElementType(generic.String()))
	wantErr(t, err, atomix.ErrInvalid, "element codec")
	_, err = atomix.GetValue[int](ctx, "v", c, value.WithType(generic.String()))
	wantErr(t, err, atomix.ErrInvalid)
	_, err = atomix.GetList[int](ctx, "l", c, list.WithElementType(generic.Bytes()))
	wantErr(t, err, atomix.ErrInvalid)
	_, err = atomix.GetIndexedMap[string, int](ctx, "i", c, indexedmap.WithValueType(generic.JSON[string]()))
	wantErr(t, err, atomix.ErrInvalid)

	// A codec for a role the primitive does not have.
	_, err = atomix.GetSet[string](ctx, "s", c, _map.WithKeyType(generic.String()))
	wantErr(t, err, atomix.ErrInvalid, `no "key" codec`)
	_, err = atomix.GetCounter(ctx, "n", c, _map.WithKeyType(generic.String()))
	wantErr(t, err, atomix.ErrInvalid, "takes no codec")

	// The right types work, explicit or default.
	if _, err := atomix.GetMap[string, int](ctx, "m", c, _map.WithKeyType(generic.String()), _map.WithValueType(generic.JSON[int]())); err != nil {
		t.Fatal(err)
	}
	if _, err := atomix.GetMap[[]byte, struct{ A int }](ctx, "m2", c); err != nil {
		t.Fatal(err)
	}
}

func TestSizeLimits(t *testing.T) {
	ctx := t.Context()
	c := atomix.NewClient(atomix.WithDriver(memory.New(memory.WithLimits(driver.Limits{MaxKeySize: 8, MaxValueSize: 16}))))
	defer c.Close(ctx)
	m, err := atomix.GetMap[string, string](ctx, "m", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Put(ctx, "k", strings.Repeat("v", 17))
	wantErr(t, err, atomix.ErrInvalid, `atomix: map "m" (memory): put "k": invalid argument: value of 17 bytes exceeds the backend's limit of 16`)
	_, err = m.Put(ctx, "123456789", "v")
	wantErr(t, err, atomix.ErrInvalid, "key of 9 bytes exceeds the backend's limit of 8")
	_, err = m.Get(ctx, "123456789")
	wantErr(t, err, atomix.ErrInvalid, "key of 9 bytes")
	if _, err := m.Put(ctx, "12345678", strings.Repeat("v", 16)); err != nil {
		t.Fatalf("at the limits: %v", err)
	}

	s, err := atomix.GetSet[string](ctx, "s", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Add(ctx, "123456789")
	wantErr(t, err, atomix.ErrInvalid, "key of 9 bytes")

	v, err := atomix.GetValue[[]byte](ctx, "v", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Set(ctx, make([]byte, 17))
	wantErr(t, err, atomix.ErrInvalid, "value of 17 bytes")

	l, err := atomix.GetList[string](ctx, "l", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Append(ctx, strings.Repeat("v", 17))
	wantErr(t, err, atomix.ErrInvalid, "value of 17 bytes")

	im, err := atomix.GetIndexedMap[string, string](ctx, "i", atomix.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	_, err = im.Append(ctx, "123456789", "v")
	wantErr(t, err, atomix.ErrInvalid, "key of 9 bytes")
	_, err = im.Append(ctx, "k", strings.Repeat("v", 17))
	wantErr(t, err, atomix.ErrInvalid, "value of 17 bytes")
}

func TestNegativeListIndex(t *testing.T) {
	ctx := t.Context()
	l, err := atomix.GetList[string](ctx, "l", atomix.WithClient(newClient(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	_, err = l.Get(ctx, -1)
	wantErr(t, err, atomix.ErrInvalid, `atomix: list "l" (memory): get -1: invalid argument: negative index -1`)
	_, err = l.Set(ctx, -1, "x")
	wantErr(t, err, atomix.ErrInvalid)
	_, err = l.Remove(ctx, -2)
	wantErr(t, err, atomix.ErrInvalid)
	wantErr(t, l.Insert(ctx, -1, "x"), atomix.ErrInvalid)
	_, err = l.Get(ctx, 1)
	wantErr(t, err, atomix.ErrNotFound, `atomix: list "l" (memory): get 1: `)
}

func TestCodecFailuresAreInvalid(t *testing.T) {
	ctx := t.Context()
	c := atomix.WithClient(newClient(t))
	raw, err := atomix.GetMap[string, string](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Put(ctx, "k", "not json"); err != nil {
		t.Fatal(err)
	}
	typed, err := atomix.GetMap[string, int](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = typed.Get(ctx, "k")
	wantErr(t, err, atomix.ErrInvalid, `atomix: map "m" (memory): get "k": invalid argument: json decode`)
	for _, err := range typed.Entries(ctx) {
		wantErr(t, err, atomix.ErrInvalid, "entries")
	}
	// An unencodable value.
	ch, err := atomix.GetMap[string, chan int](ctx, "m", c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Put(ctx, "k", make(chan int))
	wantErr(t, err, atomix.ErrInvalid, `put "k"`, "json encode")
}

func TestNilClientReceiver(t *testing.T) {
	var c *atomix.Client
	_, err := c.GetCounter(t.Context(), "n")
	wantErr(t, err, atomix.ErrInvalid, "nil *atomix.Client")
	_, err = c.GetLock(t.Context(), "l")
	wantErr(t, err, atomix.ErrInvalid)
	_, err = c.GetElection(t.Context(), "e")
	wantErr(t, err, atomix.ErrInvalid)
}

func TestLongSessionID(t *testing.T) {
	_, err := newClient(t).GetElection(t.Context(), "e", primitive.WithSessionID(strings.Repeat("x", 1025)))
	wantErr(t, err, atomix.ErrInvalid, "session ID of 1025 bytes")
}
