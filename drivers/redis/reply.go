package redis

import (
	"encoding/binary"
	"strconv"

	"github.com/atomix/go-client/driver"
)

// Helpers that read the replies of scripts. A reply that does not have the
// shape a script returns means the keys were written by something else; it
// is reported as ErrInvalid.

// badReply reports a reply the driver did not expect.
func badReply(format string, args ...any) error {
	return driver.Errorf(driver.ErrInvalid, "unexpected reply from Redis: "+format, args...)
}

// replyArray returns v as an array of at least n elements.
func replyArray(v any, n int) ([]any, error) {
	a, ok := v.([]any)
	if !ok || len(a) < n {
		return nil, badReply("want an array of %d or more elements, got %T %v", n, v, v)
	}
	return a, nil
}

// replyInt returns v as an integer.
func replyInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, badReply("want an integer, got %q", x)
		}
		return n, nil
	}
	return 0, badReply("want an integer, got %T", v)
}

// replyUint returns v as a non-negative integer.
func replyUint(v any) (uint64, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, badReply("want a non-negative integer, got %d", x)
		}
		return uint64(x), nil
	case string:
		n, err := strconv.ParseUint(x, 10, 64)
		if err != nil {
			return 0, badReply("want a non-negative integer, got %q", x)
		}
		return n, nil
	case nil:
		return 0, nil
	}
	return 0, badReply("want an integer, got %T", v)
}

// replyString returns v as a string; nil is "".
func replyString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	}
	return "", badReply("want a string, got %T", v)
}

// versionBytes encodes a version as the 8 bytes scripts compare stored
// headers with; 0 (no precondition) is the empty string.
func versionBytes(v uint64) string {
	if v == 0 {
		return ""
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return string(b[:])
}

// record is a value stored behind a header of big-endian uint64 fields
// (the version, and the index in an indexed map).
type record struct {
	fields [2]uint64
	value  string
}

// parseRecord splits a stored value with n header fields.
func parseRecord(s string, n int) (record, error) {
	var r record
	if len(s) < 8*n {
		return r, badReply("stored value of %d bytes is shorter than its %d-byte header", len(s), 8*n)
	}
	for i := 0; i < n; i++ {
		r.fields[i] = beUint64(s[8*i:])
	}
	r.value = s[8*n:]
	return r, nil
}

// beUint64 decodes the big-endian uint64 at the start of s (len(s) >= 8).
func beUint64(s string) uint64 {
	_ = s[7]
	return uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
		uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
}

// bytesOf returns a new byte slice holding s; never nil.
func bytesOf(s string) []byte {
	b := make([]byte, len(s))
	copy(b, s)
	return b
}

// cloneBytes returns a copy of b that shares nothing with it; never nil.
func cloneBytes(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// payload reads a message published by a script: big-endian integers and
// length-prefixed strings. Messages come from anyone allowed to PUBLISH on
// the channel: a read past the end sets err (and reads return zero
// values), a length is checked against the bytes present before anything
// is sliced, and nothing is allocated from a length.
type payload struct {
	s   string
	off int
	err error
}

func (p *payload) u64() uint64 {
	if p.err != nil || len(p.s)-p.off < 8 {
		p.fail()
		return 0
	}
	v := beUint64(p.s[p.off:])
	p.off += 8
	return v
}

func (p *payload) u32() uint32 {
	if p.err != nil || len(p.s)-p.off < 4 {
		p.fail()
		return 0
	}
	v := uint32(0)
	for i := 0; i < 4; i++ {
		v = v<<8 | uint32(p.s[p.off+i])
	}
	p.off += 4
	return v
}

func (p *payload) byte() byte {
	if p.err != nil || len(p.s)-p.off < 1 {
		p.fail()
		return 0
	}
	b := p.s[p.off]
	p.off++
	return b
}

// str reads a string prefixed by its 4-byte length.
func (p *payload) str() string {
	n := p.u32()
	if p.err != nil || uint64(n) > uint64(len(p.s)-p.off) {
		p.fail()
		return ""
	}
	v := p.s[p.off : p.off+int(n)]
	p.off += int(n)
	return v
}

// rest returns what is left.
func (p *payload) rest() string {
	if p.err != nil {
		return ""
	}
	v := p.s[p.off:]
	p.off = len(p.s)
	return v
}

// left returns how many bytes are unread.
func (p *payload) left() int {
	if p.err != nil {
		return 0
	}
	return len(p.s) - p.off
}

// end sets err if anything is left unread: a change is exactly its
// fields.
func (p *payload) end() {
	if p.err == nil && p.off != len(p.s) {
		p.err = badReply("%d unexpected bytes after a change of %d bytes", len(p.s)-p.off, p.off)
	}
}

func (p *payload) fail() {
	if p.err == nil {
		p.err = badReply("truncated change message of %d bytes", len(p.s))
	}
}
