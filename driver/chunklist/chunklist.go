// Package chunklist is the backend-independent half of a chunked list, the
// layout in which a driver keeps a driver.List as a directory key and a set
// of chunk keys: the directory names the chunks in list order with the
// number of items of each, and each chunk holds a bounded run of
// consecutive items. Every change then reads and writes the directory
// (a few bytes per chunk) and one chunk (a bounded number of bytes), never
// a key per item nor a record of every item, so its cost barely grows with
// the list.
//
// The package encodes and decodes the directory and the chunks, locates an
// index, and plans a change: which chunks to write under which IDs, which
// to delete, and the new directory. The driver supplies the rest: the keys,
// and one transaction per change that checks the directory and the chunk it
// read are still current (etcd by mod revision, Consul by ModifyIndex) and
// applies the plan.
package chunklist

import (
	"encoding/binary"
	"slices"

	"github.com/atomix/go-client/driver"
)

// ErrCorrupt is returned for a directory or chunk that is not in this
// package's format, or a directory that names a chunk that is missing:
// a list this package's drivers did not write.
var ErrCorrupt = driver.Errorf(driver.ErrUnavailable, "the list's stored directory or chunk is not in this driver's format")

// Bounds are a driver's chunk bounds: a chunk holds at most Items items and,
// when it holds more than one, at most Bytes bytes of them encoded. A change
// that makes a chunk exceed them splits it (see Split), so a chunk of
// several items stays small and a single large item is a chunk of its own.
// A driver picks them so that the directory, one chunk and one item of the
// largest size fit in one transaction of its backend.
type Bounds struct {
	Items int
	Bytes int
}

// Dir is a list's directory: its chunks in list order, each with the number
// of items it holds.
type Dir struct {
	// Next is the ID the next new chunk gets; IDs are not reused while the
	// directory exists.
	Next uint64
	// Total is the number of items: the sum of the chunks' counts.
	Total int64
	// Chunks are the chunks in list order.
	Chunks []Ref
}

// Ref names one chunk of a directory and counts its items (never 0: an
// emptied chunk leaves the directory).
type Ref struct {
	ID uint64
	N  int64
}

// Encode returns the directory's stored form: uvarints Next, then ID and N
// for each chunk. (Total is their sum.)
func (d *Dir) Encode() []byte {
	b := make([]byte, 0, 8+len(d.Chunks)*4)
	b = binary.AppendUvarint(b, d.Next)
	for _, c := range d.Chunks {
		b = binary.AppendUvarint(b, c.ID)
		b = binary.AppendUvarint(b, uint64(c.N))
	}
	return b
}

// DecodeDir is the inverse of Encode; an absent or empty value is the empty
// list. It returns ErrCorrupt for anything Encode does not write.
func DecodeDir(b []byte) (*Dir, error) {
	d := &Dir{}
	if len(b) == 0 {
		return d, nil
	}
	next, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, ErrCorrupt
	}
	d.Next, b = next, b[k:]
	for len(b) > 0 {
		id, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, ErrCorrupt
		}
		b = b[k:]
		n, k := binary.Uvarint(b)
		if k <= 0 || n == 0 || n > 1<<31 {
			return nil, ErrCorrupt
		}
		b = b[k:]
		d.Chunks = append(d.Chunks, Ref{ID: id, N: int64(n)})
		d.Total += int64(n)
	}
	return d, nil
}

// Find returns the position in d.Chunks of the chunk that holds item i and
// i's offset in it. With end set, i may also be d.Total, found at the end of
// the last chunk. It returns -1 when there is no such chunk (an empty list
// for end, else i out of range).
func (d *Dir) Find(i int64, end bool) (int, int64) {
	if i < 0 || i > d.Total || (i == d.Total && !end) {
		return -1, 0
	}
	for j, c := range d.Chunks {
		if i < c.N {
			return j, i
		}
		i -= c.N
	}
	if end && len(d.Chunks) > 0 {
		last := len(d.Chunks) - 1
		return last, d.Chunks[last].N
	}
	return -1, 0
}

