// Package cli is the atomix command: its cobra command tree and what each
// command does. Package main registers the drivers and calls Main; a test
// binary may register more (a deliberately broken backend) and call Main
// too.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/atomix/go-client/atomix"
)

// exitError ends the command with a status and, unless msg is empty, a
// message on stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exit returns an error that makes Main return code after printing the
// message.
func exit(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Main runs the atomix command with args (without the program name) and
// returns the exit status.
func Main(args []string) int {
	root := newRoot(os.Stdout, os.Stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "atomix: "+ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "atomix: "+err.Error())
	return 1
}

// globals are the flags every command shares.
type globals struct {
	url        string
	namespace  string
	sessionTTL time.Duration
	json       bool

	stdout, stderr io.Writer
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "atomix",
		Short: "Distributed locks, elections and data over etcd, Redis and Consul",
		Long: `atomix runs a command under a distributed lock or while leading an election,
reads and changes counters, maps, values and sets, and certifies and
benchmarks a backend. The backend is given by --url or $ATOMIX_URL:
etcd://host:2379, redis://host:6379, rediss://..., consul://host:8500.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	f := root.PersistentFlags()
	f.StringVar(&g.url, "url", os.Getenv("ATOMIX_URL"), "backend URL (default $ATOMIX_URL)")
	f.StringVar(&g.namespace, "namespace", "", "namespace of the primitives (default: the URL's namespace= or none)")
	f.DurationVar(&g.sessionTTL, "session-ttl", 0, "how long this client's locks and candidacies outlive it (default: the URL's session-ttl= or the client's default)")
	f.BoolVar(&g.json, "json", false, "print one JSON object per result or event line")
	root.AddCommand(
		newLockCommand(g),
		newElectCommand(g),
		newCounterCommand(g),
		newMapCommand(g),
		newValueCommand(g),
		newSetCommand(g),
		newPingCommand(g),
		newCheckCommand(g),
		newBenchCommand(g),
	)
	return root
}

// version is the module version the binary was built from, as the Go
// toolchain recorded it.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v + " " + info.GoVersion
}

// open opens a client for the global flags.
func (g *globals) open(ctx context.Context) (*atomix.Client, error) {
	if g.url == "" {
		return nil, exit(2, "no backend: give --url or set ATOMIX_URL (e.g. etcd://localhost:2379)")
	}
	var opts []atomix.Option
	if g.namespace != "" {
		opts = append(opts, atomix.WithNamespace(g.namespace))
	}
	if g.sessionTTL > 0 {
		opts = append(opts, atomix.WithSessionTTL(g.sessionTTL))
	}
	return atomix.Open(ctx, g.url, opts...)
}

// closeClient closes c, bounded so that an unreachable backend cannot hold
// the command up for long.
func closeClient(c *atomix.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Close(ctx)
}

// interruptible returns a context that ends on SIGINT or SIGTERM.
func interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// printJSON prints v as one line of JSON.
func (g *globals) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.stdout, string(b))
	return err
}
