package testbackend

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RedisAddrEnv names the environment variable that points the tests at an
// existing Redis server (host:port) instead of starting one.
const RedisAddrEnv = "ATOMIX_TEST_REDIS_ADDR"

// RedisImageEnv overrides the image of the Redis container.
const RedisImageEnv = "ATOMIX_TEST_REDIS_IMAGE"

const redisHowTo = "apt-get install redis-server (or run .ci/install-backends redis) or set " + RedisAddrEnv

var redisOnce struct {
	sync.Mutex
	addr string // set once a server is up
	err  string // set once starting one failed; later callers fail the same way
}

// Redis returns the host:port of a Redis server: the one named by
// ATOMIX_TEST_REDIS_ADDR, else a redis-server started once per test process
// on a free loopback port with persistence off (stopped by Shutdown), else a
// container when a Docker engine answers. Without any it skips t, or fails
// it when ATOMIX_REQUIRE_BACKENDS names redis.
func Redis(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(RedisAddrEnv); addr != "" {
		return addr
	}
	redisOnce.Lock()
	defer redisOnce.Unlock()
	if redisOnce.addr != "" {
		return redisOnce.addr
	}
	if redisOnce.err != "" {
		Unavailable(t, "redis", redisOnce.err, redisHowTo)
		return ""
	}
	var why []string
	if UseProcess() {
		if bin := FindBinary("redis-server"); bin == "" {
			why = append(why, "no redis-server binary on PATH or in "+BinDir())
		} else if addr, err := startRedis(t, bin); err != nil {
			why = append(why, err.Error())
		} else {
			redisOnce.addr = addr
			return addr
		}
	}
	if UseContainer() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		addr, err := StartRedisContainer(ctx, ContainerSpec{
			Backend:      "redis",
			ImageEnv:     RedisImageEnv,
			DefaultImage: "redis:7",
			Port:         "6379/tcp",
		})
		if err == nil {
			redisOnce.addr = addr
			return addr
		}
		why = append(why, err.Error())
	}
	redisOnce.err = strings.Join(why, "; ")
	Unavailable(t, "redis", redisOnce.err, redisHowTo)
	return ""
}

// startRedis runs redis-server on a free loopback port, its working
// directory a temporary one, without persistence, and waits until it
// answers PING.
func startRedis(t testing.TB, bin string) (string, error) {
	dir, err := os.MkdirTemp("", "atomix-redis-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %v", err)
	}
	port := FreePort(t)
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--loglevel", "warning",
	)
	cmd.Dir = dir
	// One writer for both: exec then calls Write from one goroutine at a
	// time. It is read only after the process has exited.
	logs := &bytes.Buffer{}
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		os.RemoveAll(dir)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if err := waitForRedis(addr, exited, 30*time.Second); err != nil {
		stop()
		return "", fmt.Errorf("%v; server output:\n%s", err, logs.String())
	}
	OnShutdown(stop)
	return addr, nil
}

// waitForRedis sends PING until the server answers PONG, the process exits,
// or the timeout passes.
func waitForRedis(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if redisAnswers(addr) {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited before answering on %s", addr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer within %v", addr, timeout)
		}
	}
}

func redisAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