// Items returns the items of the list d describes, in order: the chunks it
// names, concatenated, each read with chunk (which returns nil for a chunk
// it does not have). A chunk that is missing or unreadable is left out and
// makes the error ErrCorrupt: a watch shows what it can of a state it did
// not write, a read reports it.
func (d *Dir) Items(chunk func(id uint64) []byte) ([][]byte, error) {
	items := make([][]byte, 0, d.Total)
	var err error
	for _, c := range d.Chunks {
		v := chunk(c.ID)
		part, perr := DecodeChunk(v)
		if v == nil || perr != nil {
			err = ErrCorrupt
			continue
		}
		items = append(items, part...)
	}
	return items, err
}

// EncodeChunk returns a chunk's stored form: for each item, its length as a
// uvarint and its bytes.
func EncodeChunk(items [][]byte) []byte {
	b := make([]byte, 0, chunkSize(items))
	for _, it := range items {
		b = binary.AppendUvarint(b, uint64(len(it)))
		b = append(b, it...)
	}
	return b
}

// chunkSize bounds the size of items encoded.
func chunkSize(items [][]byte) int {
	n := 0
	for _, it := range items {
		n += len(it) + binary.MaxVarintLen32
	}
	return n
}

// DecodeChunk is the inverse of EncodeChunk. The items share b's memory.
func DecodeChunk(b []byte) ([][]byte, error) {
	var items [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, ErrCorrupt
		}
		items = append(items, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return items, nil
}

// Split cuts items into parts within the bounds. An item of more than a
// quarter of Bytes becomes a part of its own, so that a large item does not
// force its small neighbours into a trail of ever smaller chunks; the runs
// of small items between are halved (by count, or by bytes when that is
// what they exceed) until they fit, so parts stay about half full or more.
func (bd Bounds) Split(items [][]byte) [][][]byte {
	var parts [][][]byte
	start := 0
	for i, it := range items {
		if len(it) > bd.Bytes/4 {
			parts = bd.appendHalves(parts, items[start:i])
			parts = append(parts, items[i:i+1])
			start = i + 1
		}
	}
	return bd.appendHalves(parts, items[start:])
}

// appendHalves appends run to parts, halved until every half fits.
func (bd Bounds) appendHalves(parts [][][]byte, run [][]byte) [][][]byte {
	switch {
	case len(run) == 0:
		return parts
	case len(run) == 1 || (len(run) <= bd.Items && chunkSize(run) <= bd.Bytes):
		return append(parts, run)
	}
	half := len(run) / 2
	if len(run) <= bd.Items { // too many bytes: cut where half of them are
		size, total := 0, chunkSize(run)
		for half = 0; half < len(run)-1 && 2*size < total; half++ {
			size += chunkSize(run[half : half+1])
		}
		half = max(half, 1)
	}
	return bd.appendHalves(bd.appendHalves(parts, run[:half]), run[half:])
}

// Chunk is a chunk to store: its ID and its items.
type Chunk struct {
	ID    uint64
	Items [][]byte
}

// Change is the plan of one change to one chunk (see Bounds.Rewrite).
type Change struct {
	// Dir is the new directory; nil when it stays as it was (the chunk
	// kept its ID and its number of items).
	Dir *Dir
	// Put are the chunks to write, the changed chunk's ID first when it
	// keeps one.
	Put []Chunk
	// Delete is set when the changed chunk was left empty: its key is to be
	// deleted (and Put is empty).
	Delete bool
	// Keep is the written chunk that holds the change's offset, for the
	// driver to cache; its Items are nil when nothing was written.
	Keep Chunk
}

// Rewrite plans the replacement of chunk j of dir (-1: the list is empty)
// by items, the chunk's new contents, where the change was at offset off:
// items in parts within the bounds, the first under the chunk's own ID and
// the others under new ones, and the directory with their counts.
//
// With atEnd, items is the last chunk plus one item added at its end: if
// they do not fit one chunk but the old ones did, the new item starts a
// chunk of its own instead of the chunk being halved, so that a list built
// by appending has full chunks rather than halves.
func (bd Bounds) Rewrite(dir *Dir, j int, items [][]byte, off int64, atEnd bool) Change {
	parts := bd.Split(items)
	if atEnd && len(parts) > 1 && len(items) > 1 && len(bd.Split(items[:len(items)-1])) == 1 {
		parts = [][][]byte{items[:len(items)-1], items[len(items)-1:]}
	}
	if j >= 0 && len(items) > 0 && int64(len(items)) == dir.Chunks[j].N && len(parts) == 1 {
		// The same number of items in one chunk (Set): the directory
		// stays.
		c := Chunk{dir.Chunks[j].ID, items}
		return Change{Put: []Chunk{c}, Keep: c}
	}
	nd := &Dir{Next: dir.Next, Total: dir.Total + int64(len(items))}
	var ch Change
	var refs []Ref
	for k, part := range parts {
		var id uint64
		if k == 0 && j >= 0 {
			id = dir.Chunks[j].ID
		} else {
			id = nd.Next
			nd.Next++
		}
		ch.Put = append(ch.Put, Chunk{id, part})
		refs = append(refs, Ref{ID: id, N: int64(len(part))})
		if off >= 0 { // the last part that starts at or before off
			ch.Keep = Chunk{id, part}
		}
		off -= int64(len(part))
	}
	if j < 0 {
		nd.Chunks = refs
	} else {
		ch.Delete = len(refs) == 0
		nd.Chunks = slices.Concat(dir.Chunks[:j], refs, dir.Chunks[j+1:])
		nd.Total -= dir.Chunks[j].N
	}
	ch.Dir = nd
	return ch
}

// Place picks the chunk a change applies to in a directory: the chunk's
// position (-1 for the empty list) and the offset of the change in it, or
// an error (ErrNotFound for an index out of range).
type Place func(*Dir) (int, int64, error)

// End places a change at the end of the list (Append) and sets *index to
// the index the new item gets.
func End(index *int64) Place {
	return func(d *Dir) (int, int64, error) {
		*index = d.Total
		j, off := d.Find(d.Total, true)
		return j, off, nil
	}
}

// Before places an insertion at index, which may be the list's length.
func Before(index int) Place {
	return func(d *Dir) (int, int64, error) {
		if index < 0 || int64(index) > d.Total {
			return 0, 0, outOfRange(d)
		}
		j, off := d.Find(int64(index), true)
		return j, off, nil
	}
}

// At places a change of the item at index, which must exist.
func At(index int) Place {
	return func(d *Dir) (int, int64, error) {
		j, off := d.Find(int64(index), false)
		if j < 0 {
			return 0, 0, outOfRange(d)
		}
		return j, off, nil
	}
}

func outOfRange(d *Dir) error {
	return driver.Errorf(driver.ErrNotFound, "index out of range (length %d)", d.Total)
}

// Edit is a change to the items of one chunk: given the chunk's items (a
// copy it may change; nil for an empty list) and the offset of the change,
// it returns the chunk's new items.
type Edit func(items [][]byte, off int64) [][]byte

// Insert returns the Edit that inserts value at the offset.
func Insert(value []byte) Edit {
	return func(items [][]byte, off int64) [][]byte { return slices.Insert(items, int(off), value) }
}

// Replace returns the Edit that replaces the item at the offset by value
// and sets *prev to the item replaced.
func Replace(value []byte, prev *[]byte) Edit {
	return func(items [][]byte, off int64) [][]byte {
		*prev = items[off]
		items[off] = value
		return items
	}
}

// Delete returns the Edit that removes the item at the offset and sets
// *prev to it.
func Delete(prev *[]byte) Edit {
	return func(items [][]byte, off int64) [][]byte {
		*prev = items[off]
		return slices.Delete(items, int(off), int(off)+1)
	}
}
