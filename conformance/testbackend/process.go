package testbackend

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// startProcess runs bin with args in dir (a temporary directory it owns),
// polls ready until it reports true, and registers the process's stop,
// and the removal of dir, with OnShutdown. If the process exits or timeout
// passes first, it stops it and returns an error carrying its output.
func startProcess(bin string, args []string, dir string, timeout time.Duration, ready func() bool) error {
	logs := &processOutput{}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logs
	cmd.Stderr = logs
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("start %s: %v", bin, err)
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
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case <-exited:
			stop()
			return fmt.Errorf("%s exited before it was ready; its output:\n%s", bin, logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("%s was not ready within %v; its output:\n%s", bin, timeout, logs)
		}
	}
	OnShutdown(stop)
	return nil
}

// processOutput keeps a server's output, written from two goroutines, to
// explain a failed start; it keeps at most the last megabyte or so.
type processOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *processOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf.Len() > 1<<20 {
		o.buf.Reset()
	}
	return o.buf.Write(p)
}

func (o *processOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
