package chunklist

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/atomix/go-client/driver"
)

var bounds = Bounds{Items: 8, Bytes: 256}

// store is a list kept as the package lays it out, in memory: what a
// driver's keys would hold.
type store struct {
	dir    []byte
	chunks map[uint64][]byte
}

// apply plans a change through Place and Edit and applies the plan as a
// driver's transaction would.
func (s *store) apply(t *testing.T, place Place, e Edit) error {
	t.Helper()
	dir, err := DecodeDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	j, off, err := place(dir)
	if err != nil {
		return err
	}
	var items [][]byte
	var id uint64
	if j >= 0 {
		id = dir.Chunks[j].ID
		if items, err = DecodeChunk(s.chunks[id]); err != nil {
			t.Fatal(err)
		}
	}
	atEnd := j >= 0 && j == len(dir.Chunks)-1 && off == dir.Chunks[j].N
	ch := bounds.Rewrite(dir, j, e(items, off), off, atEnd)
	for _, c := range ch.Put {
		s.chunks[c.ID] = EncodeChunk(c.Items)
	}
	if ch.Delete {
		delete(s.chunks, id)
	}
	if ch.Dir != nil {
		s.dir = ch.Dir.Encode()
	}
	return nil
}

func (s *store) items(t *testing.T) [][]byte {
	t.Helper()
	dir, err := DecodeDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	items, err := dir.Items(func(id uint64) []byte { return s.chunks[id] })
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestModel: random Appends, Inserts, Sets and Removes, of items small and
// large, applied through the package's plans give what a slice gives; every
// chunk stays within the bounds (or holds one item), and the directory
// names exactly the chunks stored, with their counts.
func TestModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := &store{chunks: map[uint64][]byte{}}
	var model [][]byte
	for step := range 3000 {
		size := r.IntN(20)
		if r.IntN(20) == 0 {
			size = 100 + r.IntN(400)
		}
		v := bytes.Repeat([]byte{byte(step)}, size)
		var err error
		switch k := r.IntN(10); {
		case k < 3:
			var at int64
			err = s.apply(t, End(&at), Insert(v))
			if int(at) != len(model) {
				t.Fatalf("step %d: Append at %d, want %d", step, at, len(model))
			}
			model = append(model, v)
		case k < 6:
			i := r.IntN(len(model) + 2)
			err = s.apply(t, Before(i), Insert(v))
			if i <= len(model) {
				model = slices.Insert(model, i, v)
			}
		case k < 8:
			i := r.IntN(len(model) + 1)
			var prev []byte
			err = s.apply(t, At(i), Replace(v, &prev))
			if i < len(model) {
				if !bytes.Equal(prev, model[i]) {
					t.Fatalf("step %d: Set returned %q, want %q", step, prev, model[i])
				}
				model[i] = v
			}
		default:
			i := r.IntN(len(model) + 1)
			var prev []byte
			err = s.apply(t, At(i), Delete(&prev))
			if i < len(model) {
				if !bytes.Equal(prev, model[i]) {
					t.Fatalf("step %d: Remove returned %q, want %q", step, prev, model[i])
				}
				model = slices.Delete(model, i, i+1)
			}
		}
		if err != nil && !errors.Is(err, driver.ErrNotFound) {
			t.Fatalf("step %d: %v", step, err)
		}
		if got := s.items(t); !slices.EqualFunc(got, model, bytes.Equal) {
			t.Fatalf("step %d: %d items differ from the model's %d", step, len(got), len(model))
		}
	}
	dir, _ := DecodeDir(s.dir)
	if dir.Total != int64(len(model)) || len(dir.Chunks) != len(s.chunks) {
		t.Fatalf("the directory counts %d items in %d chunks; %d items, %d chunks stored", dir.Total, len(dir.Chunks), len(model), len(s.chunks))
	}
	for _, c := range dir.Chunks {
		items, _ := DecodeChunk(s.chunks[c.ID])
		if int64(len(items)) != c.N {
			t.Errorf("chunk %d holds %d items, the directory says %d", c.ID, len(items), c.N)
		}
		if len(items) > 1 && (len(items) > bounds.Items || chunkSize(items) > bounds.Bytes) {
			t.Errorf("chunk %d (%d items, %d bytes) exceeds the bounds", c.ID, len(items), chunkSize(items))
		}
	}
}

// TestAppendFillsChunks: a list built by Append has full chunks, not
// halves.
func TestAppendFillsChunks(t *testing.T) {
	s := &store{chunks: map[uint64][]byte{}}
	for i := range 5 * bounds.Items {
		var at int64
		if err := s.apply(t, End(&at), Insert([]byte{byte(i)})); err != nil {
			t.Fatal(err)
		}
	}
	dir, _ := DecodeDir(s.dir)
	if len(dir.Chunks) != 5 {
		t.Fatalf("%d appended items are in %d chunks, want 5", 5*bounds.Items, len(dir.Chunks))
	}
}

// TestOutOfRange: At past the end and Before past the length are
// ErrNotFound; Before the length is the end of the last chunk.
func TestOutOfRange(t *testing.T) {
	d := &Dir{Next: 2, Total: 3, Chunks: []Ref{{ID: 0, N: 1}, {ID: 1, N: 2}}}
	for _, p := range []Place{At(3), Before(4), At(-1)} {
		if _, _, err := p(d); !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	}
	if j, off, err := Before(3)(d); err != nil || j != 1 || off != 2 {
		t.Errorf("Before(3) = %d, %d, %v; want 1, 2, nil", j, off, err)
	}
	if j, off, err := At(1)(d); err != nil || j != 1 || off != 0 {
		t.Errorf("At(1) = %d, %d, %v; want 1, 0, nil", j, off, err)
	}
}

// TestCorrupt: what the encoders do not write decodes to ErrCorrupt, and a
// directory naming a missing chunk makes Items report it.
func TestCorrupt(t *testing.T) {
	for _, b := range [][]byte{{0x80}, {1, 0x80}, {1, 1, 0}} {
		if _, err := DecodeDir(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeDir(%v) = %v, want ErrCorrupt", b, err)
		}
	}
	if _, err := DecodeChunk([]byte{5, 'a'}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("DecodeChunk of a short item = %v, want ErrCorrupt", err)
	}
	d := &Dir{Next: 2, Total: 2, Chunks: []Ref{{ID: 0, N: 1}, {ID: 1, N: 1}}}
	items, err := d.Items(func(id uint64) []byte {
		if id == 0 {
			return EncodeChunk([][]byte{[]byte("a")})
		}
		return nil
	})
	if !errors.Is(err, ErrCorrupt) || len(items) != 1 {
		t.Errorf("Items with a missing chunk = %d items, %v; want 1, ErrCorrupt", len(items), err)
	}
	again, err := DecodeDir(d.Encode())
	if err != nil || fmt.Sprint(again) != fmt.Sprint(d) {
		t.Errorf("DecodeDir(Encode) = %v, %v; want %v", again, err, d)
	}
}
