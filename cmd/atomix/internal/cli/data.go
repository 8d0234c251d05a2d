package cli

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/atomix/go-client/atomix"
	_map "github.com/atomix/go-client/atomix/map"
	"github.com/atomix/go-client/atomix/set"
	"github.com/atomix/go-client/atomix/value"
)

// withClient runs f with a client for the global flags and a context that
// ends on SIGINT or SIGTERM, and closes the client afterwards. An
// interrupted command (a watch) ends with status 0.
func (g *globals) withClient(f func(ctx context.Context, c *atomix.Client) error) error {
	ctx, stop := interruptible(context.Background())
	defer stop()
	c, err := g.open(ctx)
	if err != nil {
		return err
	}
	err = f(ctx, c)
	if cerr := closeClient(c); err == nil && cerr != nil && ctx.Err() == nil {
		err = cerr
	}
	if err != nil && ctx.Err() != nil {
		return nil // interrupted
	}
	return err
}

// table prints rows aligned for people, or one JSON object per row with
// --json (keys are the lower-cased headers).
type table struct {
	g      *globals
	header []string
	rows   [][]string
	json   []map[string]any
}

func (g *globals) table(header ...string) *table { return &table{g: g, header: header} }

// row adds a row: the cells shown to people and the object printed with
// --json.
func (t *table) row(obj map[string]any, cells ...string) {
	t.rows = append(t.rows, cells)
	t.json = append(t.json, obj)
}

func (t *table) print() error {
	if t.g.json {
		for _, o := range t.json {
			if err := t.g.printJSON(o); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(t.g.stdout, 0, 4, 2, ' ', 0)
	for i, h := range t.header {
		sep := "\t"
		if i == len(t.header)-1 {
			sep = "\n"
		}
		fmt.Fprint(w, h+sep)
	}
	for _, r := range t.rows {
		for i, c := range r {
			sep := "\t"
			if i == len(r)-1 {
				sep = "\n"
			}
			fmt.Fprint(w, c+sep)
		}
	}
	return w.Flush()
}

// event prints one watch event line at once: JSON with --json, else
// aligned columns of fixed width.
func (g *globals) event(obj map[string]any, cells ...string) error {
	if g.json {
		return g.printJSON(obj)
	}
	line := ""
	for i, c := range cells {
		if i < len(cells)-1 {
			line += fmt.Sprintf("%-10s ", c)
		} else {
			line += c
		}
	}
	_, err := fmt.Fprintln(g.stdout, line)
	return err
}

func parseInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, exit(2, "%q is not an integer", s)
	}
	return n, nil
}

func newCounterCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "counter", Short: "Read and change a counter"}
	show := func(name string, v int64) error {
		t := g.table("NAME", "VALUE")
		t.row(map[string]any{"name": name, "value": v}, name, strconv.FormatInt(v, 10))
		return t.print()
	}
	cmd.AddCommand(&cobra.Command{
		Use: "get NAME", Short: "Print the counter's value", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withClient(func(ctx context.Context, c *atomix.Client) error {
				k, err := c.GetCounter(ctx, args[0])
				if err != nil {
					return err
				}
				v, err := k.Get(ctx)
				if err != nil {
					return err
				}
				return show(args[0], v)
			})
		},
	}, &cobra.Command{
		Use: "set NAME N", Short: "Set the counter to N (a negative N after --: set NAME -- -5)", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			n, err := parseInt(args[1])
			if err != nil {
				return err
			}
			return g.withClient(func(ctx context.Context, c *atomix.Client) error {
				k, err := c.GetCounter(ctx, args[0])
				if err != nil {
					return err
				}
				v, err := k.Set(ctx, n)
				if err != nil {
					return err
				}
				return show(args[0], v)
			})
		},
	}, &cobra.Command{
		Use: "inc NAME [N]", Short: "Add N (default 1) to the counter and print the new value (a negative N after --)", Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			n := int64(1)
			if len(args) == 2 {
				var err error
				if n, err = parseInt(args[1]); err != nil {
					return err
				}
			}
			return g.withClient(func(ctx context.Context, c *atomix.Client) error {
				k, err := c.GetCounter(ctx, args[0])
				if err != nil {
					return err
				}
				v, err := k.Increment(ctx, n)
				if err != nil {
					return err
				}
				return show(args[0], v)
			})
		},
	})
	return cmd
}

func entryRow(t *table, e _map.Entry[string, string]) {
	t.row(map[string]any{"key": e.Key, "value": e.Value, "version": e.Version},
		e.Key, e.Value, strconv.FormatUint(e.Version, 10))
}

