package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Defaults for the zero values of Options.
const (
	DefaultBusinessLimit  = 256 << 20
	DefaultTelemetryLimit = 32 << 20
	DefaultMaxBatch       = 4096
	DefaultMaxQueueBytes  = 16 << 20
	DefaultTelemetryDelay = time.Second
	DefaultRetryBackoff   = 50 * time.Millisecond
	DefaultAlarmInterval  = 10 * time.Minute
	DefaultLockTimeout    = 10 * time.Second
)

// Alarm kinds passed to Options.OnAlarm.
const (
	AlarmBusinessNearLimit = "business_near_limit" // ≥ 90 % of BusinessLimit after reclaiming what may be
	AlarmBusinessOverLimit = "business_over_limit" // over BusinessLimit and nothing reclaimable; still writing
	AlarmTelemetryEvicted  = "telemetry_evicted"   // oldest telemetry deleted (rate-limited)
	AlarmWriteFailed       = "write_failed"        // a commit failed; the records stay queued and are retried
	AlarmRecovered         = "recovered"           // a commit succeeded after failures
)

// Alarm reports a space or write problem. Msg carries figures only, never
// record contents.
type Alarm struct {
	Kind string
	Msg  string
	At   time.Time
}

// Options configure a Journal. Zero values take the defaults above.
type Options struct {
	Path           string // the bbolt file; its directory must exist
	GatewayID      string // recorded in the file at creation; a file of another gateway is refused
	BusinessLimit  int64  // bytes of business records (default 256 MiB)
	TelemetryLimit int64  // bytes of telemetry records (default 32 MiB)
	MaxBatch       int    // max records per group commit (default 4096)
	Now            func() time.Time
	Logger         *slog.Logger
	// OnAlarm is called from the writer goroutine on space and write
	// alarms; it must not block and must not wait for the journal.
	OnAlarm func(Alarm)

	// MaxFileSize is the hard cap on the file (bbolt MaxSize). The default,
	// 2×(BusinessLimit+TelemetryLimit)+64 MiB, is a safety net well above
	// the limits; a negative value means no cap.
	MaxFileSize int64
	// MaxQueueBytes bounds the business records waiting for a commit
	// (default 16 MiB). Beyond it Submit returns ErrBacklog: the caller is
	// told, nothing is dropped.
	MaxQueueBytes int64
	// TelemetryDelay is how long telemetry waits for a business commit to
	// ride along with before it is committed on its own (default 1 s).
	TelemetryDelay time.Duration
	// RetryBackoff is the first pause after a failed commit; it doubles up
	// to 64× (default 50 ms).
	RetryBackoff time.Duration
	// AlarmInterval is how often a standing alarm is repeated, measured on
	// Now (default 10 min).
	AlarmInterval time.Duration
	// LockTimeout is how long Open waits for another process to release
	// the file (default 10 s).
	LockTimeout time.Duration

	// commitHook runs inside every writer transaction before the writes;
	// an error fails the commit. Tests inject faults with it.
	commitHook func(*bolt.Tx) error
}

// Errors callers branch on.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("journal: closed")
	// ErrBacklog is returned by Submit when MaxQueueBytes of records are
	// already waiting for a commit (the disk is failing or too slow).
	ErrBacklog = errors.New("journal: backlog full")
)

var (
	bkBusiness  = []byte("business")
	bkTelemetry = []byte("telemetry")
	bkCursors   = []byte("cursors")
	bkMeta      = []byte("meta")
	bkHolds     = []byte("holds")
	bkSnapshots = []byte("snapshots")
	bkSys       = []byte("sys")

	sysFormat   = []byte("format")
	sysGateway  = []byte("gateway")
	sysBusBytes = []byte("business_bytes")
	sysBusN     = []byte("business_records")
	sysTelBytes = []byte("telemetry_bytes")
	sysTelN     = []byte("telemetry_records")
)

const fileFormat = 1

// Journal is the durable, ordered store of one gateway's events. All methods
// are safe for concurrent use.
type Journal struct {
	opts Options
	db   *bolt.DB
	log  *slog.Logger

	kick chan struct{} // wakes the writer; capacity 1
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the writer has exited

	committed atomic.Uint64
	commits   atomic.Uint64 // successful writer commits, for benchmarks

	mu          sync.Mutex
	closing     bool
	nextSeq     uint64     // next business seq Submit hands out
	queue       []*Pending // submitted, not yet durable, in seq order
	queuedBytes int64
	tq          [][]byte // telemetry values waiting for a commit
	telHead     uint64   // absolute index of tq[0]
	telDue      bool     // telemetry may be committed without business
	telTimer    bool     // a TelemetryDelay timer is pending
	telDropped  int      // telemetry dropped from a full queue, not yet alarmed
	holds       map[string]bool
	holdsDirty  map[string]bool // true: add, false: release; persisted by the next commit
	st          stored          // what the file holds, as of the last commit
	changed     chan struct{}

	// Writer-goroutine state.
	failing        int
	lastFailAlarm  time.Time
	level          int
	lastLevelAlarm time.Time
	evictPending   int
	lastEvictAlarm time.Time

	closeOnce sync.Once
	closeErr  error
	flushErr  error // set by the writer when it gives up at Close
}

