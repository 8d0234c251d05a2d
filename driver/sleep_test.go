package driver_test

import (
	"context"
	"testing"
	"time"

	"github.com/atomix/go-client/driver"
)

func TestSleep(t *testing.T) {
	if !driver.Sleep(t.Context(), time.Millisecond) {
		t.Fatal("Sleep with a live context reported that it ended")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if driver.Sleep(ctx, time.Hour) {
		t.Fatal("Sleep with an ended context reported that the hour passed")
	}
}
