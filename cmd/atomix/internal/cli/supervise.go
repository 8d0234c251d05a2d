package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomix/go-client/atomix"
	"github.com/atomix/go-client/atomix/election"
	"github.com/atomix/go-client/atomix/primitive"
)

// defaultGrace is how long a child has between SIGTERM and SIGKILL once the
// hold is lost.
const defaultGrace = 10 * time.Second

func newLockCommand(g *globals) *cobra.Command {
	var timeout, grace time.Duration
	cmd := &cobra.Command{
		Use:   "lock NAME [--timeout D] [--grace D] -- CMD [ARGS...]",
		Short: "Run CMD while holding the lock NAME",
		Long: `lock waits for the lock NAME, then runs CMD with ATOMIX_FENCING_VERSION set to
the hold's fencing version, in a process group of its own. SIGINT and SIGTERM
are forwarded to CMD. If the hold is lost (the session expired, or another
client released it with lock.IfMatch), CMD's process group gets SIGTERM, then
SIGKILL after --grace. The lock is released when CMD exits, and atomix exits
with CMD's status (128+N if a signal N ended it). If the lock cannot be taken
(--timeout passed, interrupted, backend error), atomix exits 1 with a message
and CMD is not run.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return exit(2, "usage: atomix lock NAME -- CMD [ARGS...]")
			}
			return runLocked(g, args[0], args[1:], timeout, grace)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up waiting for the lock after D (default: wait until interrupted)")
	cmd.Flags().DurationVar(&grace, "grace", defaultGrace, "time between SIGTERM and SIGKILL when the hold is lost")
	return cmd
}

func newElectCommand(g *globals) *cobra.Command {
	var id string
	var timeout, grace time.Duration
	cmd := &cobra.Command{
		Use:   "elect NAME [--id ID] [--grace D] -- CMD [ARGS...]",
		Short: "Run CMD while leading the election NAME",
		Long: `elect enters the election NAME as candidate ID, waits until it leads, then runs
CMD with ATOMIX_TERM set to the term it leads, in a process group of its own.
SIGINT and SIGTERM are forwarded to CMD. If leadership is lost (another
candidate was anointed, this one evicted, its session expired, or the
election can no longer be watched), CMD's process group gets SIGTERM, then
SIGKILL after --grace. The candidacy is withdrawn when CMD exits, and atomix
exits with CMD's status (128+N if a signal N ended it), or 1 with a message
if it never led.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return exit(2, "usage: atomix elect NAME -- CMD [ARGS...]")
			}
			return runElected(g, args[0], id, args[1:], timeout, grace)
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "candidate ID (default: unique per run)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up waiting for leadership after D (default: wait until interrupted)")
	cmd.Flags().DurationVar(&grace, "grace", defaultGrace, "time between SIGTERM and SIGKILL when leadership is lost")
	return cmd
}

// waitContext is the context of a wait for a hold: it ends on SIGINT or
// SIGTERM, and after timeout if positive.
func waitContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := interruptible(context.Background())
	if timeout <= 0 {
		return ctx, stop
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	return tctx, func() { cancel(); stop() }
}

// waitFailed turns the error of a wait for a hold into the command's exit.
func waitFailed(what string, ctx context.Context, timeout time.Duration, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return exit(1, "%s: not acquired within --timeout %v", what, timeout)
	case ctx.Err() != nil:
		return exit(1, "%s: interrupted while waiting", what)
	default:
		return exit(1, "%s: %v", what, err)
	}
}

func runLocked(g *globals, name string, argv []string, timeout, grace time.Duration) error {
	ctx, cancel := waitContext(timeout)
	defer cancel()
	c, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer closeClient(c)
	l, err := c.GetLock(ctx, name)
	if err != nil {
		return exit(1, "lock %q: %v", name, err)
	}
	v, ok, err := l.TryLock(ctx)
	if err == nil && !ok {
		fmt.Fprintf(g.stderr, "atomix: lock %q is held elsewhere; waiting\n", name)
		v, err = l.Lock(ctx)
	}
	if err != nil {
		return waitFailed(fmt.Sprintf("lock %q", name), ctx, timeout, err)
	}
	cancel() // stop catching signals: from here they are forwarded
	status, lost := supervise(argv, "ATOMIX_FENCING_VERSION="+strconv.FormatUint(v, 10), l.Lost(), grace, g.stderr)
	if lost {
		fmt.Fprintf(g.stderr, "atomix: lock %q: the hold (version %d) was lost; the command was stopped\n", name, v)
	} else {
		uctx, ucancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := l.Unlock(uctx); err != nil {
			fmt.Fprintf(g.stderr, "atomix: lock %q: release: %v\n", name, err)
		}
		ucancel()
	}
	return exit(status, "")
}

