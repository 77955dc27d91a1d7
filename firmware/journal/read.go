package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultReadMax is the number of records Read and ReadTelemetry return
// when max ≤ 0.
const DefaultReadMax = 1024

// view runs fn in a read transaction, mapping a closed file to ErrClosed.
func (j *Journal) view(fn func(*bolt.Tx) error) error {
	if j.closed() {
		return ErrClosed
	}
	err := j.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// update runs fn in a write transaction of its own (cursors, meta,
// snapshots): durable when it returns.
func (j *Journal) update(fn func(*bolt.Tx) error) error {
	if j.closed() {
		return ErrClosed
	}
	err := j.db.Update(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Read returns up to max durable business records with seq ≥ from, in
// order. A from below First starts at First. Data is owned by the caller.
func (j *Journal) Read(from uint64, max int) ([]Record, error) {
	return j.read(bkBusiness, j.Committed(), from, max)
}

// ReadTelemetry returns up to max committed telemetry records with seq ≥
// from, in order. Evicted records are skipped.
func (j *Journal) ReadTelemetry(from uint64, max int) ([]Record, error) {
	return j.read(bkTelemetry, math.MaxUint64, from, max)
}

func (j *Journal) read(bucket []byte, upTo, from uint64, max int) ([]Record, error) {
	if max <= 0 {
		max = DefaultReadMax
	}
	var out []Record
	kinds := map[string]string{}
	err := j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil && len(out) < max; k, v = c.Next() {
			seq, ok := keySeq(k)
			if !ok {
				return fmt.Errorf("journal: %s key %x is not a sequence", bucket, k)
			}
			if seq > upTo {
				break
			}
			h, err := decodeValue(v)
			if err != nil {
				return fmt.Errorf("journal: %s %d: %w", bucket, seq, err)
			}
			out = append(out, h.record(seq, intern(kinds, h.kind), true))
		}
		return nil
	})
	return out, err
}

// intern returns kind as a string, allocating once per distinct kind.
func intern(m map[string]string, kind []byte) string {
	if s, ok := m[string(kind)]; ok {
		return s
	}
	s := string(kind)
	m[s] = s
	return s
}

// Scan calls fn for every durable business record with seq ≥ from, in
// order, inside one read transaction: the fast way to replay the journal.
// Record.Data aliases the file and is valid only inside fn. Scan stops at
// the first error fn returns and returns it unchanged. fn must not wait for
// the journal (Append, Pending.Wait, Flush): the read transaction it runs in
// can hold up the writer.
func (j *Journal) Scan(from uint64, fn func(Record) error) error {
	upTo := j.Committed()
	kinds := map[string]string{}
	return j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bkBusiness).Cursor()
		for k, v := c.Seek(seqKey(from)); k != nil; k, v = c.Next() {
			seq, ok := keySeq(k)
			if !ok {
				return fmt.Errorf("journal: business key %x is not a sequence", k)
			}
			if seq > upTo {
				return nil
			}
			h, err := decodeValue(v)
			if err != nil {
				return fmt.Errorf("journal: business %d: %w", seq, err)
			}
			if err := fn(h.record(seq, intern(kinds, h.kind), false)); err != nil {
				return err
			}
		}
		return nil
	})
}

// exportLine is one line of Export.
type exportLine struct {
	ID    string    `json:"id"`
	Seq   uint64    `json:"seq"`
	Class string    `json:"class"`
	Kind  string    `json:"kind"`
	At    time.Time `json:"at"`
	Data  []byte    `json:"data"` // base64
}

// Export writes the durable business records with seq ≥ from as JSON lines
// {"id","seq","class","kind","at","data"} with data in base64, for `hallgw
// verify` and support.
func (j *Journal) Export(w io.Writer, from uint64) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	err := j.Scan(from, func(r Record) error {
		return enc.Encode(exportLine{
			ID: EventID(j.opts.GatewayID, r.Seq), Seq: r.Seq, Class: r.Class.String(),
			Kind: r.Kind, At: r.At, Data: r.Data,
		})
	})
	if err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("journal: export: %w", err)
	}
	return nil
}

// Cursor returns the durable cursor of that name, 0 if never set.
func (j *Journal) Cursor(name string) (uint64, error) {
	var seq uint64
	err := j.view(func(tx *bolt.Tx) error {
		seq, _ = getU64(tx.Bucket(bkCursors).Get([]byte(name)))
		return nil
	})
	return seq, err
}

