//go:build !linux

package cli

import "syscall"

// dieWithParent does nothing where the kernel cannot signal a child when its
// parent dies: there, a command whose atomix process is killed with SIGKILL
// keeps running.
func dieWithParent(*syscall.SysProcAttr) (release func()) { return func() {} }
