package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// atomix check passes on every real backend, each check verdict ok.
func TestCheckPasses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		r := run(t, command(b, uniqueName(t), "--session-ttl", b.ttl.String(), "check", "--ops", "200"))
		t.Logf("atomix check on %s:\n%s", b.name, r.stdout)
		if r.code != 0 {
			t.Fatalf("status %d; stderr:\n%s", r.code, r.stderr)
		}
		for _, check := range []string{"map linearizable", "counter linearizable", "value linearizable", "set linearizable",
			"lock exclusion", "semaphore exclusion", "watch completeness", "session expiry"} {
			line := lineWith(r.stdout, check)
			if !strings.Contains(line, " ok ") {
				t.Errorf("%s: %q", check, line)
			}
		}
	})
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, s) {
			return l
		}
	}
	return ""
}

// Against a backend whose reads are stale, check fails with status 1, says
// which checks failed, shows the shortest history that proves each, and
// writes the visualization.
func TestCheckFailsOnStaleBackend(t *testing.T) {
	out := filepath.Join(t.TempDir(), "history.html")
	r := run(t, exec.Command(staleBin, "--url", "stale://broken", "check", "--ops", "200", "--out", out))
	t.Logf("atomix check on a stale backend:\n%s", r.stdout)
	if r.code != 1 || !strings.Contains(r.stderr, "checks did not hold") {
		t.Errorf("status %d, stderr %q", r.code, r.stderr)
	}
	for _, check := range []string{"map linearizable", "counter linearizable", "value linearizable", "lock exclusion", "semaphore exclusion"} {
		if line := lineWith(r.stdout, check); !strings.Contains(line, "FAIL") {
			t.Errorf("%s did not fail: %q", check, line)
		}
	}
	if line := lineWith(r.stdout, "semaphore exclusion"); !strings.Contains(line, "holders at once, limit 2") {
		t.Errorf("semaphore exclusion does not say why it failed: %q", line)
	}
	if !strings.Contains(r.stdout, "counter linearizable: the shortest history that shows the failure") ||
		!strings.Contains(r.stdout, "get() -> ") {
		t.Errorf("no readable witness in the report")
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "<html") {
		t.Errorf("--out: %v", err)
	}
	// The same check on the memory store underneath holds.
	if r := run(t, exec.Command(staleBin, "--url", "mem://fine", "check", "--ops", "200")); r.code != 0 {
		t.Errorf("mem:// check: status %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// bench prints a row per operation, as JSON lines with --json.
func TestBench(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		o := jsonLines(t, b, uniqueName(t), "bench", "--duration", "300ms", "--concurrency", "2")
		if len(o) != 4 {
			t.Fatalf("bench: %v", o)
		}
		for _, row := range o {
			if row["ops"].(float64) <= 0 || row["p50_ms"].(float64) <= 0 || row["p999_ms"].(float64) < row["p50_ms"].(float64) {
				t.Errorf("bench row %v", row)
			}
		}
	})
	r := run(t, exec.Command(atomixBin, "--url", "mem://bench", "bench", "--duration", "200ms"))
	if r.code != 0 || !strings.HasPrefix(r.stdout, "OP ") || strings.Count(r.stdout, "\n") != 5 {
		t.Errorf("mem:// bench: status %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
