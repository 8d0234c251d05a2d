package etcd

import (
	"encoding/binary"

	"github.com/atomix/go-client/driver"
)

// The stored form of a chunked list (see etcdList): a directory of chunks,
// and the chunks, each a bounded run of consecutive items.

// Chunk bounds: a chunk holds at most maxChunkItems items and, when it holds
// more than one, at most maxChunkBytes bytes of them encoded. A write that
// makes a chunk exceed them splits it in halves, again until every part
// fits, so a chunk of several items stays small and a single item of up to
// MaxValueSize is a chunk of its own. A transaction writes the directory and
// the parts of one chunk: with items of up to MaxValueSize (512 KiB) that
// stays under etcd's default --max-request-bytes of 1.5 MiB and far under
// its --max-txn-ops of 128.
const (
	maxChunkItems = 128
	maxChunkBytes = 32 << 10
)

// listDir is a list's directory: its chunks in list order, each with the
// number of items it holds.
type listDir struct {
	next   uint64 // the ID the next new chunk gets; IDs are never reused until Clear
	total  int64  // the number of items
	chunks []chunkRef
}

type chunkRef struct {
	id uint64
	n  int64
}

// encode is the directory's value: uvarints next, then id and n for each
// chunk. (total is their sum.)
func (d *listDir) encode() []byte {
	b := make([]byte, 0, 8+len(d.chunks)*4)
	b = binary.AppendUvarint(b, d.next)
	for _, c := range d.chunks {
		b = binary.AppendUvarint(b, c.id)
		b = binary.AppendUvarint(b, uint64(c.n))
	}
	return b
}

// decodeListDir is the inverse of encode; an absent directory (nil) is the
// empty list.
func decodeListDir(b []byte) (*listDir, error) {
	d := &listDir{}
	if len(b) == 0 {
		return d, nil
	}
	next, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, errCorruptList
	}
	d.next, b = next, b[k:]
	for len(b) > 0 {
		id, k := binary.Uvarint(b)
		if k <= 0 {
			return nil, errCorruptList
		}
		b = b[k:]
		n, k := binary.Uvarint(b)
		if k <= 0 || n == 0 || n > 1<<31 {
			return nil, errCorruptList
		}
		b = b[k:]
		d.chunks = append(d.chunks, chunkRef{id: id, n: int64(n)})
		d.total += int64(n)
	}
	return d, nil
}

var errCorruptList = driver.Errorf(driver.ErrUnavailable, "the list's stored directory or chunk is not in this driver's format")

// find returns the position in d.chunks of the chunk that holds item i and
// i's offset in it. With end set, i may also be d.total, found at the end of
// the last chunk. It returns -1 when there is no such chunk (an empty list
// for end, else i out of range).
func (d *listDir) find(i int64, end bool) (int, int64) {
	if i < 0 || i > d.total || (i == d.total && !end) {
		return -1, 0
	}
	for j, c := range d.chunks {
		if i < c.n {
			return j, i
		}
		i -= c.n
	}
	if end && len(d.chunks) > 0 {
		last := len(d.chunks) - 1
		return last, d.chunks[last].n
	}
	return -1, 0
}

// clone returns a copy of d that can be changed.
func (d *listDir) clone() *listDir {
	c := *d
	c.chunks = append([]chunkRef(nil), d.chunks...)
	return &c
}

// encodeChunk is a chunk's value: for each item, its length as a uvarint
// and its bytes.
func encodeChunk(items [][]byte) []byte {
	b := make([]byte, 0, chunkSize(items))
	for _, it := range items {
		b = binary.AppendUvarint(b, uint64(len(it)))
		b = append(b, it...)
	}
	return b
}

func chunkSize(items [][]byte) int {
	n := 0
	for _, it := range items {
		n += len(it) + binary.MaxVarintLen32
	}
	return n
}

// decodeChunk is the inverse of encodeChunk.
func decodeChunk(b []byte) ([][]byte, error) {
	var items [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, errCorruptList
		}
		items = append(items, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return items, nil
}

// splitChunk cuts items into parts within the chunk bounds. An item of
// more than a quarter of maxChunkBytes becomes a part of its own, so that a
// large item does not force its small neighbours into a trail of ever
// smaller chunks; the runs of small items between are halved (by count, or
// by bytes when that is what they exceed) until they fit, so parts stay
// about half full or more.
func splitChunk(items [][]byte) [][][]byte {
	var parts [][][]byte
	start := 0
	for i, it := range items {
		if len(it) > maxChunkBytes/4 {
			parts = appendHalves(parts, items[start:i])
			parts = append(parts, items[i:i+1])
			start = i + 1
		}
	}
	return appendHalves(parts, items[start:])
}

// appendHalves appends run to parts, halved until every half fits.
func appendHalves(parts [][][]byte, run [][]byte) [][][]byte {
	switch {
	case len(run) == 0:
		return parts
	case len(run) == 1 || (len(run) <= maxChunkItems && chunkSize(run) <= maxChunkBytes):
		return append(parts, run)
	}
	half := len(run) / 2
	if len(run) <= maxChunkItems { // too many bytes: cut where half of them are
		size, total := 0, chunkSize(run)
		for half = 0; half < len(run)-1 && 2*size < total; half++ {
			size += chunkSize(run[half : half+1])
		}
		half = max(half, 1)
	}
	return appendHalves(appendHalves(parts, run[:half]), run[half:])
}
