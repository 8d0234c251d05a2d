package consul

import (
	"strings"

	"github.com/atomix/go-client/driver"
)

// Key layout. Every primitive lives under
//
//	<prefix>/<kind>/<segment(namespace)>/<segment(name)>
//
// and, for primitives with many keys, below that path followed by "/".
// A segment is "_" followed by the bytes of the string with every byte other
// than an ASCII letter, digit, '-' or '.' written as '_' and two lowercase hex
// digits. Segments therefore never contain '/', are never empty, "." or "..",
// and decode to exactly one string: no namespace, name or user key can be
// confused with another, and no primitive's keys are a prefix of another's
// ("a" and "a/b", "ns1" and "ns10" are unrelated).

// Primitive kinds, the second element of every path.
const (
	kindCounter    = "counter"
	kindLock       = "lock"
	kindElection   = "election"
	kindMap        = "map"
	kindSet        = "set"
	kindValue      = "value"
	kindList       = "list"
	kindIndexedMap = "indexedmap"
)

// segment encodes s as one path element (see the layout above).
func segment(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 1 + len(s)/4)
	b.WriteByte('_')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPlain(c) {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789abcdef"
		b.WriteByte('_')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

func isPlain(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.'
}

// unsegment decodes a segment; ok is false if seg is not the encoding of
// any string.
func unsegment(seg string) (string, bool) {
	if len(seg) == 0 || seg[0] != '_' {
		return "", false
	}
	seg = seg[1:]
	b := make([]byte, 0, len(seg))
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case isPlain(c):
			b = append(b, c)
		case c == '_' && i+2 < len(seg):
			hi, ok1 := hexDigit(seg[i+1])
			lo, ok2 := hexDigit(seg[i+2])
			if !ok1 || !ok2 || isPlain(hi<<4|lo) {
				return "", false // not what segment writes
			}
			b = append(b, hi<<4|lo)
			i += 2
		default:
			return "", false
		}
	}
	return string(b), true
}

// hexDigit decodes one lowercase hex digit, the only case segment writes.
func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// base returns the path of the primitive of kind with id, without a trailing
// slash.
func (d *Driver) base(kind string, id driver.ID) string {
	return d.prefix + "/" + kind + "/" + segment(id.Namespace) + "/" + segment(id.Name)
}
