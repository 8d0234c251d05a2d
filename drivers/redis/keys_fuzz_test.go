package redis

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/atomix/go-client/driver"
)

// unescapeTag is the inverse of escapeTag, for FuzzKeyEncoding: ok is
// false when s is not something escapeTag writes.
func unescapeTag(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '{', '}', ':':
			return "", false
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil || strings.ToUpper(s[i+1:i+3]) != s[i+1:i+3] {
				return "", false
			}
			switch byte(n) {
			case '%', '{', '}', ':':
			default:
				return "", false // escapeTag writes other bytes as they are
			}
			b.WriteByte(byte(n))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// FuzzKeyEncoding checks the keyspace of any ID: the hash tag is the whole
// "{kind:namespace:name}" (one pair of braces, so every key of the
// primitive is in one Redis Cluster slot), it decodes back to exactly the
// ID (so the encoding is injective: no two IDs share keys or a channel),
// and the keys and channel extend the base after a ':'.
func FuzzKeyEncoding(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"a", "a/b"}, {"ns1", "ns10"}, {"{x}", "y:z"}, {"%41", "%"},
		{"a:b", "c"}, {"a", "b:c"}, {"\x00\xff", "é"}, {"}{", "::"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, ns, name string) {
		const prefix, kind = "atomix", "map"
		k := newKeyspace(prefix, kind, driver.ID{Namespace: ns, Name: name})
		rest, ok := strings.CutPrefix(k.base, prefix+":{")
		if !ok || !strings.HasSuffix(rest, "}") {
			t.Fatalf("base %q: want %q{...}", k.base, prefix+":")
		}
		tag := strings.TrimSuffix(rest, "}")
		if strings.ContainsAny(tag, "{}") {
			t.Fatalf("base %q: a brace inside the hash tag", k.base)
		}
		parts := strings.Split(tag, ":")
		if len(parts) != 3 || parts[0] != kind {
			t.Fatalf("tag %q: want %s:<namespace>:<name>", tag, kind)
		}
		gotNS, ok1 := unescapeTag(parts[1])
		gotName, ok2 := unescapeTag(parts[2])
		if !ok1 || !ok2 || gotNS != ns || gotName != name {
			t.Fatalf("tag %q decodes to (%q, %q), want (%q, %q)", tag, gotNS, gotName, ns, name)
		}
		for _, key := range []string{k.key("h"), k.channel(), k.leasePrefix() + "s"} {
			if !strings.HasPrefix(key, k.base+":") {
				t.Fatalf("key %q does not extend the base %q", key, k.base)
			}
		}
	})
}

// FuzzParseURL checks that ParseURL never panics on any URL, refuses only
// with ErrInvalid, and never shows the URL's password in its error. URLs
// naming a password file are skipped: the fuzzer must not read files.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"redis://u:pw@h:7000/3?addr=h2&protocol=2&read-timeout=1s",
		"rediss://u:pw@h?tls=false",
		"redis://:pw@[::1]:0?sentinel-master=m&sentinel-password=pw&addr=%zz",
		"redis://u:pw@h/x?key-prefix={&max-key-size=-1&pool-size=1e9",
		"redis://u:pw@h,h2:1?cluster=true&cluster=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil || strings.Contains(u.RawQuery, "file") {
			return
		}
		u.Scheme = Scheme
		_, _, err = ParseURL(u)
		if err == nil {
			return
		}
		if !errors.Is(err, driver.ErrInvalid) {
			t.Fatalf("ParseURL(%q): %v, want ErrInvalid", raw, err)
		}
		pw, ok := u.User.Password()
		if !ok || len(pw) < 4 {
			return
		}
		rest := *u
		rest.User = nil
		q, _ := url.QueryUnescape(u.RawQuery)
		for _, elsewhere := range []string{rest.String(), u.Host, u.Path, u.RawQuery, q} {
			if strings.Contains(elsewhere, pw) {
				return // the error may name that part of the URL
			}
		}
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("ParseURL(%q): error %q shows the password", raw, err)
		}
	})
}
