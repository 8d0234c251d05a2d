package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/faultproxy"
)

// The atomix process is cut off from the backend (a fault proxy that
// forwards nothing) while its child runs: its session can no longer be
// renewed, so it must count the hold as lost and stop the child, and
// another client gets the lock once the session has expired on the server.
func TestLockLostWhenCutOff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		u, err := url.Parse(b.url)
		if err != nil {
			t.Fatal(err)
		}
		proxy, err := faultproxy.Start(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(proxy.Close)
		cut := backend{name: b.name, url: u.Scheme + "://" + proxy.Addr(), ttl: b.ttl}

		ns, dir := uniqueName(t), t.TempDir()
		ready, stoppedFile := filepath.Join(dir, "ready"), filepath.Join(dir, "stopped")
		s := startCmd(t, command(cut, ns, "--session-ttl", b.ttl.String(), "lock", "job", "--grace", "20s", "--",
			"sh", "-c", looping(`trap "touch `+stoppedFile+`; exit 42" TERM`, ready)))
		waitForFile(t, ready)
		proxy.Blackhole(true)
		cutAt := time.Now()

		l, err := client(t, b, ns).GetLock(testContext(t), "job")
		if err != nil {
			t.Fatal(err)
		}
		acquired := make(chan time.Duration, 1)
		go func() {
			if _, err := l.Lock(testContext(t)); err != nil {
				t.Errorf("another client's Lock: %v", err)
				acquired <- -1
				return
			}
			acquired <- time.Since(cutAt)
		}()

		r := s.wait(t)
		ended := time.Since(cutAt)
		if r.code != 42 || !strings.Contains(r.stderr, "was lost") {
			t.Errorf("status %d (want the child's 42), stderr:\n%s", r.code, r.stderr)
		}
		fi, err := os.Stat(stoppedFile)
		if err != nil {
			t.Fatalf("the child never got SIGTERM: %v", err)
		}
		stopped := fi.ModTime().Sub(cutAt)
		if limit := 2*b.ttl + 5*time.Second; stopped > limit {
			t.Errorf("the child got SIGTERM %v after the cut, want within %v (session TTL %v)", stopped, limit, b.ttl)
		}
		select {
		case d := <-acquired:
			t.Logf("session TTL %v, after the cut: the child got SIGTERM at %v, another client got the lock at %v, atomix ended at %v (its release attempts included)",
				b.ttl, stopped.Round(time.Millisecond), d.Round(time.Millisecond), ended.Round(time.Millisecond))
		case <-time.After(3*b.ttl + 30*time.Second):
			t.Errorf("another client did not get the lock within %v of the cut", 3*b.ttl+30*time.Second)
		}
	})
}
