package etcd

import (
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/atomix/go-client/driver"
)

// The kinds of primitive, as they appear in keys.
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

// rootKey returns the key under which the state of the primitive of kind and
// id lives:
//
//	prefix + kind + "/" + len(namespace) + ":" + namespace + len(name) + ":" + name
//
// Each length-prefixed part says where it ends, so the encoding of one ID is
// never a prefix of the encoding of another: "a" and "a/b", "ns1" and "ns10"
// get unrelated keys whatever bytes they contain. Sub-keys of a primitive are
// rootKey + "/" + ...; they cannot collide with another primitive's keys for
// the same reason.
func rootKey(prefix, kind string, id driver.ID) string {
	b := make([]byte, 0, len(prefix)+len(kind)+len(id.Namespace)+len(id.Name)+24)
	b = append(b, prefix...)
	b = append(b, kind...)
	b = append(b, '/')
	b = appendLengthPrefixed(b, id.Namespace)
	b = appendLengthPrefixed(b, id.Name)
	return string(b)
}

func appendLengthPrefixed(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// rangeEnd returns the end of the range of keys that start with prefix.
func rangeEnd(prefix string) string {
	return clientv3.GetPrefixRangeEnd(prefix)
}

// indexKey encodes a non-negative index as 16 hex digits so that the byte
// order of keys is the numeric order of indexes.
func indexKey(prefix string, index uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, len(prefix)+16)
	copy(b, prefix)
	for i := len(b) - 1; i >= len(prefix); i-- {
		b[i] = digits[index&0xf]
		index >>= 4
	}
	return string(b)
}

// parseIndexKey is the inverse of indexKey; ok is false for a key that
// indexKey did not make.
func parseIndexKey(prefix, key string) (index uint64, ok bool) {
	if len(key) != len(prefix)+16 || key[:len(prefix)] != prefix {
		return 0, false
	}
	for _, c := range []byte(key[len(prefix):]) {
		switch {
		case c >= '0' && c <= '9':
			index = index<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			index = index<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return index, true
}
