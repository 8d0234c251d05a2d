package etcd

import (
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

// FuzzKeyEncoding checks the key layout against any namespaces and names:
// two different IDs of one kind never share a key or a sub-key (neither
// root key, followed by the "/" that starts its sub-keys, is a prefix of the
// other's), and index keys decode to their index and sort in its order.
func FuzzKeyEncoding(f *testing.F) {
	f.Add("ns", "a", "ns", "a/b", uint64(1), uint64(2))
	f.Add("ns1", "x", "ns10", "x", uint64(0), uint64(1<<63))
	f.Add("1:a", "", "1", ":a", uint64(15), uint64(16))
	f.Add("", "2:ab", "2:ab", "", uint64(1<<64-1), uint64(0))
	f.Add("\x00\xff", "é/", "\x00", "\xffé/", uint64(255), uint64(256))
	f.Fuzz(func(t *testing.T, ns1, name1, ns2, name2 string, i, j uint64) {
		a := rootKey("atomix/", kindMap, driver.ID{Namespace: ns1, Name: name1})
		b := rootKey("atomix/", kindMap, driver.ID{Namespace: ns2, Name: name2})
		same := ns1 == ns2 && name1 == name2
		if same != (a == b) {
			t.Fatalf("IDs (%q, %q) and (%q, %q): keys %q and %q", ns1, name1, ns2, name2, a, b)
		}
		if !same && (strings.HasPrefix(b+"/", a+"/") || strings.HasPrefix(a+"/", b+"/")) {
			t.Fatalf("IDs (%q, %q) and (%q, %q) share sub-keys: %q, %q", ns1, name1, ns2, name2, a, b)
		}
		ki, kj := indexKey(a+"/", i), indexKey(a+"/", j)
		if got, ok := parseIndexKey(a+"/", ki); !ok || got != i {
			t.Fatalf("parseIndexKey(indexKey(%d)) = %d, %v", i, got, ok)
		}
		if (i < j) != (ki < kj) {
			t.Fatalf("index keys of %d and %d sort as %q, %q", i, j, ki, kj)
		}
		if _, ok := parseIndexKey(a+"/", a+"/"+name1); ok && len(name1) != 16 {
			t.Fatalf("parseIndexKey accepted %q, which indexKey cannot make", name1)
		}
	})
}
