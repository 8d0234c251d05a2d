package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jsonLines runs the command with --json and decodes each output line.
func jsonLines(t *testing.T, b backend, ns string, args ...string) []map[string]any {
	t.Helper()
	r := run(t, command(b, ns, append([]string{"--json"}, args...)...))
	if r.code != 0 {
		t.Fatalf("atomix %v: status %d, stderr %q", args, r.code, r.stderr)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line == "" {
			continue
		}
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("atomix %v: line %q is not JSON: %v", args, line, err)
		}
		out = append(out, o)
	}
	return out
}

func TestCounterCommands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns := uniqueName(t)
		if o := jsonLines(t, b, ns, "counter", "set", "c", "10"); o[0]["value"] != 10.0 {
			t.Errorf("set: %v", o)
		}
		if o := jsonLines(t, b, ns, "counter", "inc", "c"); o[0]["value"] != 11.0 {
			t.Errorf("inc: %v", o)
		}
		if o := jsonLines(t, b, ns, "counter", "inc", "c", "--", "-5"); o[0]["value"] != 6.0 {
			t.Errorf("inc -- -5: %v", o)
		}
		r := run(t, command(b, ns, "counter", "get", "c"))
		if r.code != 0 || r.stdout != "NAME  VALUE\nc     6\n" {
			t.Errorf("get: status %d, table %q", r.code, r.stdout)
		}
		if r := run(t, command(b, ns, "counter", "set", "c", "ten")); r.code != 2 || !strings.Contains(r.stderr, "not an integer") {
			t.Errorf("set ten: status %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestMapCommands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns := uniqueName(t)
		jsonLines(t, b, ns, "map", "put", "m", "a", "1")
		if o := jsonLines(t, b, ns, "map", "put", "m", "bb", "two words"); o[0]["value"] != "two words" {
			t.Errorf("put: %v", o)
		}
		if o := jsonLines(t, b, ns, "map", "get", "m", "a"); o[0]["key"] != "a" || o[0]["value"] != "1" || o[0]["version"].(float64) == 0 {
			t.Errorf("get: %v", o)
		}
		if o := jsonLines(t, b, ns, "map", "list", "m"); len(o) != 2 {
			t.Errorf("list: %v", o)
		}
		// The table's columns are aligned: each row's value starts under
		// the VALUE header.
		r := run(t, command(b, ns, "map", "list", "m"))
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		col := strings.Index(lines[0], "VALUE")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "KEY") || col < 0 {
			t.Fatalf("list table:\n%s", r.stdout)
		}
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l[col:], "1 ") && !strings.HasPrefix(l[col:], "two words ") {
				t.Errorf("list table not aligned:\n%s", r.stdout)
			}
		}
		if o := jsonLines(t, b, ns, "map", "remove", "m", "a"); o[0]["value"] != "1" {
			t.Errorf("remove: %v", o)
		}
		if r := run(t, command(b, ns, "map", "get", "m", "a")); r.code != 1 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("get of a removed key: status %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestValueAndSetCommands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns := uniqueName(t)
		if r := run(t, command(b, ns, "value", "get", "v")); r.code != 1 {
			t.Errorf("get of an unset value: status %d", r.code)
		}
		set := jsonLines(t, b, ns, "value", "set", "v", "hello")
		if o := jsonLines(t, b, ns, "value", "get", "v"); o[0]["value"] != "hello" || o[0]["version"] != set[0]["version"] {
			t.Errorf("get: %v after set %v", o, set)
		}
		if o := jsonLines(t, b, ns, "set", "add", "s", "x"); o[0]["changed"] != true {
			t.Errorf("add: %v", o)
		}
		if o := jsonLines(t, b, ns, "set", "add", "s", "x"); o[0]["changed"] != false {
			t.Errorf("second add: %v", o)
		}
		jsonLines(t, b, ns, "set", "add", "s", "y")
		if o := jsonLines(t, b, ns, "set", "list", "s"); len(o) != 2 {
			t.Errorf("list: %v", o)
		}
		if o := jsonLines(t, b, ns, "set", "remove", "s", "x"); o[0]["changed"] != true {
			t.Errorf("remove: %v", o)
		}
	})
}

// Each watch prints one line per change, from the moment it says it is
// watching, until interrupted; Ctrl-C ends it with status 0.
func TestWatchCommands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, c := range []struct {
			watch  []string
			writes [][]string
			want   []string
		}{
			{[]string{"map", "watch", "m"}, [][]string{{"map", "put", "m", "k", "1"}, {"map", "remove", "m", "k"}},
				[]string{`"event":"inserted","key":"k","value":"1"`, `"event":"removed","key":"k"`}},
			{[]string{"value", "watch", "v"}, [][]string{{"value", "set", "v", "a"}, {"value", "set", "v", "b"}},
				[]string{`"event":"created","value":"a"`, `"event":"updated","value":"b"`}},
			{[]string{"set", "watch", "s"}, [][]string{{"set", "add", "s", "x"}, {"set", "remove", "s", "x"}},
				[]string{`"element":"x","event":"added"`, `"element":"x","event":"removed"`}},
		} {
			ns := uniqueName(t)
			cmd := command(b, ns, append([]string{"--json"}, c.watch...)...)
			stdout, _ := cmd.StdoutPipe()
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			errLines := bufio.NewReader(stderr)
			if line, err := errLines.ReadString('\n'); err != nil || !strings.Contains(line, "watching") {
				t.Fatalf("%v: first stderr line %q, %v", c.watch, line, err)
			}
			for _, w := range c.writes {
				if r := run(t, command(b, ns, w...)); r.code != 0 {
					t.Fatalf("%v: %s", w, r.stderr)
				}
			}
			lines := make(chan string, 10)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			for _, want := range c.want {
				select {
				case got := <-lines:
					if !strings.Contains(normalize(got), want) {
						t.Errorf("%v: event %s, want one with %s", c.watch, got, want)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("%v: no event within 30s, want %s", c.watch, want)
				}
			}
			_ = cmd.Process.Signal(syscall.SIGINT)
			_, _ = io.Copy(io.Discard, errLines)
			for range lines {
			}
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("%v: status %d after SIGINT (%v)", c.watch, code, err)
			}
		}
	})
}

// normalize re-encodes a JSON line with sorted keys and no version, so
// that expectations can be written as substrings.
func normalize(line string) string {
	var o map[string]any
	if json.Unmarshal([]byte(line), &o) != nil {
		return line
	}
	delete(o, "version")
	b, _ := json.Marshal(o)
	return string(b)
}

func TestPing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		o := jsonLines(t, b, uniqueName(t), "ping")
		if o[0]["backend"] != b.name || o[0]["version"] == "" || o[0]["latency_ms"].(float64) <= 0 {
			t.Errorf("ping: %v", o)
		}
	})
	// An unreachable backend: status 1 and the error.
	r := run(t, exec.Command(atomixBin, "--url", "redis://127.0.0.1:1", "ping"))
	if r.code != 1 || !strings.Contains(r.stderr, "unavailable") {
		t.Errorf("unreachable: status %d, stderr %q", r.code, r.stderr)
	}
}
