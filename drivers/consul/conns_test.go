package consul

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atomix/go-client/conformance/testbackend"
	"github.com/atomix/go-client/driver"
)

// startAgent runs a `consul agent -dev` of the test's own, with extra HCL
// settings, and returns the address of its HTTP API and its port.
func startAgent(t *testing.T, hcl string) (string, int) {
	t.Helper()
	bin := testbackend.FindBinary("consul")
	if bin == "" {
		testbackend.Unavailable(t, "consul", "no consul binary", "run .ci/install-backends consul")
	}
	dir := t.TempDir()
	port := testbackend.FreePort(t)
	cmd := exec.Command(bin, "agent", "-dev", "-node", "atomix-conns",
		"-bind", "127.0.0.1", "-client", "127.0.0.1", "-data-dir", dir,
		"-http-port", strconv.Itoa(port),
		"-server-port", strconv.Itoa(testbackend.FreePort(t)),
		"-serf-lan-port", strconv.Itoa(testbackend.FreePort(t)),
		"-serf-wan-port", strconv.Itoa(testbackend.FreePort(t)),
		"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1",
		"-disable-keyring-file", "-log-level", "warn",
		"-hcl", "disable_update_check = true", "-hcl", hcl)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := &http.Client{Timeout: time.Second}
	waitUntil(t, time.Minute, "the agent elects itself", func() bool {
		resp, err := c.Get("http://" + addr + "/v1/status/leader")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK && hasLeaderBody(resp)
	})
	return addr, port
}

func hasLeaderBody(resp *http.Response) bool {
	b := make([]byte, 64)
	n, _ := resp.Body.Read(b)
	return strings.Trim(strings.TrimSpace(string(b[:n])), `"`) != ""
}

// agentConns counts the agent's side of the TCP connections to its HTTP
// port that it has not closed yet (established, or closed by the client
// and waiting for the agent: CLOSE_WAIT). Consul counts exactly these
// against http_max_conns_per_client.
func agentConns(t *testing.T, port int) int {
	t.Helper()

	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	defer f.Close()
	local := fmt.Sprintf(":%04X", port)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasSuffix(fields[1], local) {
			continue
		}
		if st := fields[3]; st == "01" || st == "08" {
			n++
		}
	}
	return n
}

// TestEndedWatchesFreeTheirConnections opens and ends 100 watches, then
// opens 100 new clients against an agent that accepts 150 connections
// from one address. Consul does not notice that a blocking query's client
// went away: it keeps the request, and counts its connection, until the
// query's wait time passes. With the old 5-minute wait the new clients got
// "HTTP 429: Your IP is issuing too many concurrent connections"; the
// driver's wait time (15 s by default) bounds how long an ended watch
// holds its connection.
func TestEndedWatchesFreeTheirConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the blocking queries' wait time")
	}
	const watches, clients, limit = 100, 100, 150
	addr, port := startAgent(t, fmt.Sprintf("limits { http_max_conns_per_client = %d }", limit))
	ctx := testContext(t)

	baseline := agentConns(t, port)
	d, err := New(Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	for i := range watches {
		m, err := d.OpenMap(ctx, testID("m"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		// A key in the map, so that writes elsewhere do not wake the
		// blocking query (the index of an empty directory is the
		// store's).
		if _, err := m.Put(ctx, "k", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		if err := m.Watch(wctx, make(chan driver.EntryEvent, 1)); err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
	}
	t.Logf("agent connections with %d watches: %d", watches, agentConns(t, port))
	stop()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ended := time.Now()
	bound := d.opts.WaitTime + d.opts.WaitTime/16 + 5*time.Second
	for agentConns(t, port) > baseline && time.Since(ended) < bound {
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("agent connections %v after the watches ended: %d (before them: %d)", time.Since(ended).Round(100*time.Millisecond), agentConns(t, port), baseline)

	for i := range clients {
		c, err := New(Config{Address: addr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		m, err := c.OpenMap(ctx, testID("fresh"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Put(ctx, strconv.Itoa(i), []byte("v"), 0); err != nil {
			t.Fatalf("client %d of %d after %d ended watches: %v", i+1, clients, watches, err)
		}
	}
	t.Logf("agent connections with %d new clients: %d", clients, agentConns(t, port))

}
