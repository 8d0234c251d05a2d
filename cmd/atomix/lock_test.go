package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atomix/go-client/atomix/lock"
)

// A child that loops until told otherwise; trap is its reaction to SIGTERM.
func looping(trap, ready string) string {
	return trap + `; echo "$ATOMIX_FENCING_VERSION$ATOMIX_TERM" > ` + ready + `; while :; do sleep 0.05; done`
}

// The hold is taken away (Unlock with IfMatch from another client) while
// the child runs: the child gets SIGTERM at once, atomix reports the loss
// and exits with the child's status.
func TestLockLossStopsChild(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns, dir := uniqueName(t), t.TempDir()
		ready := filepath.Join(dir, "ready")
		s := startCmd(t, command(b, ns, "lock", "job", "--grace", "20s", "--",
			"sh", "-c", looping(`trap "exit 42" TERM`, ready)))
		v, err := strconv.ParseUint(waitForFile(t, ready), 10, 64)
		if err != nil {
			t.Fatalf("ATOMIX_FENCING_VERSION: %v", err)
		}
		l, err := client(t, b, ns).GetLock(testContext(t), "job")
		if err != nil {
			t.Fatal(err)
		}
		taken := time.Now()
		if ok, err := l.Unlock(testContext(t), lock.IfMatch(v)); err != nil || !ok {
			t.Fatalf("Unlock(IfMatch(%d)) = %v, %v", v, ok, err)
		}
		r := s.wait(t)
		if r.code != 42 {
			t.Errorf("status %d, want the child's 42; stderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "was lost") {
			t.Errorf("stderr does not report the loss:\n%s", r.stderr)
		}
		if d := time.Since(taken); d > 15*time.Second {
			t.Errorf("the child was stopped %v after the loss, want well within the 20s grace", d)
		}
	})
}

// A child that ignores SIGTERM is killed when the grace ends.
func TestLockLossKillsChildIgnoringTERM(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns, dir := uniqueName(t), t.TempDir()
		ready := filepath.Join(dir, "ready")
		const grace = time.Second
		s := startCmd(t, command(b, ns, "lock", "job", "--grace", grace.String(), "--",
			"sh", "-c", looping(`trap "" TERM`, ready)))
		v, _ := strconv.ParseUint(waitForFile(t, ready), 10, 64)
		l, err := client(t, b, ns).GetLock(testContext(t), "job")
		if err != nil {
			t.Fatal(err)
		}
		taken := time.Now()
		if ok, err := l.Unlock(testContext(t), lock.IfMatch(v)); err != nil || !ok {
			t.Fatalf("Unlock(IfMatch(%d)) = %v, %v", v, ok, err)
		}
		r := s.wait(t)
		d := time.Since(taken)
		if r.code != 128+int(syscall.SIGKILL) {
			t.Errorf("status %d, want %d (SIGKILL); stderr:\n%s", r.code, 128+int(syscall.SIGKILL), r.stderr)
		}
		if d < grace || d > grace+10*time.Second {
			t.Errorf("killed %v after the loss, want just after the %v grace", d, grace)
		}
	})
}

// SIGINT and SIGTERM sent to atomix reach the child, whose status atomix
// returns; the lock is released afterwards.
func TestLockForwardsSignals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			ns, dir := uniqueName(t), t.TempDir()
			ready := filepath.Join(dir, "ready")
			s := startCmd(t, command(b, ns, "lock", "job", "--",
				"sh", "-c", looping(`trap "echo got-`+sig.String()+`; exit 7" INT TERM`, ready)))
			waitForFile(t, ready)
			signal(t, s, sig)
			r := s.wait(t)
			if r.code != 7 || !strings.Contains(r.stdout, "got-"+sig.String()) {
				t.Errorf("%v: status %d (want 7), stdout %q, stderr %q", sig, r.code, r.stdout, r.stderr)
			}
			l, err := client(t, b, ns).GetLock(testContext(t), "job")
			if err != nil {
				t.Fatal(err)
			}
			if locked, err := l.IsLocked(testContext(t)); err != nil || locked {
				t.Errorf("%v: after the child ended the lock is held: %v, %v", sig, locked, err)
			}
		}
	})
}

