package readme

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite samples_test.go from README.md")

func TestMain(m *testing.M) {
	// The README's tour uses the default client on the memory driver.
	os.Setenv("ATOMIX_URL", "mem://readme")
	os.Exit(m.Run())
}

func TestSamplesMatchREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(readme)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("samples_test.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("samples_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("samples_test.go is stale: README.md changed; run `go test ./examples/readme/ -update`")
	}
}

// wantOutput is what each README fragment prints: the values its comments
// and the text around it promise. Fragments whose output depends on run
// time (versions of a shared store) are checked by their own code instead.
var wantOutput = map[string]string{
	"sample2":  "true true\n",
	"sample3":  "1 true\n",
	"sample4":  "node-1 leads in term 1\nnode-2 leads in term 2\n",
	"sample5":  "leading term 1\nstopped leading: atomix: leadership ended: a new term began\n",
	"sample6":  "1 a ALPHA\n2 b beta\nb 1\n",
	"sample7":  "a\nB\nb\n",
	"sample9":  "true 2 true\n",
	"sample11": "inserted alice 3\n",
	"sample12": "removed node-1\n",
	"sample13": "true\n",
	"sample14": "true true true\n",
	"sample15": "",
}

// TestSamplesRun runs every README fragment against mem://readme: each must
// return nil (several check their own claims and return an error if the
// README's text is wrong), and print what wantOutput says.
func TestSamplesRun(t *testing.T) {
	for _, f := range fragments {
		t.Run(f.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := captureStdout(func() error { return f.run(ctx) })
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			if want, ok := wantOutput[f.name]; ok && out != want {
				t.Errorf("%s printed\n%s\nwant\n%s", f.name, out, want)
			}
		})
	}
}

// captureStdout runs f with os.Stdout redirected and returns what it wrote.
func captureStdout(f func() error) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	runErr := f()
	os.Stdout = saved
	w.Close()
	return <-done, runErr
}
