package consul

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestParseURLConsistency(t *testing.T) {
	for raw, want := range map[string]Consistency{
		"consul://host":                        "",
		"consul://host?consistency=consistent": ConsistencyConsistent,
		"consul://host?consistency=default":    ConsistencyDefault,
		"consul://host?consistency=stale":      ConsistencyStale,
	} {
		cfg, err := parseRaw(t, raw)
		if err != nil || cfg.Consistency != want {
			t.Errorf("ParseURL(%s) = %q, %v; want %q", raw, cfg.Consistency, err, want)
		}
	}
}

// TestReadsAskForTheConfiguredMode checks the query parameter that
// Map.Get sends for each setting: ?consistent unless told otherwise.
func TestReadsAskForTheConfiguredMode(t *testing.T) {
	var mu sync.Mutex
	var last url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.URL.Query()
		mu.Unlock()
		w.Header().Set("X-Consul-Index", "7")
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		mode              Consistency
		consistent, stale bool
	}{
		{"", true, false},
		{ConsistencyConsistent, true, false},
		{ConsistencyDefault, false, false},
		{ConsistencyStale, false, true},
	} {
		d, err := New(Config{Address: strings.TrimPrefix(srv.URL, "http://"), Options: Options{Consistency: tc.mode}})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := d.OpenMap(context.Background(), testID("m"))
		m.Get(context.Background(), "k")
		mu.Lock()
		_, consistent := last["consistent"]
		_, stale := last["stale"]
		mu.Unlock()
		if consistent != tc.consistent || stale != tc.stale {
			t.Errorf("Consistency %q: Get sent %v, want consistent=%v stale=%v", tc.mode, last, tc.consistent, tc.stale)
		}
		d.Close(context.Background())
	}
}