// withMap runs f on the map NAME of string keys and values.
func (g *globals) withMap(name string, f func(ctx context.Context, m _map.Map[string, string]) error) error {
	return g.withClient(func(ctx context.Context, c *atomix.Client) error {
		m, err := atomix.GetMap[string, string](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		return f(ctx, m)
	})
}

func newMapCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "map", Short: "Read, change and watch a map of strings"}
	one := func(e _map.Entry[string, string], err error) error {
		if err != nil {
			return err
		}
		t := g.table("KEY", "VALUE", "VERSION")
		entryRow(t, e)
		return t.print()
	}
	cmd.AddCommand(&cobra.Command{
		Use: "get NAME KEY", Short: "Print KEY's entry (status 1 if absent)", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withMap(args[0], func(ctx context.Context, m _map.Map[string, string]) error {
				return one(m.Get(ctx, args[1]))
			})
		},
	}, &cobra.Command{
		Use: "put NAME KEY VALUE", Short: "Store VALUE under KEY and print the entry", Args: cobra.ExactArgs(3),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withMap(args[0], func(ctx context.Context, m _map.Map[string, string]) error {
				return one(m.Put(ctx, args[1], args[2]))
			})
		},
	}, &cobra.Command{
		Use: "remove NAME KEY", Short: "Remove KEY and print the entry it had (status 1 if absent)", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withMap(args[0], func(ctx context.Context, m _map.Map[string, string]) error {
				return one(m.Remove(ctx, args[1]))
			})
		},
	}, &cobra.Command{
		Use: "list NAME", Short: "Print every entry", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withMap(args[0], func(ctx context.Context, m _map.Map[string, string]) error {
				t := g.table("KEY", "VALUE", "VERSION")
				for e, err := range m.Entries(ctx) {
					if err != nil {
						return err
					}
					entryRow(t, e)
				}
				return t.print()
			})
		},
	}, &cobra.Command{
		Use: "watch NAME", Short: "Print one line per change until interrupted", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withMap(args[0], func(ctx context.Context, m _map.Map[string, string]) error {
				ch := make(chan _map.Event[string, string], 64)
				if err := m.Watch(ctx, ch); err != nil {
					return err
				}
				g.ready()
				for ev := range ch {
					e := ev.Entry
					if err := g.event(map[string]any{"event": ev.Type.String(), "key": e.Key, "value": e.Value, "version": e.Version},
						ev.Type.String(), e.Key, e.Value, strconv.FormatUint(e.Version, 10)); err != nil {
						return err
					}
				}
				return ctx.Err()
			})
		},
	})
	return cmd
}

// ready tells whoever reads stderr that a watch is established: every
// change committed after this line is printed.
func (g *globals) ready() {
	fmt.Fprintln(g.stderr, "atomix: watching; every change from now on is printed (Ctrl-C to stop)")
}

func (g *globals) withValue(name string, f func(ctx context.Context, v value.Value[string]) error) error {
	return g.withClient(func(ctx context.Context, c *atomix.Client) error {
		v, err := atomix.GetValue[string](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		return f(ctx, v)
	})
}

func newValueCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "value", Short: "Read, change and watch a string value"}
	show := func(v string, version uint64) error {
		t := g.table("VALUE", "VERSION")
		t.row(map[string]any{"value": v, "version": version}, v, strconv.FormatUint(version, 10))
		return t.print()
	}
	cmd.AddCommand(&cobra.Command{
		Use: "get NAME", Short: "Print the value and its version (status 1 if never set)", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withValue(args[0], func(ctx context.Context, v value.Value[string]) error {
				s, version, err := v.Get(ctx)
				if err != nil {
					return err
				}
				return show(s, version)
			})
		},
	}, &cobra.Command{
		Use: "set NAME VALUE", Short: "Set the value and print its new version", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withValue(args[0], func(ctx context.Context, v value.Value[string]) error {
				version, err := v.Set(ctx, args[1])
				if err != nil {
					return err
				}
				return show(args[1], version)
			})
		},
	}, &cobra.Command{
		Use: "watch NAME", Short: "Print one line per change until interrupted", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withValue(args[0], func(ctx context.Context, v value.Value[string]) error {
				ch := make(chan value.Event[string], 64)
				if err := v.Watch(ctx, ch); err != nil {
					return err
				}
				g.ready()
				for ev := range ch {
					if err := g.event(map[string]any{"event": ev.Type.String(), "value": ev.Value, "version": ev.Version},
						ev.Type.String(), ev.Value, strconv.FormatUint(ev.Version, 10)); err != nil {
						return err
					}
				}
				return ctx.Err()
			})
		},
	})
	return cmd
}

func (g *globals) withSet(name string, f func(ctx context.Context, s set.Set[string]) error) error {
	return g.withClient(func(ctx context.Context, c *atomix.Client) error {
		s, err := atomix.GetSet[string](ctx, name, atomix.WithClient(c))
		if err != nil {
			return err
		}
		return f(ctx, s)
	})
}

func newSetCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "set", Short: "Read, change and watch a set of strings"}
	changed := func(e string, ok bool, err error) error {
		if err != nil {
			return err
		}
		t := g.table("ELEMENT", "CHANGED")
		t.row(map[string]any{"element": e, "changed": ok}, e, strconv.FormatBool(ok))
		return t.print()
	}
	cmd.AddCommand(&cobra.Command{
		Use: "add NAME ELEMENT", Short: "Add ELEMENT; CHANGED is false if it was present", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withSet(args[0], func(ctx context.Context, s set.Set[string]) error {
				ok, err := s.Add(ctx, args[1])
				return changed(args[1], ok, err)
			})
		},
	}, &cobra.Command{
		Use: "remove NAME ELEMENT", Short: "Remove ELEMENT; CHANGED is false if it was absent", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withSet(args[0], func(ctx context.Context, s set.Set[string]) error {
				ok, err := s.Remove(ctx, args[1])
				return changed(args[1], ok, err)
			})
		},
	}, &cobra.Command{
		Use: "list NAME", Short: "Print every element", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withSet(args[0], func(ctx context.Context, s set.Set[string]) error {
				t := g.table("ELEMENT")
				for e, err := range s.Elements(ctx) {
					if err != nil {
						return err
					}
					t.row(map[string]any{"element": e}, e)
				}
				return t.print()
			})
		},
	}, &cobra.Command{
		Use: "watch NAME", Short: "Print one line per change until interrupted", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.withSet(args[0], func(ctx context.Context, s set.Set[string]) error {
				ch := make(chan set.Event[string], 64)
				if err := s.Watch(ctx, ch); err != nil {
					return err
				}
				g.ready()
				for ev := range ch {
					if err := g.event(map[string]any{"event": ev.Type.String(), "element": ev.Element},
						ev.Type.String(), ev.Element); err != nil {
						return err
					}
				}
				return ctx.Err()
			})
		},
	})
	return cmd
}
