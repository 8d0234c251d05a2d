package testbackend

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisAddrEnv names the environment variable that points the tests at an
// existing Redis server (host:port) instead of starting one.
const RedisAddrEnv = "ATOMIX_TEST_REDIS_ADDR"

// RedisImageEnv overrides the image of the Redis container.
const RedisImageEnv = "ATOMIX_TEST_REDIS_IMAGE"

const redisHowTo = "apt-get install redis-server (or run .ci/install-backends redis) or set " + RedisAddrEnv

var redisBackend = &backend{
	name:    "redis",
	addrEnv: RedisAddrEnv,
	binary:  "redis-server",
	howTo:   redisHowTo,
	process: startRedis,
	container: func(ctx context.Context) (string, error) {
		return StartRedisContainer(ctx, ContainerSpec{
			Backend:      "redis",
			ImageEnv:     RedisImageEnv,
			DefaultImage: "redis:7",
			Port:         "6379/tcp",
			// Clients reach the container through Docker's proxy, not
			// loopback, which protected mode would refuse.
			Cmd: []string{"--protected-mode", "no", "--save", "", "--appendonly", "no"},
		})
	},
}

// Redis returns the host:port of a Redis server: the one named by
// ATOMIX_TEST_REDIS_ADDR, else a redis-server started once per test process
// on a free loopback port with persistence off (stopped by Shutdown), else a
// container when a Docker engine answers (image redis:7, or
// ATOMIX_TEST_REDIS_IMAGE). Without any it skips t, or fails it when
// ATOMIX_REQUIRE_BACKENDS names redis.
func Redis(t testing.TB) string {
	t.Helper()
	return redisBackend.address(t)
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
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--loglevel", "warning",
	}
	if err := startProcess(bin, args, dir, 30*time.Second, func() bool { return redisAnswers(addr) }); err != nil {
		return "", err
	}
	return addr, nil
}

// redisAnswers reports whether the server at addr answers PING.
func redisAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	return pongs(c)
}

// pongs sends PING on c, reports whether the answer is PONG, and closes c.
func pongs(c net.Conn) bool {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