// stored are the counters persisted in the sys bucket.
type stored struct {
	busBytes, busN, telBytes, telN int64
	first                          uint64 // oldest stored business seq, committed+1 when none
	committed                      uint64
}

// Pending is a submitted group of business records on their way to disk.
type Pending struct {
	first, last uint64
	vals        [][]byte
	size        int64
	done        chan struct{}
	err         error // set before done is closed
}

// Seqs returns the first and last seq of the submitted records.
func (p *Pending) Seqs() (first, last uint64) { return p.first, p.last }

// Done returns a channel closed when the records are durable or the journal
// closed without writing them (then Wait returns the error).
func (p *Pending) Done() <-chan struct{} { return p.done }

// Wait returns nil once the records are fsynced. It returns ctx's error
// (wrapped) when ctx ends first, and an error wrapping ErrClosed when the
// journal was closed without managing to write them. While writes fail, Wait
// keeps waiting: the records stay queued and are retried.
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("journal: wait for seq %d..%d: %w", p.first, p.last, ctx.Err())
	}
}

// Open opens or creates the journal file and starts its writer.
func Open(opts Options) (*Journal, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	bo := boltOptions(opts.LockTimeout)
	if opts.MaxFileSize > 0 {
		bo.MaxSize = int(min(opts.MaxFileSize, math.MaxInt))
	}
	bo.InitialMmapSize = initialMmap(opts.MaxFileSize)
	db, err := bolt.Open(opts.Path, 0o600, bo)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", opts.Path, err)
	}
	j := &Journal{
		opts:       opts,
		db:         db,
		log:        opts.Logger,
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		holds:      map[string]bool{},
		holdsDirty: map[string]bool{},
		changed:    make(chan struct{}),
	}
	if err := db.Update(j.load); err != nil {
		db.Close()
		return nil, fmt.Errorf("journal: open %s: %w", opts.Path, err)
	}
	j.nextSeq = j.st.committed + 1
	j.committed.Store(j.st.committed)
	go j.run()
	return j, nil
}

// boltOptions are the bbolt settings of every journal file: the hashmap
// freelist, not written at each commit (about 2× faster commits, paid for
// by a scan of the file at open). Never NoSync.
func boltOptions(lock time.Duration) *bolt.Options {
	return &bolt.Options{
		Timeout:        lock,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	}
}

// initialMmap maps the whole capped file at once on 64-bit systems, so a
// long reader (Scan) never holds up a writer that grows the file. 32-bit
// systems keep their address space and remap as the file grows.
func initialMmap(maxFile int64) int {
	if strconv.IntSize < 64 {
		return 0
	}
	if maxFile <= 0 || maxFile > 1<<30 {
		return 1 << 30
	}
	return int(maxFile)
}

