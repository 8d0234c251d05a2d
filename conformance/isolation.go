package conformance

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
)

// place is one primitive identity: a namespace and a name.
type place struct{ ns, name string }

// testIsolation checks that primitives of one kind whose names or namespaces
// prefix each other, or contain '/', never share state.
func testIsolation(t *testing.T, h Harness, k kind) {
	t.Parallel()
	skipIfGap(t, h, k.feature)
	e := newEnv(t, h)
	b := e.ns
	clients := map[string]*atomix.Client{}
	client := func(ns string) *atomix.Client {
		if clients[ns] == nil {
			clients[ns] = e.clientIn(ns)
		}
		return clients[ns]
	}
	want := func(tag int) int {
		if k.presenceOnly && tag != 0 {
			return 1
		}
		return tag
	}
	marks := []struct {
		place
		tag int
	}{
		{place{b + "1", "x"}, 1}, {place{b + "10", "x"}, 2}, {place{b + "1", "a"}, 3},
		{place{b + "1", "a/b"}, 4}, {place{b + "1", "0/x"}, 5}, {place{b + "1", "ab"}, 6},
		{place{b + "1", "a/b/"}, 7}, {place{b, "1/x"}, 8},
	}
	probes := []place{
		{b + "100", "x"}, {b, "x"}, {b + "10", "/x"}, {b + "1", "0x"}, {b + "1", "a/"},
		{b + "1", "a/b/c"}, {b + "1", "b"}, {b + "1", "/a"}, {b + "10", "a"}, {b + "1", "1/x"},
		{b + "1", "A"}, {b + "1", "x/"}, {b, "10/x"},
	}
	for _, m := range marks {
		require.NoError(t, k.mark(e.ctx, client(m.ns), m.name, m.tag), "%s %q in namespace %q", k.name, m.name, m.ns)
	}
	for _, m := range marks {
		got, err := k.read(e.ctx, client(m.ns), m.name)
		require.NoError(t, err, "%s %q in namespace %q", k.name, m.name, m.ns)
		require.Equal(t, want(m.tag), got, "%s %q in namespace %q", k.name, m.name, m.ns)
	}
	for _, p := range probes {
		got, err := k.read(e.ctx, client(p.ns), p.name)
		require.NoError(t, err, "%s %q in namespace %q", k.name, p.name, p.ns)
		require.Zero(t, got, "%s %q in namespace %q, never written, shows another's state", k.name, p.name, p.ns)
	}

	// A namespace containing '/' may be refused; if it is accepted, it must
	// not meet a name containing '/' in the shorter namespace.
	slash := b + "/1"
	err := k.mark(e.ctx, client(slash), "y", 9)
	if errors.Is(err, atomix.ErrInvalid) {
		t.Logf("namespace %q refused as invalid; not checked: %v", slash, err)
		return
	}
	require.NoError(t, err, "%s %q in namespace %q", k.name, "y", slash)
	for _, c := range []struct {
		place
		tag int
	}{{place{slash, "y"}, 9}, {place{b, "1/y"}, 0}, {place{slash, "x"}, 0}} {
		got, err := k.read(e.ctx, client(c.ns), c.name)
		require.NoError(t, err, "%s %q in namespace %q", k.name, c.name, c.ns)
		require.Equal(t, want(c.tag), got, "%s %q in namespace %q", k.name, c.name, c.ns)
	}
}

// testKinds checks that primitives of different kinds with the same name
// never share state.
func testKinds(t *testing.T, h Harness) {
	parallel(t, "SameNameDifferentKinds", h, func(t *testing.T, e *env) {
		c := e.client()
		var used []kind
		for _, k := range kinds {
			if reason, gap := h.Gaps[k.feature]; gap {
				t.Logf("%s left out: gap: %s", k.name, reason)
				continue
			}
			used = append(used, k)
		}
		for i, k := range used {
			require.NoError(t, k.mark(e.ctx, c, "x", i+1), "mark the %s", k.name)
		}
		for i, k := range used {
			got, err := k.read(e.ctx, c, "x")
			require.NoError(t, err, "read the %s", k.name)
			want := i + 1
			if k.presenceOnly {
				want = 1
			}
			require.Equal(t, want, got, "the %s named %q shares state with another kind", k.name, "x")
		}
	})
}
