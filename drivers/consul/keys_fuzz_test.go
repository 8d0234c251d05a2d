package consul

import (
	"strings"
	"testing"
)

// FuzzKeyEncoding checks the path segment encoding: segment(s) is one path
// element (no '/', never empty, "." or "..") that unsegment decodes back to
// s, so no two strings share a segment; and any string unsegment accepts
// is exactly what segment writes for its result (one encoding per string).
func FuzzKeyEncoding(f *testing.F) {
	for _, s := range []string{"", "a", "a/b", "ns1", "ns10", ".", "..", "_", "_2f", "\x00\xff", "é", "A-z.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seg := segment(s)
		if seg == "" || seg == "." || seg == ".." || strings.Contains(seg, "/") {
			t.Fatalf("segment(%q) = %q: not a single path element", s, seg)
		}
		if got, ok := unsegment(seg); !ok || got != s {
			t.Fatalf("unsegment(segment(%q)) = %q, %v", s, got, ok)
		}
		if dec, ok := unsegment(s); ok && segment(dec) != s {
			t.Fatalf("unsegment(%q) = %q, whose segment is %q: two encodings of one string", s, dec, segment(dec))
		}
	})
}
