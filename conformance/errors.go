package conformance

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/value"
)

// testErrors: every error kind a driver produces reads once: the portable
// layer names the primitive, its name, the driver, the operation and the
// key, and the driver's part repeats none of them.
func testErrors(t *testing.T, h Harness) {
	parallel(t, "ReadOnce", h, testErrorsReadOnce)
}

func testErrorsReadOnce(t *testing.T, e *env) {
	const name, key = "errname-7q2x", "errkey-k9w4"
	c := e.client()
	driverName := e.driver().Name()
	ctx := e.ctx
	m := openMap[string, string](e, c, name)
	entry, err := m.Put(ctx, key, "v")
	require.NoError(t, err)
	v, err := atomix.GetValue[string](ctx, name, atomix.WithClient(c))
	require.NoError(t, err)
	el, err := atomix.GetElection(ctx, name, atomix.WithClient(c))
	require.NoError(t, err)
	li, err := atomix.GetList[string](ctx, name, atomix.WithClient(c))
	require.NoError(t, err)
	expired, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	closed := openMap[string, string](e, c, name+"-closed")
	require.NoError(t, closed.Close(ctx))

	absent := key + "-absent"
	cases := []struct {
		kind      error
		primitive string
		name      string // the primitive's name the message shows
		op        string
		key       string // the key the message shows; "" when none
		err       error
	}{
		{atomix.ErrNotFound, "map", name, "get", absent, errOf(m.Get(ctx, absent))},
		{atomix.ErrAlreadyExists, "map", name, "insert", key, errOf(m.Insert(ctx, key, "w"))},
		{atomix.ErrConflict, "map", name, "put", key, errOf(m.Put(ctx, key, "w", _map.IfVersion(entry.Version+1000)))},
		{atomix.ErrNotFound, "value", name, "get", "", errOf3(v.Get(ctx))},
		{atomix.ErrConflict, "value", name, "set", "", errOf(v.Set(ctx, "x", value.IfVersion(1<<40)))},
		{atomix.ErrNotFound, "election", name, "anoint", key, errOf(el.Anoint(ctx, key))},
		{atomix.ErrNotFound, "list", name, "get", "5", errOf(li.Get(ctx, 5))},
		{atomix.ErrTimeout, "map", name, "get", key, errOf(m.Get(expired, key))},
		{atomix.ErrClosed, "map", name + "-closed", "get", key, errOf(closed.Get(ctx, key))},
	}
	for _, tc := range cases {
		require.ErrorIs(t, tc.err, tc.kind, "%s %s", tc.primitive, tc.op)
		msg := tc.err.Error()
		prefix := "atomix: " + tc.primitive + " " + strconv.Quote(tc.name) + " (" + driverName + "): " + tc.op
		if tc.key != "" {
			shown := strconv.Quote(tc.key)
			if tc.primitive == "list" {
				shown = tc.key
			}
			prefix += " " + shown
		}
		prefix += ": "
		require.True(t, strings.HasPrefix(msg, prefix), "message %q does not start with %q", msg, prefix)
		rest := strings.TrimPrefix(msg, prefix)
		for _, repeated := range []string{name, key, "atomix:", driverName + ":", tc.primitive + " "} {
			require.NotContains(t, rest, repeated, "message %q repeats %q after its prefix", msg, repeated)
		}
	}
}