// SetCursor stores a named cursor durably. Cursors are monotonic: a seq
// below the stored one is ignored (returns nil), so acknowledgements that
// arrive out of order are harmless. A seq beyond Committed is an error.
func (j *Journal) SetCursor(name string, seq uint64) error {
	if name == "" {
		return errors.New("journal: set cursor: empty name")
	}
	if c := j.Committed(); seq > c {
		return fmt.Errorf("journal: set cursor %q to %d: beyond committed seq %d", name, seq, c)
	}
	err := j.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bkCursors)
		if old, _ := getU64(b.Get([]byte(name))); seq <= old {
			return nil
		}
		return b.Put([]byte(name), u64(seq))
	})
	if err != nil {
		return fmt.Errorf("journal: set cursor %q: %w", name, err)
	}
	return nil
}

// Meta returns a copy of the metadata value of key, nil if not set.
func (j *Journal) Meta(key string) ([]byte, error) {
	var val []byte
	err := j.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bkMeta).Get([]byte(key)); v != nil {
			val = append([]byte{}, v...)
		}
		return nil
	})
	return val, err
}

// SetMeta stores small metadata (e.g. the MQTT session counter) durably. A
// nil val deletes the key.
func (j *Journal) SetMeta(key string, val []byte) error {
	if key == "" {
		return errors.New("journal: set meta: empty key")
	}
	err := j.update(func(tx *bolt.Tx) error {
		if val == nil {
			return tx.Bucket(bkMeta).Delete([]byte(key))
		}
		return tx.Bucket(bkMeta).Put([]byte(key), val)
	})
	if err != nil {
		return fmt.Errorf("journal: set meta %q: %w", key, err)
	}
	return nil
}

// SaveSnapshot stores the derived state as of business seq (≤ Committed)
// and drops older snapshots. A snapshot older than the stored one is
// ignored (returns nil). Records after the latest snapshot are never
// reclaimed, so the state can always be rebuilt: snapshot + Scan(seq+1).
func (j *Journal) SaveSnapshot(seq uint64, data []byte) error {
	if seq == 0 {
		return errors.New("journal: save snapshot: seq 0")
	}
	if c := j.Committed(); seq > c {
		return fmt.Errorf("journal: save snapshot at %d: beyond committed seq %d", seq, c)
	}
	err := j.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bkSnapshots)
		if latest := latestSnapshotSeq(tx); seq < latest {
			return nil
		}
		if err := b.Put(seqKey(seq), data); err != nil {
			return err
		}
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.First() {
			if s, _ := keySeq(k); s >= seq {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("journal: save snapshot at %d: %w", seq, err)
	}
	return nil
}

// LatestSnapshot returns the newest snapshot, or (0, nil, nil) if none.
func (j *Journal) LatestSnapshot() (seq uint64, data []byte, err error) {
	err = j.view(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bkSnapshots).Cursor().Last()
		if k == nil {
			return nil
		}
		seq, _ = keySeq(k)
		data = append([]byte{}, v...)
		return nil
	})
	return seq, data, err
}

// Usage describes what the journal holds.
type Usage struct {
	BusinessBytes, TelemetryBytes, FileBytes int64
	BusinessRecords, TelemetryRecords        int
	First, Committed                         uint64
	// OldestAt is the At of the oldest record some hold has not yet
	// passed (the oldest unsent event); zero when there are no holds or
	// every hold is at Committed.
	OldestAt time.Time
}

// Usage returns the current figures.
func (j *Journal) Usage() Usage {
	j.mu.Lock()
	st := j.st
	j.mu.Unlock()
	u := Usage{
		BusinessBytes: st.busBytes, TelemetryBytes: st.telBytes, FileBytes: fileSize(j.opts.Path),
		BusinessRecords: int(st.busN), TelemetryRecords: int(st.telN),
		First: st.first, Committed: st.committed,
	}
	_ = j.view(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bkCursors)
		low := uint64(math.MaxUint64)
		for _, name := range j.Holds() {
			c, _ := getU64(cur.Get([]byte(name)))
			low = min(low, c)
		}
		if low >= st.committed {
			return nil
		}
		k, v := tx.Bucket(bkBusiness).Cursor().Seek(seqKey(low + 1))
		if seq, ok := keySeq(k); ok && seq <= st.committed {
			if h, err := decodeValue(v); err == nil {
				u.OldestAt = time.Unix(0, h.at).UTC()
			}
		}
		return nil
	})
	return u
}
