package redis

import (
	"strings"

	"github.com/atomix/go-client/driver"
)

// keyspace names the Redis keys and the pub/sub channel of one primitive.
//
// Every key of a primitive starts with the same base, "<prefix>:{<tag>}",
// where the tag encodes the primitive's kind and ID. Redis Cluster hashes
// only what is inside the first pair of braces, so all the keys of one
// primitive live in one slot and each script touches one slot.
type keyspace struct {
	base  string
	ch    string // the channel, built once: every write script is sent it
	chArg any    // ch as a command argument, converted once
}

// keyspaceOf returns the keyspace whose keys start with base.
func keyspaceOf(base string) keyspace {
	ch := base + ":ch"
	return keyspace{base: base, ch: ch, chArg: ch}
}

// newKeyspace returns the keyspace of the primitive of kind with id under
// prefix. prefix has been checked to contain no brace.
func newKeyspace(prefix, kind string, id driver.ID) keyspace {
	var b strings.Builder
	b.Grow(len(prefix) + len(kind) + len(id.Namespace) + len(id.Name) + 8)
	b.WriteString(prefix)
	b.WriteString(":{")
	b.WriteString(kind)
	b.WriteByte(':')
	escapeTag(&b, id.Namespace)
	b.WriteByte(':')
	escapeTag(&b, id.Name)
	b.WriteByte('}')
	return keyspaceOf(b.String())
}

// key returns the primitive's key with the given suffix.
func (k keyspace) key(suffix string) string { return k.base + ":" + suffix }

// channel returns the pub/sub channel on which the primitive's scripts
// publish its changes.
func (k keyspace) channel() string { return k.ch }

// channelArg returns the channel as a script's argument, without the
// allocation of converting it again.
func (k keyspace) channelArg() any { return k.chArg }

// leasePrefix is the prefix of the primitive's session lease keys: the
// lease of session s is leasePrefix()+s. It is passed to scripts as a key
// (it has the primitive's hash tag) so they can name any session's lease.
func (k keyspace) leasePrefix() string { return k.base + ":s:" }

// escapeTag writes s so that the result contains no '{', '}' or ':' and no
// two strings give the same result: '%' and those three bytes become %XX.
// With ':' between the escaped namespace and name, the encoding of an ID is
// injective: "a" and "a/b", "ns1" and "ns10", names with braces or colons
// never share a tag.
func escapeTag(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%', '{', '}', ':':
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		default:
			b.WriteByte(c)
		}
	}
}

// sessionKey returns the key that marks session id alive. Its hash tag is
// the session ID, so sessions spread over the slots of a cluster.
func sessionKey(prefix, id string) string { return prefix + ":session:{" + id + "}" }
