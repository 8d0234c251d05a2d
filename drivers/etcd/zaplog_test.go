package etcd

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/atomix/go-client/driver"
)

// textObserver is a driver.Observer whose logger writes text to a buffer.
type textObserver struct{ l *slog.Logger }

func (o textObserver) Logger() *slog.Logger                                           { return o.l }
func (textObserver) SessionRenewed(string, error)                                     {}
func (textObserver) WatchResynced(driver.Kind, driver.ID, driver.ResyncReason, error) {}

// TestZapLinesReachTheObserversLogger: clientv3's zap lines go to the
// driver's Observer's logger once it is set, Info lowered to Debug, Warn
// kept, with their fields; before, nothing is written.
func TestZapLinesReachTheObserversLogger(t *testing.T) {
	var buf bytes.Buffer
	lg, target := newZapLogger()
	lg.Warn("before the driver exists")
	var slot driver.ObserverSlot
	target.Store(&slot)
	lg.Warn("before an observer")
	slot.SetObserver(textObserver{slog.New(slog.NewTextHandler(&buf, nil))}) // Info and above
	lg.With(zap.String("endpoint", "a:2379")).Info("informational")
	lg.With(zap.String("endpoint", "a:2379")).Warn("retrying", zap.Int("attempt", 2))
	lg.Error("failed")
	out := buf.String()
	for _, absent := range []string{"before", "informational"} {
		if strings.Contains(out, absent) {
			t.Errorf("%q logged:\n%s", absent, out)
		}
	}
	for _, want := range []string{`level=WARN msg=retrying source=etcd-client attempt=2 endpoint=a:2379`, `level=ERROR msg=failed source=etcd-client`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}
