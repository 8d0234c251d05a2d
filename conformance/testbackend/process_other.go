//go:build !linux

package testbackend

import "os/exec"

// dieWithParent does nothing where the kernel offers no parent-death signal:
// a server outlives a test process that is killed before Shutdown.
func dieWithParent(*exec.Cmd) {}
