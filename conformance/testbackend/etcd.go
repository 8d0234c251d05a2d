package testbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EtcdMinVersion is the oldest etcd server the tests accept.
const EtcdMinVersion = "3.6.9"

// EtcdEndpointsEnv names the environment variable that points the tests at
// an existing etcd cluster (comma-separated client URLs or host:port)
// instead of starting a server.
const EtcdEndpointsEnv = "ATOMIX_TEST_ETCD_ENDPOINTS"

// etcdHowTo tells a developer how to get an etcd server for the tests.
const etcdHowTo = "run .ci/install-backends etcd or set " + EtcdEndpointsEnv

// etcdServer is the one etcd server this test process uses, found or
// started by the first call to Etcd.
var etcdServer struct {
	once      sync.Once
	endpoints []string
	why       string // why there is none, when endpoints is nil
}

// Etcd returns the client endpoints of an etcd server for the test:
//
//  1. the comma-separated endpoints in ATOMIX_TEST_ETCD_ENDPOINTS, when set;
//  2. else, unless ATOMIX_TEST_PROVIDER says "container", a server started
//     from the etcd binary (FindBinary) on free loopback ports, its data in
//     a temporary directory, once per test process and stopped by Shutdown;
//  3. else the test is skipped (or fails, per Required) by Unavailable.
//
// The server must report a version of at least EtcdMinVersion.
func Etcd(t testing.TB) []string {
	t.Helper()
	etcdServer.once.Do(func() {
		etcdServer.endpoints, etcdServer.why = findEtcd()
	})
	if etcdServer.endpoints == nil {
		Unavailable(t, "etcd", etcdServer.why, etcdHowTo)
	}
	return etcdServer.endpoints
}

// findEtcd tries each way to get a server in turn.
func findEtcd() (endpoints []string, why string) {
	if env := os.Getenv(EtcdEndpointsEnv); env != "" {
		for _, e := range strings.Split(env, ",") {
			if e = strings.TrimSpace(e); e != "" {
				endpoints = append(endpoints, e)
			}
		}
		if len(endpoints) == 0 {
			return nil, EtcdEndpointsEnv + " names no endpoint"
		}
		if v, err := etcdVersion(endpoints[0]); err == nil {
			if err := checkEtcdVersion(v); err != nil {
				return nil, fmt.Sprintf("%s: %v", EtcdEndpointsEnv, err)
			}
		}
		// A server whose /version cannot be read over plain HTTP (TLS,
		// a proxy) is trusted as given.
		return endpoints, ""
	}
	if !UseProcess() {
		// The container way (issue 6) goes here, after the binary.
		return nil, "ATOMIX_TEST_PROVIDER=" + Provider() + " and there is no etcd container image yet"
	}
	bin := FindBinary("etcd")
	if bin == "" {
		return nil, fmt.Sprintf("no etcd binary on PATH or in %s", BinDir())
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if endpoints, err = startEtcd(bin); err == nil {
			return endpoints, ""
		}
		if errors.Is(err, errEtcdTooOld) {
			break
		}
	}
	return nil, fmt.Sprintf("starting %s: %v", bin, err)
}

var errEtcdTooOld = errors.New("etcd is too old")

// startEtcd starts bin as a single-member cluster on free loopback ports and
// waits until it is healthy.
func startEtcd(bin string) ([]string, error) {
	dir, err := os.MkdirTemp("", "atomix-etcd-")
	if err != nil {
		return nil, err
	}
	clientPort, peerPort, err := etcdPorts()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	logFile, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin,
		"--name", "atomix-test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "atomix-test="+peerURL,
		"--initial-cluster-state", "new",
		"--log-level", "warn",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		os.RemoveAll(dir)
	}
	if err := waitEtcdHealthy(clientURL, exited, 30*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("%w (log: %s)", err, etcdLogTail(filepath.Join(dir, "etcd.log")))
	}
	v, err := etcdVersion(clientURL)
	if err == nil {
		err = checkEtcdVersion(v)
	}
	if err != nil {
		stop()
		return nil, err
	}
	OnShutdown(stop)
	return []string{clientURL}, nil
}

// etcdPorts returns two distinct ports that were free a moment ago.
func etcdPorts() (int, int, error) {
	a, err := etcdFreePort()
	if err != nil {
		return 0, 0, err
	}
	for {
		b, err := etcdFreePort()
		if err != nil {
			return 0, 0, err
		}
		if b != a {
			return a, b, nil
		}
	}
}

// etcdFreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func etcdFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitEtcdHealthy polls /health until the server reports healthy, exits,
// or timeout passes.
func waitEtcdHealthy(clientURL string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(clientURL + "/health")
		if err == nil {
			var h struct {
				Health string `json:"health"`
			}
			decodeErr := json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if decodeErr == nil && h.Health == "true" {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("etcd exited before it was healthy")
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd not healthy after %v", timeout)
		}
	}
}

// etcdVersion reads the server version from the /version endpoint.
func etcdVersion(endpoint string) (string, error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/version", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct {
		Server string `json:"etcdserver"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", err
	}
	return v.Server, nil
}

// checkEtcdVersion fails for a version older than EtcdMinVersion.
func checkEtcdVersion(v string) error {
	have, ok1 := parseEtcdVersion(v)
	want, _ := parseEtcdVersion(EtcdMinVersion)
	if !ok1 {
		return fmt.Errorf("%w: cannot parse version %q", errEtcdTooOld, v)
	}
	for i := range want {
		if have[i] != want[i] {
			if have[i] < want[i] {
				return fmt.Errorf("%w: server is %s, want at least %s", errEtcdTooOld, v, EtcdMinVersion)
			}
			return nil
		}
	}
	return nil
}

func parseEtcdVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		if j := strings.IndexFunc(p, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			p = p[:j]
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// etcdLogTail returns the end of a log file, for error messages.
func etcdLogTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}
