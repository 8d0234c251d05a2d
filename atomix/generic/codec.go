// Package generic provides the codecs that turn typed keys, values and
// elements into the bytes that drivers store.
package generic

import (
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
	return b, nil
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
