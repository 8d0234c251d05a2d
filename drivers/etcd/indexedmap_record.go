package etcd

import (
	"encoding/binary"

	"github.com/atomix/go-client/driver"
)

// The two records of an indexed map entry (see etcdIndexedMap): the "k/"
// record is the index (8 bytes, big-endian) then the value; the "i/" record
// is the key (uvarint length, then bytes) then the value.

// encodeKeyRecord returns the "k/" record of an entry.
func encodeKeyRecord(index uint64, value []byte) string {
	b := make([]byte, 8, 8+len(value))
	binary.BigEndian.PutUint64(b, index)
	return string(append(b, value...))
}

// encodeIndexRecord returns the "i/" record of an entry.
func encodeIndexRecord(key string, value []byte) string {
	b := make([]byte, 0, binary.MaxVarintLen64+len(key)+len(value))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return string(append(b, value...))
}

// entryFromKey decodes a "k/" key-value pair.
func (m *etcdIndexedMap) entryFromKey(kv *mvccKV) (driver.Entry, error) {
	if len(kv.Value) < 8 {
		return driver.Entry{}, errMalformedEntry
	}
	return driver.Entry{
		Key:     string(kv.Key[len(m.keyPrefix):]),
		Value:   kv.Value[8:],
		Version: uint64(kv.ModRevision),
		Index:   binary.BigEndian.Uint64(kv.Value),
	}, nil
}

// entryFromIndex decodes an "i/" key-value pair.
func (m *etcdIndexedMap) entryFromIndex(kv *mvccKV) (driver.Entry, error) {
	index, ok := parseIndexKey(m.idxPrefix, string(kv.Key))
	n, w := binary.Uvarint(kv.Value)
	if !ok || w <= 0 || uint64(len(kv.Value)-w) < n {
		return driver.Entry{}, errMalformedEntry
	}
	return driver.Entry{
		Key:     string(kv.Value[w : w+int(n)]),
		Value:   kv.Value[w+int(n):],
		Version: uint64(kv.ModRevision),
		Index:   index,
	}, nil
}
