package etcd

import (
	"encoding/binary"
	"errors"
)

// The election record is binary, since candidate IDs may hold any bytes:
//
//	version byte (1) | uvarint term | per candidate: uvarint length | bytes
const electionRecordVersion = 1

func encodeElectionRecord(term uint64, queue []string) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, c := range queue {
		n += binary.MaxVarintLen64 + len(c)
	}
	b := make([]byte, 0, n)
	b = append(b, electionRecordVersion)
	b = binary.AppendUvarint(b, term)
	for _, c := range queue {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	return b
}

var errBadElectionRecord = errors.New("malformed election record")

func decodeElectionRecord(b []byte) (term uint64, queue []string, err error) {
	if len(b) == 0 || b[0] != electionRecordVersion {
		return 0, nil, errBadElectionRecord
	}
	b = b[1:]
	term, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errBadElectionRecord
	}
	b = b[n:]
	for len(b) > 0 {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return 0, nil, errBadElectionRecord
		}
		queue = append(queue, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	return term, queue, nil
}
