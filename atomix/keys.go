package atomix

import "github.com/atomix/go-client/atomix/generic"

// keyCodec turns keys (map keys, set elements) of type K into the strings
// drivers take, and back.
type keyCodec[K any] interface {
	encode(K) (string, error)
	decode(string) (K, error)
}

// newKeyCodec returns the keyCodec of c. For the plain string codec it
// passes strings through without copying them.
func newKeyCodec[K any](c generic.Codec[K]) keyCodec[K] {
	if any(c) == any(generic.String()) {
		return any(stringKeys{}).(keyCodec[K])
	}
	return codecKeys[K]{c}
}

// stringKeys is the keyCodec of string keys under the plain string codec.
type stringKeys struct{}

func (stringKeys) encode(k string) (string, error) { return k, nil }
func (stringKeys) decode(s string) (string, error) { return s, nil }

// codecKeys is the keyCodec of any other codec.
type codecKeys[K any] struct{ c generic.Codec[K] }

func (k codecKeys[K]) encode(v K) (string, error) {
	b, err := k.c.Encode(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (k codecKeys[K]) decode(s string) (K, error) { return k.c.Decode([]byte(s)) }

// decodeRemoved decodes the value of a removal event. A backend that cannot
// supply the removed value sends an empty one; when the codec cannot decode
// that, the event carries the zero value rather than ending the watch.
func decodeRemoved[V any](c generic.Codec[V], b []byte) (V, error) {
	v, err := c.Decode(b)
	if err != nil && len(b) == 0 {
		var zero V
		return zero, nil
	}
	return v, err
}
