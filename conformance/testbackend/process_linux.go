package testbackend

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server when the test process dies,
// also when `go test -timeout` kills it before Shutdown could run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
