package cli

import (
	"runtime"
	"syscall"
)

// dieWithParent makes the kernel SIGKILL the child if this process dies
// first (even by SIGKILL), so that a command never outlives the hold it ran
// under. The signal follows the OS thread that started the child, so the
// calling goroutine stays on its thread until release is called.
func dieWithParent(attr *syscall.SysProcAttr) (release func()) {
	runtime.LockOSThread()
	attr.Pdeathsig = syscall.SIGKILL
	return runtime.UnlockOSThread
}