func runElected(g *globals, name, id string, argv []string, timeout, grace time.Duration) error {
	ctx, cancel := waitContext(timeout)
	defer cancel()
	c, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer closeClient(c)
	var opts []primitive.Option
	if id != "" {
		opts = append(opts, primitive.WithSessionID(id))
	}
	e, err := c.GetElection(ctx, name, opts...)
	if err != nil {
		return exit(1, "election %q: %v", name, err)
	}
	what := fmt.Sprintf("election %q as %q", name, e.ID())
	if t, err := e.GetTerm(ctx); err == nil && t.Leader != "" && t.Leader != e.ID() {
		fmt.Fprintf(g.stderr, "atomix: %s: %q leads; waiting\n", what, t.Leader)
	}
	// The leadership must outlive the wait's context (its end on a signal
	// is forwarded to the child from then on), so Lead gets a context of
	// its own that the wait's ends only while Lead waits.
	base, endBase := context.WithCancel(context.Background())
	defer endBase()
	detach := context.AfterFunc(ctx, endBase)
	leading, term, err := e.Lead(base)
	if !detach() || err != nil {
		// Lead withdraws a candidacy it made if it fails; one it handed
		// out as the wait ended is withdrawn here.
		leave(e, g.stderr)
		if err == nil {
			err = ctx.Err()
		}
		return waitFailed(what, ctx, timeout, err)
	}
	cancel()
	// Lead's context ends with the first later term (events of earlier
	// terms never end it), the session's end, or the watch's end.
	status, wasLost := supervise(argv, "ATOMIX_TERM="+strconv.FormatUint(term.Term, 10), leading.Done(), grace, g.stderr)
	if wasLost {
		fmt.Fprintf(g.stderr, "atomix: %s: leadership of term %d was lost (%v); the command was stopped\n", what, term.Term, context.Cause(leading))
	}
	leave(e, g.stderr)
	return exit(status, "")
}

// leave withdraws the candidacy, bounded in time.
func leave(e election.Election, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Leave(ctx); err != nil && !errors.Is(err, atomix.ErrNotFound) {
		fmt.Fprintf(stderr, "atomix: leave the election: %v\n", err)
	}
}

// supervise runs argv in a process group of its own with env added to the
// environment, forwards SIGINT and SIGTERM to it, and, if lost closes
// first, sends the group SIGTERM and then SIGKILL after grace. It returns
// the child's exit status (128+N for a child ended by signal N) and whether
// the hold was lost while the child ran. If this process dies, the child
// is killed (on Linux; see dieWithParent).
func supervise(argv []string, env string, lost <-chan struct{}, grace time.Duration, stderr io.Writer) (int, bool) {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	child := exec.Command(argv[0], argv[1:]...)
	child.Env = append(os.Environ(), env)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, stderr
	child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	release := dieWithParent(child.SysProcAttr)
	defer release()
	if err := child.Start(); err != nil {
		fmt.Fprintf(stderr, "atomix: %v\n", err)
		return 127, false
	}
	pgid := child.Process.Pid
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()

	var (
		wasLost bool
		kill    <-chan time.Time
	)
	for {
		select {
		case err := <-done:
			if wasLost {
				// Nothing of the group may outlive a lost hold.
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
			return exitStatus(child.ProcessState, err), wasLost
		case s := <-signals:
			_ = syscall.Kill(-pgid, s.(syscall.Signal))
		case <-lost:
			lost = nil
			wasLost = true
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			kill = time.After(grace)
		case <-kill:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}
}

// exitStatus is the shell's view of how a child ended.
func exitStatus(ps *os.ProcessState, err error) int {
	if ps == nil {
		if err != nil {
			return 1
		}
		return 0
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
