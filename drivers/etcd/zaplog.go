package etcd

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/atomix/go-client/driver"
)

// zapToSlog is a zapcore.Core that writes clientv3's log lines to the
// logger of the driver's Observer (the client's WithLogger), so that the
// etcd client logs where the rest of the library does. Levels are lowered
// to keep a healthy process quiet: zap's Info becomes slog's Debug; Warn
// stays Warn; Error and above become Error. Until the driver is set, and
// while nobody observes the driver, nothing is written.
type zapToSlog struct {
	target *atomic.Pointer[driver.ObserverSlot]
	fields []zapcore.Field // from With
}

// newZapLogger returns a zap logger writing through a zapToSlog core, and
// the pointer to set to the driver's slot once the driver exists.
func newZapLogger() (*zap.Logger, *atomic.Pointer[driver.ObserverSlot]) {
	target := new(atomic.Pointer[driver.ObserverSlot])
	return zap.New(&zapToSlog{target: target}), target
}

func (c *zapToSlog) logger() *slog.Logger {
	if s := c.target.Load(); s != nil {
		return s.Observer().Logger()
	}
	return nil
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.InfoLevel:
		return slog.LevelDebug
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (c *zapToSlog) Enabled(l zapcore.Level) bool {
	lg := c.logger()
	return lg != nil && lg.Enabled(context.Background(), slogLevel(l))
}

func (c *zapToSlog) With(fields []zapcore.Field) zapcore.Core {
	return &zapToSlog{target: c.target, fields: append(slices.Clip(c.fields), fields...)}
}

func (c *zapToSlog) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *zapToSlog) Write(e zapcore.Entry, fields []zapcore.Field) error {
	lg := c.logger()
	if lg == nil {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys)+1)
	attrs = append(attrs, slog.String("source", "etcd-client"))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	lg.LogAttrs(context.Background(), slogLevel(e.Level), e.Message, attrs...)
	return nil
}

func (c *zapToSlog) Sync() error { return nil }
