// Package generic provides the codecs that turn typed keys, values and
// elements into the bytes that drivers store.
package generic

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/atomix/go-client/driver"
)

// Codec encodes values of type T to bytes and back. Decode(Encode(v)) must
// equal v. Codecs must be safe for concurrent use.
type Codec[T any] interface {
	Encode(T) ([]byte, error)
	Decode([]byte) (T, error)
}

// String returns the codec that stores a string as its bytes.
func String() Codec[string] { return stringCodec{} }

// Bytes returns the codec that stores a []byte as it is. Decode returns a
// slice the caller owns.
func Bytes() Codec[[]byte] { return bytesCodec{} }

// JSON returns the codec that stores T as JSON (encoding/json).
//
// Encode refuses, with an error wrapping driver.ErrInvalid, a value whose
// JSON would lose bytes: a string (a field, a map key, an element, or the
// text of a json.Marshaler or encoding.TextMarshaler) holding invalid UTF-8.
// encoding/json would replace each invalid byte with U+FFFD, so two values
// differing only in those bytes would encode alike and, as keys or
// elements, name the same entry. Store such bytes in a []byte field (JSON
// encodes it in base64, losslessly) or use the Bytes codec.
//
// The check reads the encoding for the escape \ufffd, which is how
// encoding/json writes a replaced byte (a valid U+FFFD is written as
// itself), so a custom marshaler that writes the escape \ufffd on purpose is
// refused too.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type stringCodec struct{}

func (stringCodec) Encode(s string) ([]byte, error) { return []byte(s), nil }
func (stringCodec) Decode(b []byte) (string, error) { return string(b), nil }

type bytesCodec struct{}

func (bytesCodec) Encode(b []byte) ([]byte, error) { return b, nil }
func (bytesCodec) Decode(b []byte) ([]byte, error) { return b, nil }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Encode(v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: json encode %T: %v", driver.ErrInvalid, v, err)
	}
	if replacedInvalidUTF8(b) {
		return nil, fmt.Errorf("%w: json encode %T: a string holds invalid UTF-8, which JSON cannot keep", driver.ErrInvalid, v)
	}
	return b, nil
}

// replacedInvalidUTF8 reports whether the output of json.Marshal holds the
// escape \ufffd, which json.Marshal writes in place of each byte of invalid
// UTF-8. Backslashes occur only inside JSON strings, each starting an
// escape, so skipping two bytes per escape keeps the scan aligned.
func replacedInvalidUTF8(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if bytes.HasPrefix(b[i:], []byte(`\ufffd`)) {
			return true
		}
		i++ // skip the escaped letter, so that \\ufffd is not a match
	}
	return false
}

func (jsonCodec[T]) Decode(b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%w: json decode %T: %v", driver.ErrInvalid, v, err)
	}
	return v, nil
}

// Default returns the codec used when no codec option is given: String for
// string, Bytes for []byte, JSON for anything else.
func Default[T any]() Codec[T] {
	var zero T
	switch any(zero).(type) {
	case string:
		return any(stringCodec{}).(Codec[T])
	case []byte:
		return any(bytesCodec{}).(Codec[T])
	}
	return jsonCodec[T]{}
}

// Resolve returns the codec stored in an option value (from
// primitive.Options.Codecs) as a Codec[T], Default[T]() when c is nil, or an
// error wrapping driver.ErrInvalid when c is a codec of another type.
func Resolve[T any](role string, c any) (Codec[T], error) {
	if c == nil {
		return Default[T](), nil
	}
	codec, ok := c.(Codec[T])
	if !ok {
		var zero T
		return nil, fmt.Errorf("%w: %s codec %T does not encode %T", driver.ErrInvalid, role, c, zero)
	}
	return codec, nil
}
