package generic_test

import (
	"context"
	"errors"
	"testing"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/generic"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/set"
	_ "github.com/atomix/go-client/drivers/memory" // registers mem://
)

type tagged struct {
	Name string
	Tags map[string]int
}

// TestJSONRefusesInvalidUTF8 checks that Encode refuses every value whose
// JSON would replace bytes with U+FFFD, and still round-trips the strings
// that look like it but lose nothing.
func TestJSONRefusesInvalidUTF8(t *testing.T) {
	codec := generic.JSON[tagged]()
	for _, v := range []tagged{
		{Name: "a\xff"},
		{Name: "\xc3"}, // a truncated two-byte sequence
		{Tags: map[string]int{"k\xfe": 1}},
	} {
		if b, err := codec.Encode(v); !errors.Is(err, atomix.ErrInvalid) {
			t.Errorf("Encode(%#v) = %q, %v; want ErrInvalid", v, b, err)
		}
	}
	for _, v := range []tagged{
		{Name: "\ufffd"},          // a valid U+FFFD is kept as it is
		{Name: `\ufffd`},          // a backslash, then "ufffd"
		{Name: `\\ufffd`},         // two backslashes, then "ufffd"
		{Name: "x\"\\\n\ufffd\t"}, // other escapes around a valid U+FFFD
		{Tags: map[string]int{"\u2028\ufffd": 1}},
	} {
		b, err := codec.Encode(v)
		if err != nil {
			t.Errorf("Encode(%#v): %v", v, err)
			continue
		}
		got, err := codec.Decode(b)
		if err != nil || got.Name != v.Name || len(got.Tags) != len(v.Tags) {
			t.Errorf("Decode(Encode(%#v)) = %#v, %v", v, got, err)
		}
		for k, n := range v.Tags {
			if got.Tags[k] != n {
				t.Errorf("Decode(Encode(%#v)) lost tag %q", v, k)
			}
		}
	}
}

// TestJSONKeysDifferingInInvalidBytesDoNotCollide checks, through a real
// map and set, that two struct keys that differ only in invalid UTF-8 do
// not end up as one entry: both writes are refused and nothing is stored.
func TestJSONKeysDifferingInInvalidBytesDoNotCollide(t *testing.T) {
	ctx := context.Background()
	client, err := atomix.Open(ctx, "mem://"+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close(ctx)

	type key struct{ ID string }
	a, b := key{"user-\xff"}, key{"user-\xfe"}

	m, err := atomix.GetMap[key, string](ctx, "m", atomix.WithClient(client),
		_map.WithKeyType(generic.JSON[key]()))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []key{a, b} {
		if _, err := m.Put(ctx, k, "v"); !errors.Is(err, atomix.ErrInvalid) {
			t.Errorf("map Put(%q) = %v; want ErrInvalid", k.ID, err)
		}
	}
	if n, err := m.Len(ctx); err != nil || n != 0 {
		t.Errorf("map Len = %d, %v; want 0", n, err)
	}

	s, err := atomix.GetSet[key](ctx, "s", atomix.WithClient(client),
		set.WithElementType(generic.JSON[key]()))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []key{a, b} {
		if _, err := s.Add(ctx, k); !errors.Is(err, atomix.ErrInvalid) {
			t.Errorf("set Add(%q) = %v; want ErrInvalid", k.ID, err)
		}
	}
	if n, err := s.Len(ctx); err != nil || n != 0 {
		t.Errorf("set Len = %d, %v; want 0", n, err)
	}
}