// atomix exits with the child's status, 128+N for a child ended by signal
// N, and 127 for a command that cannot be started; the child sees its
// fencing version.
func TestLockExitStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns := uniqueName(t)
		for _, c := range []struct {
			script string
			want   int
		}{
			{`exit 3`, 3},
			{`test -n "$ATOMIX_FENCING_VERSION"`, 0},
			{`kill -USR1 $$`, 128 + int(syscall.SIGUSR1)},
		} {
			if r := run(t, command(b, ns, "lock", "job", "--", "sh", "-c", c.script)); r.code != c.want {
				t.Errorf("%s: status %d, want %d; stderr %q", c.script, r.code, c.want, r.stderr)
			}
		}
		if r := run(t, command(b, ns, "lock", "job", "--", "/nonexistent/command")); r.code != 127 {
			t.Errorf("a missing command: status %d, want 127; stderr %q", r.code, r.stderr)
		}
	})
}

// While another client holds the lock, atomix waits: Ctrl-C (SIGINT) ends
// the wait with status 1 and a message, and --timeout bounds it; the child
// never runs.
func TestLockWaitInterruptedOrTimedOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ns, dir := uniqueName(t), t.TempDir()
		marker := filepath.Join(dir, "ran")
		l, err := client(t, b, ns).GetLock(testContext(t), "job")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Lock(testContext(t)); err != nil {
			t.Fatal(err)
		}
		s := startCmd(t, command(b, ns, "lock", "job", "--", "touch", marker))
		s.waitForStderr(t, "waiting")
		signal(t, s, syscall.SIGINT)
		r := s.wait(t)
		if r.code != 1 || !strings.Contains(r.stderr, "interrupted while waiting") {
			t.Errorf("SIGINT while waiting: status %d, stderr %q", r.code, r.stderr)
		}
		r = run(t, command(b, ns, "lock", "job", "--timeout", "500ms", "--", "touch", marker))
		if r.code != 1 || !strings.Contains(r.stderr, "not acquired within") {
			t.Errorf("--timeout: status %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the child ran although the lock was never taken")
		}
	})
}

// Two atomix lock processes, each running a child that makes an unguarded
// read-modify-write of a shared file, never run their children at once.
func TestLockExcludesProcesses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) { testExclusion(t, b, "lock", "shared") })
}

// testExclusion runs two atomix processes with args (a lock or an elect
// command) five times each; their children make an unguarded
// read-modify-write of a shared file and record any overlap.
func testExclusion(t *testing.T, b backend, args ...string) {
	ns, dir := uniqueName(t), t.TempDir()
	counter, busy, overlaps := filepath.Join(dir, "counter"), filepath.Join(dir, "busy"), filepath.Join(dir, "overlaps")
	if err := os.WriteFile(counter, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `[ -e ` + busy + ` ] && echo overlap >> ` + overlaps + `; touch ` + busy +
		`; n=$(cat ` + counter + `); sleep 0.05; echo $((n+1)) > ` + counter + `; rm -f ` + busy
	const procs, rounds = 2, 5
	var wg sync.WaitGroup
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if r := run(t, command(b, ns, append(args, "--", "sh", "-c", script)...)); r.code != 0 {
					t.Errorf("status %d: %s", r.code, r.stderr)
				}
			}
		}()
	}
	wg.Wait()
	got, _ := os.ReadFile(counter)
	if strings.TrimSpace(string(got)) != strconv.Itoa(procs*rounds) {
		t.Errorf("the shared counter is %s after %d guarded increments", strings.TrimSpace(string(got)), procs*rounds)
	}
	if b, err := os.ReadFile(overlaps); err == nil {
		t.Errorf("children ran at once %d times", strings.Count(string(b), "overlap"))
	}
}