func (o *Options) fill() error {
	if o.Path == "" {
		return errors.New("journal: no path")
	}
	if o.GatewayID == "" || strings.ContainsAny(o.GatewayID, " \t\r\n") {
		return fmt.Errorf("journal: gateway id %q: want a non-empty id without spaces", o.GatewayID)
	}
	for _, v := range []struct {
		name string
		v    int64
	}{
		{"business limit", o.BusinessLimit}, {"telemetry limit", o.TelemetryLimit},
		{"max batch", int64(o.MaxBatch)}, {"max queue bytes", o.MaxQueueBytes},
		{"telemetry delay", int64(o.TelemetryDelay)}, {"retry backoff", int64(o.RetryBackoff)},
		{"alarm interval", int64(o.AlarmInterval)}, {"lock timeout", int64(o.LockTimeout)},
	} {
		if v.v < 0 {
			return fmt.Errorf("journal: negative %s %d", v.name, v.v)
		}
	}
	def := func(p *int64, d int64) {
		if *p == 0 {
			*p = d
		}
	}
	def(&o.BusinessLimit, DefaultBusinessLimit)
	def(&o.TelemetryLimit, DefaultTelemetryLimit)
	def(&o.MaxQueueBytes, DefaultMaxQueueBytes)
	def((*int64)(&o.TelemetryDelay), int64(DefaultTelemetryDelay))
	def((*int64)(&o.RetryBackoff), int64(DefaultRetryBackoff))
	def((*int64)(&o.AlarmInterval), int64(DefaultAlarmInterval))
	def((*int64)(&o.LockTimeout), int64(DefaultLockTimeout))
	if o.MaxFileSize == 0 {
		o.MaxFileSize = 2*(o.BusinessLimit+o.TelemetryLimit) + 64<<20
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// load creates the buckets of a new file, checks an existing one and reads
// its counters.
func (j *Journal) load(tx *bolt.Tx) error {
	for _, name := range [][]byte{bkBusiness, bkTelemetry, bkCursors, bkMeta, bkHolds, bkSnapshots, bkSys} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	sys := tx.Bucket(bkSys)
	if f := sys.Get(sysFormat); f == nil {
		if err := sys.Put(sysFormat, u64(fileFormat)); err != nil {
			return err
		}
	} else if v, ok := getU64(f); !ok || v != fileFormat {
		return fmt.Errorf("unknown file format %x", f)
	}
	if g := sys.Get(sysGateway); g == nil {
		if err := sys.Put(sysGateway, []byte(j.opts.GatewayID)); err != nil {
			return err
		}
	} else if string(g) != j.opts.GatewayID {
		return fmt.Errorf("file belongs to gateway %q, not %q", g, j.opts.GatewayID)
	}
	bus := tx.Bucket(bkBusiness)
	st := stored{committed: bus.Sequence()}
	if c, ok := getU64(sys.Get(sysBusBytes)); ok {
		st.busBytes = int64(c)
		n, _ := getU64(sys.Get(sysBusN))
		st.busN = int64(n)
		c, _ = getU64(sys.Get(sysTelBytes))
		st.telBytes = int64(c)
		n, _ = getU64(sys.Get(sysTelN))
		st.telN = int64(n)
	} else {
		st.busBytes, st.busN = countBucket(bus)
		st.telBytes, st.telN = countBucket(tx.Bucket(bkTelemetry))
	}
	st.first = st.committed + 1
	if k, _ := bus.Cursor().First(); k != nil {
		seq, ok := keySeq(k)
		if !ok {
			return fmt.Errorf("business key %x is not a sequence", k)
		}
		st.first = seq
	}
	j.st = st
	return tx.Bucket(bkHolds).ForEach(func(k, _ []byte) error {
		j.holds[string(k)] = true
		return nil
	})
}

func countBucket(b *bolt.Bucket) (bytes, n int64) {
	_ = b.ForEach(func(_, v []byte) error {
		bytes += recordBytes(v)
		n++
		return nil
	})
	return bytes, n
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func getU64(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// Close writes everything submitted so far, stops the writer and closes the
// file. When the pending records cannot be written (after a few retries) it
// returns an error, and their Wait returns an error wrapping ErrClosed.
// Calling Close again returns the first call's result.
func (j *Journal) Close() error {
	j.closeOnce.Do(func() {
		j.mu.Lock()
		j.closing = true
		j.mu.Unlock()
		close(j.stop)
		<-j.done
		err := j.flushErr
		if cerr := j.db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("journal: close: %w", cerr)
		}
		j.mu.Lock()
		close(j.changed)
		j.mu.Unlock()
		j.closeErr = err
	})
	return j.closeErr
}

// Path returns the file the journal lives in.
func (j *Journal) Path() string { return j.opts.Path }

// GatewayID returns the gateway the journal belongs to.
func (j *Journal) GatewayID() string { return j.opts.GatewayID }

// Submit queues business records for the writer and returns at once. Seqs
// are assigned consecutively in call order, so the order of Submit calls is
// the journal order; the records of one call are committed in one
// transaction. A zero Class means Business; a zero At is replaced by Now.
// Data is copied. Wait on the result to know they are durable.
func (j *Journal) Submit(recs ...Record) (*Pending, error) {
	if len(recs) == 0 {
		return nil, errors.New("journal: submit without records")
	}
	p := &Pending{vals: make([][]byte, len(recs)), done: make(chan struct{})}
	var now time.Time
	for i := range recs {
		r := &recs[i]
		if r.Class != Business && r.Class != 0 {
			return nil, fmt.Errorf("journal: submit: record %d is %s, want business", i, r.Class)
		}
		if err := checkRecord(r); err != nil {
			return nil, fmt.Errorf("journal: submit: record %d: %w", i, err)
		}
		at := r.At
		if at.IsZero() {
			if now.IsZero() {
				now = j.opts.Now()
			}
			at = now
		}
		p.vals[i] = encodeValue(Business, r.Kind, at, r.Data)
		p.size += recordBytes(p.vals[i])
	}
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		return nil, ErrClosed
	}
	if len(j.queue) > 0 && j.queuedBytes+p.size > j.opts.MaxQueueBytes {
		q := j.queuedBytes
		j.mu.Unlock()
		return nil, fmt.Errorf("%w: %d bytes waiting for the disk", ErrBacklog, q)
	}
	p.first = j.nextSeq
	p.last = p.first + uint64(len(recs)) - 1
	j.nextSeq = p.last + 1
	j.queue = append(j.queue, p)
	j.queuedBytes += p.size
	j.mu.Unlock()
	j.wake()
	return p, nil
}

// Append submits recs and waits until they are durable, returning the seq
// of the first.
func (j *Journal) Append(ctx context.Context, recs ...Record) (first uint64, err error) {
	p, err := j.Submit(recs...)
	if err != nil {
		return 0, err
	}
	if err := p.Wait(ctx); err != nil {
		return 0, err
	}
	return p.first, nil
}

// telQueueMax bounds the telemetry waiting for a commit; beyond it the
// oldest waiting sample is dropped and counted as evicted.
func (j *Journal) telQueueMax() int { return 4 * j.opts.MaxBatch }

// AppendTelemetry queues a telemetry record and returns at once. It is
// committed with the next business commit, or on its own after
// TelemetryDelay, sharing that commit with any telemetry queued meanwhile.
// A zero Class means Telemetry; a zero At is replaced by Now. Its seq is
// assigned at commit; ReadTelemetry returns it.
func (j *Journal) AppendTelemetry(rec Record) error {
	if rec.Class != Telemetry && rec.Class != 0 {
		return fmt.Errorf("journal: append telemetry: record is %s", rec.Class)
	}
	if err := checkRecord(&rec); err != nil {
		return fmt.Errorf("journal: append telemetry: %w", err)
	}
	if rec.At.IsZero() {
		rec.At = j.opts.Now()
	}
	v := encodeValue(Telemetry, rec.Kind, rec.At, rec.Data)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closing {
		return ErrClosed
	}
	if len(j.tq) >= j.telQueueMax() {
		j.tq[0] = nil
		j.tq = j.tq[1:]
		j.telHead++
		j.telDropped++
	}
	j.tq = append(j.tq, v)
	if !j.telTimer && !j.telDue {
		j.telTimer = true
		time.AfterFunc(j.opts.TelemetryDelay, func() {
			j.mu.Lock()
			j.telTimer = false
			j.telDue = true
			j.mu.Unlock()
			j.wake()
		})
	}
	return nil
}

// Flush commits everything submitted or appended so far, telemetry
// included, and waits until it is durable.
func (j *Journal) Flush(ctx context.Context) error {
	j.mu.Lock()
	if j.closing {
		j.mu.Unlock()
		return ErrClosed
	}
	seq := j.nextSeq - 1
	tel := j.telHead + uint64(len(j.tq))
	j.telDue = true
	j.mu.Unlock()
	j.wake()
	for {
		j.mu.Lock()
		ch, closing := j.changed, j.closing
		ok := j.committed.Load() >= seq && j.telHead >= tel
		j.mu.Unlock()
		if ok {
			return nil
		}
		if closing {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("journal: flush: %w", ctx.Err())
		}
	}
}

// Hold registers a reclaim hold: business records are only reclaimed at or
// below the cursor of the same name (0 until SetCursor is called). Holds are
// persisted with the next commit, so they bound reclaim from the moment a
// later run opens the file, before their owner registers again.
func (j *Journal) Hold(name string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.holds[name] {
		j.holds[name] = true
		j.holdsDirty[name] = true
	}
}

// Release removes a hold, e.g. of a consumer that was configured away.
func (j *Journal) Release(name string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.holds[name] {
		delete(j.holds, name)
		j.holdsDirty[name] = false
	}
}

// Holds returns the registered holds, sorted.
func (j *Journal) Holds() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Sorted(maps.Keys(j.holds))
}

// Committed returns the highest durable business seq (0 when none).
func (j *Journal) Committed() uint64 { return j.committed.Load() }

// First returns the oldest business seq still stored, or Committed()+1 when
// none is (a new journal, or everything reclaimed): [First, Committed] is
// always the gap-free range of stored records.
func (j *Journal) First() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.st.first
}

// Changed returns a channel closed at the next commit (and at Close). Call
// it before checking Committed so no commit is missed.
func (j *Journal) Changed() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.changed
}

// wake tells the writer there is work.
func (j *Journal) wake() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

func (j *Journal) closed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closing
}

// fileSize returns the size of the journal file.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
