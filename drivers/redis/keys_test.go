package redis

import (
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

// hashTag returns what Redis Cluster hashes for key: the part inside the
// first braces, if not empty; else the whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return key
	}
	return key[open+1 : open+1+end]
}

func TestKeyspaceIsInjective(t *testing.T) {
	ids := []driver.ID{
		{Name: "a"}, {Name: "a/b"}, {Name: "ab"}, {Name: "a/"}, {Name: "/a"}, {Name: "A"},
		{Namespace: "ns1", Name: "a"}, {Namespace: "ns10", Name: "a"}, {Namespace: "ns", Name: "1a"},
		{Namespace: "ns", Name: "1/a"}, {Namespace: "ns1/a"}, {Namespace: "ns1", Name: "/a"},
		{Namespace: "a:b", Name: "c"}, {Namespace: "a", Name: "b:c"}, {Name: "a:b:c"},
		{Name: "{x}"}, {Name: "}x{"}, {Name: "%7B"}, {Name: "{"}, {Name: "%"}, {Name: "%25"},
		{Namespace: "{", Name: "}"}, {Namespace: "", Name: "{}"}, {Name: "\x00"}, {Name: "é"},
	}
	seen := map[string]driver.ID{}
	for _, kind := range []string{"map", "set"} {
		for _, id := range ids {
			ks := newKeyspace("atomix", kind, id)
			if other, dup := seen[ks.base]; dup {
				t.Fatalf("%s %+v and %+v share the base %q", kind, id, other, ks.base)
			}
			seen[ks.base] = id
			tag := hashTag(ks.key("h"))
			if strings.ContainsAny(tag, "{}") || tag == ks.key("h") {
				t.Fatalf("%+v: key %q has no proper hash tag", id, ks.key("h"))
			}
			for _, k := range []string{ks.key("ver"), ks.key("z"), ks.leasePrefix() + "abc", ks.key("snap:1")} {
				if hashTag(k) != tag {
					t.Fatalf("%+v: %q and %q are in different slots", id, ks.key("h"), k)
				}
			}
		}
	}
}

func TestKeyPrefixWithBraceIsInvalid(t *testing.T) {
	if _, err := (Options{KeyPrefix: "a{b"}).resolve(); err == nil {
		t.Fatal("a key prefix with a brace was accepted")
	}
}
