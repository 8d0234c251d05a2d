package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix/primitive"
)

// The leader's child sees its term; when another candidate is anointed the
// child gets SIGTERM at once and atomix exits with its status.
func TestElectLossStopsChild(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns, dir := uniqueName(t), t.TempDir()
		ready := filepath.Join(dir, "ready")
		s := startCmd(t, command(b, ns, "elect", "job", "--id", "a", "--grace", "20s", "--",
			"sh", "-c", looping(`trap "exit 42" TERM`, ready)))
		term, err := strconv.ParseUint(waitForFile(t, ready), 10, 64)
		if err != nil || term == 0 {
			t.Fatalf("ATOMIX_TERM: %v, %v", term, err)
		}
		ctx := testContext(t)
		e, err := client(t, b, ns).GetElection(ctx, "job", primitive.WithSessionID("b"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Enter(ctx); err != nil {
			t.Fatal(err)
		}
		taken := time.Now()
		if tm, err := e.Anoint(ctx, "b"); err != nil || tm.Leader != "b" {
			t.Fatalf("Anoint(b) = %+v, %v", tm, err)
		}
		r := s.wait(t)
		if r.code != 42 || !strings.Contains(r.stderr, "was lost") {
			t.Errorf("status %d (want 42), stderr:\n%s", r.code, r.stderr)
		}
		if d := time.Since(taken); d > 15*time.Second {
			t.Errorf("stopped %v after the loss", d)
		}
	})
}

// elect waits while another candidate leads: Ctrl-C ends the wait with
// status 1 and the child never runs; once the leader leaves, it runs and
// its status is atomix's.
func TestElectWaitAndExitStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns, dir := uniqueName(t), t.TempDir()
		marker := filepath.Join(dir, "ran")
		ctx := testContext(t)
		e, err := client(t, b, ns).GetElection(ctx, "job", primitive.WithSessionID("b"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Enter(ctx); err != nil {
			t.Fatal(err)
		}
		s := startCmd(t, command(b, ns, "elect", "job", "--", "touch", marker))
		s.waitForStderr(t, "waiting")
		signal(t, s, syscall.SIGINT)
		if r := s.wait(t); r.code != 1 || !strings.Contains(r.stderr, "interrupted while waiting") {
			t.Errorf("SIGINT while waiting: status %d, stderr %q", r.code, r.stderr)
		}
		if r := run(t, command(b, ns, "elect", "job", "--timeout", "500ms", "--", "touch", marker)); r.code != 1 {
			t.Errorf("--timeout: status %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the child ran without leading")
		}
		if err := e.Leave(ctx); err != nil {
			t.Fatal(err)
		}
		if r := run(t, command(b, ns, "elect", "job", "--", "sh", "-c", `test -n "$ATOMIX_TERM" && exit 5`)); r.code != 5 {
			t.Errorf("status %d, want 5; stderr %q", r.code, r.stderr)
		}
	})
}

// Two atomix elect processes never run their children at once.
func TestElectExcludesProcesses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { testExclusion(t, b, "elect", "shared") })
}
