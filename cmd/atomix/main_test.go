package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/conformance/testbackend"
)

// The binaries under test, built once by TestMain: the atomix command and
// staleatomix, the same command with a deliberately broken backend.
var atomixBin, staleBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "atomix-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	atomixBin = filepath.Join(dir, "atomix")
	staleBin = filepath.Join(dir, "staleatomix")
	for bin, pkg := range map[string]string{atomixBin: ".", staleBin: "./internal/staleatomix"} {
		args := []string{"build", "-o", bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, pkg)...).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	testbackend.Shutdown()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// backend is one server the command is tested against.
type backend struct {
	name string
	url  string
	// ttl is the shortest session TTL the backend grants.
	ttl time.Duration
}

// backends returns etcd, Redis and Consul, each started by testbackend (or
// skipped, or failed under ATOMIX_REQUIRE_BACKENDS). Each is resolved
// inside its own subtest.
var backendSpecs = []struct {
	name string
	get  func(t *testing.T) backend
}{
	{"etcd", func(t *testing.T) backend {
		ep := testbackend.Etcd(t)[0]
		return backend{"etcd", "etcd://" + strings.TrimPrefix(ep, "http://"), 2 * time.Second}
	}},
	{"redis", func(t *testing.T) backend {
		return backend{"redis", "redis://" + testbackend.Redis(t), 2 * time.Second}
	}},
	{"consul", func(t *testing.T) backend {
		return backend{"consul", "consul://" + testbackend.Consul(t), 10 * time.Second}
	}},
}

// forEachBackend runs f as a subtest per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, s := range backendSpecs {
		t.Run(s.name, func(t *testing.T) { f(t, s.get(t)) })
	}
}

func uniqueName(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "cli-test-" + hex.EncodeToString(b)
}

// result is how a run of the command ended.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// command returns an atomix command against b in namespace ns.
func command(b backend, ns string, args ...string) *exec.Cmd {
	all := append([]string{"--url", b.url, "--namespace", ns}, args...)
	cmd := exec.Command(atomixBin, all...)
	cmd.Env = append(os.Environ(), "ATOMIX_URL=")
	return cmd
}

// run runs cmd to its end, bounded by two minutes.
func run(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return wait(t, cmd, start, &stdout, &stderr)
}

func wait(t *testing.T, cmd *exec.Cmd, start time.Time, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not end within 2 minutes; stderr:\n%s", cmd.Args, stderr)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode(), elapsed: time.Since(start)}
}

// started is a command running in the background.
type started struct {
	cmd            *exec.Cmd
	start          time.Time
	stdout, stderr *bytes.Buffer
}

func startCmd(t *testing.T, cmd *exec.Cmd) *started {
	t.Helper()
	s := &started{cmd: cmd, start: time.Now(), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: s.stdout}, &lockedWriter{w: s.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return s
}

func (s *started) wait(t *testing.T) result {
	t.Helper()
	return wait(t, s.cmd, s.start, s.stdout, s.stderr)
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// waitForFile waits until path exists and returns its contents.
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within 60s", path)
	return ""
}

// client opens an in-test client to b in namespace ns.
func client(t *testing.T, b backend, ns string) *atomix.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := atomix.Open(ctx, b.url, atomix.WithNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func signal(t *testing.T, s *started, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
}

func TestVersionHelpCompletion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"--help"}, {"completion", "bash"}, {"lock", "--help"}} {
		r := run(t, exec.Command(atomixBin, args...))
		if r.code != 0 || r.stdout == "" {
			t.Errorf("atomix %v: status %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := run(t, exec.Command(atomixBin, "--version")); !strings.HasPrefix(r.stdout, "atomix version ") {
		t.Errorf("--version printed %q", r.stdout)
	}
	// No URL: status 2 and a message that says how to give one.
	cmd := exec.Command(atomixBin, "ping")
	cmd.Env = append(os.Environ(), "ATOMIX_URL=")
	if r := run(t, cmd); r.code != 2 || !strings.Contains(r.stderr, "ATOMIX_URL") {
		t.Errorf("ping without a URL: status %d, stderr %q", r.code, r.stderr)
	}
}

// waitForStderr waits until the command has written want to stderr.
func (s *started) waitForStderr(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.stderrText(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%v did not write %q to stderr within 60s; stderr:\n%s", s.cmd.Args, want, s.stderrText())
}

func (s *started) stderrText() string {
	w := s.cmd.Stderr.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.String()
}
