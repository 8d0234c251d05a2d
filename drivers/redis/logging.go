package redis

import (
	"context"
	"fmt"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/atomix/go-client/driver"
)

// go-redis logs through one process-wide logger (redis.SetLogger), not
// one per client. The driver handles that as follows:
//
//   - Nothing is installed until a Redis driver is given an Observer (an
//     atomix client with WithLogger, WithTracerProvider or
//     WithMeterProvider): a process that observes nothing keeps go-redis's
//     default logger, or its own.
//   - Then, once per process, a forwarder is installed with
//     redis.SetLogger. Each go-redis line goes, at Warn level with the
//     attribute source=go-redis, to the logger of every observed Redis
//     driver still open (in a process with one client, that client's
//     logger). go-redis's lines do not say which client they are about.
//   - A program that wants go-redis's lines elsewhere calls
//     redis.SetLogger itself after opening its clients; the last call wins.

// goRedisLog is the forwarder and the drivers it forwards to.
var goRedisLog struct {
	once    sync.Once
	mu      sync.Mutex
	drivers map[*Driver]struct{}
}

// SetObserver makes the driver report to o (see driver.Observable), and
// routes go-redis's process-wide log lines to o's logger too (see above).
func (d *Driver) SetObserver(o driver.Observer) {
	d.ObserverSlot.SetObserver(o)
	if o == nil {
		forgetLogs(d)
		return
	}
	goRedisLog.once.Do(func() { goredis.SetLogger(forwarder{}) })
	goRedisLog.mu.Lock()
	if goRedisLog.drivers == nil {
		goRedisLog.drivers = map[*Driver]struct{}{}
	}
	goRedisLog.drivers[d] = struct{}{}
	goRedisLog.mu.Unlock()
}

// forgetLogs stops forwarding go-redis's lines to d (closed or unobserved).
func forgetLogs(d *Driver) {
	goRedisLog.mu.Lock()
	delete(goRedisLog.drivers, d)
	goRedisLog.mu.Unlock()
}

// forwarder is go-redis's Logging, forwarding to the observed drivers.
type forwarder struct{}

func (forwarder) Printf(ctx context.Context, format string, v ...any) {
	goRedisLog.mu.Lock()
	drivers := make([]*Driver, 0, len(goRedisLog.drivers))
	for d := range goRedisLog.drivers {
		drivers = append(drivers, d)
	}
	goRedisLog.mu.Unlock()
	if len(drivers) == 0 {
		return
	}
	msg := fmt.Sprintf(format, v...)
	for _, d := range drivers {
		d.Observer().Logger().WarnContext(ctx, msg, "source", "go-redis")
	}
}
