package etcd

import (
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

// IDs that a naive "namespace/name" encoding would confuse.
var confusableIDs = []driver.ID{
	{Namespace: "a", Name: "b"},
	{Namespace: "a", Name: "b/c"},
	{Namespace: "a/b", Name: "c"},
	{Namespace: "a", Name: "bc"},
	{Namespace: "ab", Name: "c"},
	{Namespace: "ns1", Name: "x"},
	{Namespace: "ns10", Name: "x"},
	{Namespace: "ns1", Name: "0x"},
	{Namespace: "", Name: "1:a"},
	{Namespace: "1:a", Name: "b"},
	{Namespace: "", Name: "a/"},
	{Namespace: "x", Name: "1:"},
}

func TestRootKeysArePrefixFree(t *testing.T) {
	for i, a := range confusableIDs {
		for j, b := range confusableIDs {
			if i == j {
				continue
			}
			ka, kb := rootKey("p/", kindMap, a)+"/", rootKey("p/", kindMap, b)+"/"
			if strings.HasPrefix(kb, ka) {
				t.Errorf("keys of %+v (%q) are a prefix of the keys of %+v (%q)", a, ka, b, kb)
			}
		}
	}
	if rootKey("p/", kindMap, confusableIDs[0]) == rootKey("p/", kindSet, confusableIDs[0]) {
		t.Error("a map and a set with the same ID share a root key")
	}
}

func TestRootKeyLayout(t *testing.T) {
	got := rootKey("atomix/", kindMap, driver.ID{Namespace: "default", Name: "users/eu"})
	if want := "atomix/map/7:default8:users/eu"; got != want {
		t.Errorf("rootKey = %q, want %q", got, want)
	}
}

func TestIndexKeysSortNumerically(t *testing.T) {
	indexes := []uint64{0, 1, 9, 10, 15, 16, 255, 256, 1 << 32, 1<<64 - 1}
	for i, n := range indexes {
		k := indexKey("l/", n)
		got, ok := parseIndexKey("l/", k)
		if !ok || got != n {
			t.Errorf("parseIndexKey(indexKey(%d)) = %d, %v", n, got, ok)
		}
		if i > 0 && indexKey("l/", indexes[i-1]) >= k {
			t.Errorf("indexKey(%d) does not sort before indexKey(%d)", indexes[i-1], n)
		}
	}
	for _, bad := range []string{"l/", "l/123", "l/000000000000000g", "m/0000000000000001", "l/00000000000000001"} {
		if _, ok := parseIndexKey("l/", bad); ok {
			t.Errorf("parseIndexKey(%q) accepted a malformed key", bad)
		}
	}
}
