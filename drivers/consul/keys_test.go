package consul

import (
	"strings"
	"testing"
	"testing/quick"
)

func TestSegmentRoundTrip(t *testing.T) {
	for _, s := range []string{"", "a", "a/b", "ns1", "ns10", "_", "__", ".", "..", "héllo", "\x00\xff", "a b?c#d%e"} {
		seg := segment(s)
		if strings.Contains(seg, "/") || seg == "." || seg == ".." || seg == "" {
			t.Errorf("segment(%q) = %q is not one safe path element", s, seg)
		}
		got, ok := unsegment(seg)
		if !ok || got != s {
			t.Errorf("unsegment(segment(%q)) = %q, %v", s, got, ok)
		}
	}
	roundTrip := func(s string) bool {
		got, ok := unsegment(segment(s))
		return ok && got == s
	}
	if err := quick.Check(roundTrip, nil); err != nil {
		t.Error(err)
	}
}

func TestSegmentIsInjective(t *testing.T) {
	distinct := func(a, b string) bool { return a == b || segment(a) != segment(b) }
	if err := quick.Check(distinct, nil); err != nil {
		t.Error(err)
	}
	// A segment is never a prefix of another's path element followed by
	// "/": paths of different IDs never nest.
	d := &Driver{prefix: "p"}
	a := d.base(kindMap, testID("a")) + "/"
	for _, other := range []string{"a/b", "a/", "ab", "/a"} {
		if strings.HasPrefix(d.base(kindMap, testID(other))+"/", a) {
			t.Errorf("the keys of %q are under those of %q", other, "a")
		}
	}
}

func TestUnsegmentRejectsForeignKeys(t *testing.T) {
	for _, s := range []string{"", "a", "_a/b", "_%", "_ _", "_a_", "_a_4", "_a_4G", "_a_41" /* 'A' is written plain */, "_a_2F"} {
		if got, ok := unsegment(s); ok {
			t.Errorf("unsegment(%q) = %q, want not a segment", s, got)
		}
	}
}
