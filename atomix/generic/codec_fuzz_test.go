package generic

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/atomix/go-client/driver"
)

// fuzzRecord is a JSON-encoded type with the kinds of field a user type
// has: strings (which JSON can lose), bytes, numbers, a map and a list.
type fuzzRecord struct {
	S string
	B []byte
	N int64
	F float64
	M map[string]int
	L []string
}

// FuzzJSONCodec checks the JSON codec on values made from the fuzzer's
// input and on the input itself as stored bytes: Encode either refuses
// (ErrInvalid) or produces bytes that Decode turns back into the same
// value; Decode of any bytes never panics, refuses with ErrInvalid, or
// returns a value that encodes and decodes to itself.
func FuzzJSONCodec(f *testing.F) {
	f.Add("s", []byte("b"), int64(1), 1.5, "k", []byte(`{"S":"x","N":2}`))
	f.Add("\xff", []byte(nil), int64(-1), -0.0, "\xfe", []byte(`"\ud800"`))
	f.Add("\ufffd", []byte{}, int64(1<<62), 1e308, `\ufffd`, []byte(`{"M":{"\ufffd":1},"L":[null]}`))
	f.Add("", []byte("\x00"), int64(0), 0.0, "", []byte(`1e400`))
	c := JSON[fuzzRecord]()
	s := JSON[string]()
	f.Fuzz(func(t *testing.T, str string, b []byte, n int64, fl float64, key string, stored []byte) {
		v := fuzzRecord{S: str, B: b, N: n, F: fl, M: map[string]int{key: 1}, L: []string{key, str}}
		if enc, err := c.Encode(v); err != nil {
			if !errors.Is(err, driver.ErrInvalid) {
				t.Fatalf("Encode(%+v): %v, want ErrInvalid", v, err)
			}
		} else if got, err := c.Decode(enc); err != nil || !reflect.DeepEqual(got, v) {
			t.Fatalf("Decode(Encode(%+v)) = %+v, %v", v, got, err)
		}
		if enc, err := s.Encode(str); err == nil {
			if got, err := s.Decode(enc); err != nil || got != str {
				t.Fatalf("Decode(Encode(%q)) = %q, %v", str, got, err)
			}
		} else if !errors.Is(err, driver.ErrInvalid) {
			t.Fatalf("Encode(%q): %v, want ErrInvalid", str, err)
		}

		got, err := c.Decode(stored)
		if err != nil {
			if !errors.Is(err, driver.ErrInvalid) {
				t.Fatalf("Decode(%q): %v, want ErrInvalid", stored, err)
			}
			return
		}
		enc, err := c.Encode(got)
		if err != nil {
			t.Fatalf("Encode(Decode(%q) = %+v): %v", stored, got, err)
		}
		if again, err := c.Decode(enc); err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("Decode(%q) = %+v, but it encodes and decodes to %+v, %v", stored, got, again, err)
		}
	})
}

// FuzzStringCodec checks the String and Bytes codecs (the defaults for
// string and []byte): any value encodes to its own bytes and decodes back.
func FuzzStringCodec(f *testing.F) {
	f.Add("", []byte(nil))
	f.Add("\xff\x00", []byte("\xff\x00"))
	f.Add("é", []byte("\ufffd"))
	s, bs := Default[string](), Default[[]byte]()
	f.Fuzz(func(t *testing.T, str string, b []byte) {
		enc, err := s.Encode(str)
		if err != nil || string(enc) != str {
			t.Fatalf("Encode(%q) = %q, %v", str, enc, err)
		}
		if got, err := s.Decode(enc); err != nil || got != str {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", str, got, err)
		}
		enc, err = bs.Encode(b)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("Encode(%q) = %q, %v", b, enc, err)
		}
		if got, err := bs.Decode(enc); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", b, got, err)
		}
	})
}
