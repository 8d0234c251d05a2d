package urlparam

import (
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

// settings is what the table's reader reads from a query.
type settings struct {
	Name    string
	Token   string
	On      bool
	Wait    time.Duration
	Size    int
	Addrs   []string
	HasSize bool
}

// read reads the parameters of the table's imaginary driver.
func read(q *Query) (settings, error) {
	var s settings
	s.Name = q.String("name")
	s.Token = q.String("token")
	s.On = q.Bool("on")
	s.Wait = q.Duration("wait", time.Hour)
	s.HasSize = q.Has("size")
	s.Size = q.Int("size", -1, 1000)
	s.Addrs = q.Strings("addr")
	return s, q.Done()
}

func TestQuery(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	for _, tc := range []struct {
		raw     string
		want    settings
		errKey  string // the key the error must name; "" for success
		errText string // more text the error must contain
	}{
		{raw: "", want: settings{}},
		{raw: "name=a%20b&on=true&wait=1m30s&size=-1&addr=x&addr=y&token=" + secret,
			want: settings{Name: "a b", Token: secret, On: true, Wait: 90 * time.Second, Size: -1, Addrs: []string{"x", "y"}, HasSize: true}},
		{raw: "name=a+b&&on=1&", want: settings{Name: "a b", On: true}},
		{raw: "name=%E2%82%AC", want: settings{Name: "€"}},
		{raw: "name", want: settings{Name: ""}},
		{raw: "wait=0&size=0", want: settings{HasSize: true}},

		{raw: "token=" + secret + "&bogus=" + secret, errKey: "bogus", errText: "unknown"},
		{raw: "zeta=1&alpha=2", errKey: "alpha", errText: `"alpha", "zeta"`},
		{raw: "token=" + secret + "&token=" + secret, errKey: "token", errText: "2 times"},
		{raw: "token=" + secret + "%zz", errKey: "token", errText: "escape"},
		{raw: "token=" + secret + "%", errKey: "token", errText: "escape"},
		{raw: "tok%g0en=" + secret, errText: "escape"},
		{raw: "token=" + secret + ";name=x", errKey: "token", errText: "';'"},
		{raw: "name=x;token=" + secret, errKey: "name", errText: "';'"},
		{raw: "on=" + secret, errKey: "on", errText: "true or false"},
		{raw: "on=", errKey: "on"},
		{raw: "wait=" + secret, errKey: "wait", errText: "duration"},
		{raw: "wait=-1s", errKey: "wait", errText: "negative"},
		{raw: "wait=2h", errKey: "wait", errText: "above 1h0m0s"},
		{raw: "wait=9999999999999999999h", errKey: "wait"},
		{raw: "wait=NaN", errKey: "wait"},
		{raw: "size=1001", errKey: "size", errText: "from -1 to 1000"},
		{raw: "size=-2", errKey: "size"},
		{raw: "size=99999999999999999999999", errKey: "size"},
		{raw: "size=NaN", errKey: "size"},
		{raw: "size=Inf", errKey: "size"},
		{raw: "size=1e3", errKey: "size"},
		{raw: "size=0x10", errKey: "size"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			q, err := Parse(tc.raw)
			var got settings
			if err == nil {
				got, err = read(q)
			}
			if tc.errKey == "" && tc.errText == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if got.Name != tc.want.Name || got.Token != tc.want.Token || got.On != tc.want.On ||
					got.Wait != tc.want.Wait || got.Size != tc.want.Size || got.HasSize != tc.want.HasSize ||
					!slices.Equal(got.Addrs, tc.want.Addrs) {
					t.Fatalf("got %+v, want %+v", got, tc.want)
				}
				return
			}
			if !errors.Is(err, driver.ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			msg := err.Error()
			if tc.errKey != "" && !strings.Contains(msg, strconv.Quote(tc.errKey)) {
				t.Errorf("error %q does not name the key %q", msg, tc.errKey)
			}
			if !strings.Contains(msg, tc.errText) {
				t.Errorf("error %q does not say %q", msg, tc.errText)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q echoes the secret value", msg)
			}
		})
	}
}

// TestErrorIsOrderIndependent checks that which keys are reported does not
// depend on the order of the URL.
func TestErrorIsOrderIndependent(t *testing.T) {
	var first string
	for _, raw := range []string{"b=1&a=1&name=x", "a=1&name=x&b=1", "name=x&b=1&a=1"} {
		q, _ := Parse(raw)
		_, err := read(q)
		if err == nil {
			t.Fatalf("%s: no error", raw)
		}
		if first == "" {
			first = err.Error()
		} else if err.Error() != first {
			t.Errorf("%s: error %q, another order gave %q", raw, err, first)
		}
	}
}

func TestWithout(t *testing.T) {
	q, err := Parse("namespace=ns&a=%41+b&session-ttl=3s&b=&namespace=again&c")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := q.Without("namespace", "session-ttl"), "a=%41+b&b=&c"; got != want {
		t.Errorf("Without = %q, want %q", got, want)
	}
	if got := q.Without(); got != "namespace=ns&a=%41+b&session-ttl=3s&b=&namespace=again&c" {
		t.Errorf("Without() = %q, want the query unchanged", got)
	}
	if got, want := q.Keys(), []string{"namespace", "a", "session-ttl", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Keys = %q, want %q", got, want)
	}
}

func TestErrKeepsTheFirst(t *testing.T) {
	q, _ := Parse("on=x&size=x")
	if q.Err() != nil {
		t.Fatalf("Err before reading: %v", q.Err())
	}
	q.Bool("on")
	q.Int("size", 0, 1)
	if err := q.Err(); err == nil || !strings.Contains(err.Error(), `"on"`) {
		t.Errorf("Err = %v, want the error about on", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "a=1&b=2", "a=%zz", "a=1&a=2", "k=v;x", "+=%20&&", "%", "a==b&=c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, driver.ErrInvalid) {
				t.Fatalf("Parse(%q): %v, want ErrInvalid", raw, err)
			}
			return
		}
		// The getters never panic, whatever the values.
		for _, k := range q.Keys() {
			q.Bool(k)
			q.Duration(k, math.MaxInt64)
			q.Int(k, math.MinInt, math.MaxInt)
			q.Strings(k)
		}
		_ = q.Done()

		// Go's own parser agrees on every key and value.
		std, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("Parse(%q) succeeded, url.ParseQuery failed: %v", raw, err)
		}
		keys := q.Keys()
		if len(keys) != len(std) {
			t.Fatalf("Parse(%q) keys %q, url.ParseQuery %v", raw, keys, std)
		}
		// Encoding the keys and values again and parsing gives them back.
		again := url.Values{}
		for _, k := range keys {
			vs := q.Strings(k)
			if !slices.Equal(vs, std[k]) {
				t.Fatalf("Parse(%q)[%q] = %q, url.ParseQuery %q", raw, k, vs, std[k])
			}
			again[k] = vs
		}
		q2, err := Parse(again.Encode())
		if err != nil {
			t.Fatalf("re-encoded %q: %v", again.Encode(), err)
		}
		if got := q2.Keys(); len(got) != len(keys) {
			t.Fatalf("re-encoded keys %q, want %q", got, keys)
		}
		for _, k := range keys {
			if got := q2.Strings(k); !slices.Equal(got, again[k]) {
				t.Fatalf("re-encoded %q = %q, want %q", k, got, again[k])
			}
		}
	})
}
