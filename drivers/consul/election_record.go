package consul

import (
	"encoding/binary"
	"errors"
)

// termRecord is the election's term record (see consulElection).
type termRecord struct {
	term          uint64
	leader        string
	leaderSession string
	queue         []string
}

// recordFormat is the first byte of an encoded record.
const recordFormat = 1

// encode writes the record as: the format byte, the term as a uvarint, then
// the leader, the leader's session and the queue's length followed by its
// candidates, each string as a uvarint length and its bytes. Candidate IDs
// are arbitrary bytes, so a text format would not do.
func (r termRecord) encode() []byte {
	n := 1 + binary.MaxVarintLen64*(3+len(r.queue)) + len(r.leader) + len(r.leaderSession)
	for _, c := range r.queue {
		n += len(c)
	}
	b := make([]byte, 0, n)
	b = append(b, recordFormat)
	b = binary.AppendUvarint(b, r.term)
	b = appendString(b, r.leader)
	b = appendString(b, r.leaderSession)
	b = binary.AppendUvarint(b, uint64(len(r.queue)))
	for _, c := range r.queue {
		b = appendString(b, c)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadRecord = errors.New("not an atomix election record")

func decodeRecord(b []byte) (termRecord, error) {
	var r termRecord
	if len(b) == 0 || b[0] != recordFormat {
		return r, errBadRecord
	}
	d := recordDecoder{b: b[1:]}
	r.term = d.uvarint()
	r.leader = d.string()
	r.leaderSession = d.string()
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every candidate takes at least a byte
		return r, errBadRecord
	}
	r.queue = make([]string, 0, n)
	for range n {
		r.queue = append(r.queue, d.string())
	}
	if d.bad || len(d.b) != 0 {
		return termRecord{}, errBadRecord
	}
	return r, nil
}

type recordDecoder struct {
	b   []byte
	bad bool
}

func (d *recordDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
