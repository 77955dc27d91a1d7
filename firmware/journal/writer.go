package journal

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	// closeAttempts is how many times Close retries a failing commit
	// before giving up on the queued records.
	closeAttempts = 3
	// maxDeletes bounds the records one commit reclaims or evicts, so a
	// lowered limit is worked off over several commits.
	maxDeletes = 1 << 16
	// Reclaim starts at nearPct of BusinessLimit and goes down to lowPct.
	nearPct = 90
	lowPct  = 80
)

var errNothingToFree = errors.New("journal: nothing to free")

// batch is what one group commit writes.
type batch struct {
	pend    []*Pending
	tel     [][]byte
	telHead uint64          // absolute index of tel[0]
	holds   map[string]bool // hold changes to persist
}

func (b *batch) empty() bool { return len(b.pend) == 0 && len(b.tel) == 0 && len(b.holds) == 0 }

// result is the outcome of a successful commit.
type result struct {
	st        stored
	evicted   int
	reclaimed int
	bound     uint64 // the reclaim bound that applied (holds, snapshot)
}

// run is the single writer: it takes everything queued (up to MaxBatch
// business records plus the waiting telemetry) into one bbolt transaction,
// and retries with backoff when a commit fails.
func (j *Journal) run() {
	defer close(j.done)
	stopping := false
	fails := 0
	for {
		if !stopping {
			select {
			case <-j.kick:
			case <-j.stop:
				stopping = true
			}
		}
		for {
			b := j.take(stopping)
			if b.empty() {
				break
			}
			res, err := j.commit(b)
			if err == nil {
				j.finish(b, res, fails)
				fails = 0
				continue
			}
			fails++
			j.writeFailed(err, fails)
			if stopping && fails >= closeAttempts {
				j.abandon(err)
				return
			}
			if errors.Is(err, berrors.ErrMaxSizeReached) {
				j.relieve()
			}
			if stopping {
				time.Sleep(j.opts.RetryBackoff)
				continue
			}
			t := time.NewTimer(j.opts.RetryBackoff << min(fails-1, 6))
			select {
			case <-t.C:
			case <-j.stop:
				t.Stop()
				stopping = true
			}
		}
		if stopping {
			return
		}
	}
}

// take collects the next batch: whole submissions up to MaxBatch records
// (at least one), telemetry when it rides along or is due, hold changes.
func (j *Journal) take(all bool) *batch {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := &batch{}
	n := 0
	for _, p := range j.queue {
		if len(b.pend) > 0 && n+len(p.vals) > j.opts.MaxBatch {
			break
		}
		b.pend = append(b.pend, p)
		n += len(p.vals)
	}
	if len(j.tq) == 0 {
		j.telDue = false
	} else if len(b.pend) > 0 || j.telDue || all {
		b.tel = j.tq[:min(len(j.tq), j.opts.MaxBatch)]
		b.telHead = j.telHead
	}
	if len(j.holdsDirty) > 0 {
		b.holds = make(map[string]bool, len(j.holdsDirty))
		for k, v := range j.holdsDirty {
			b.holds[k] = v
		}
	}
	return b
}

// commit writes b in one transaction, then evicts telemetry over its limit
// and reclaims business records near theirs.
func (j *Journal) commit(b *batch) (res result, err error) {
	j.mu.Lock()
	st := j.st
	j.mu.Unlock()
	err = j.db.Update(func(tx *bolt.Tx) error {
		if h := j.opts.commitHook; h != nil {
			if err := h(tx); err != nil {
				return err
			}
		}
		bus := tx.Bucket(bkBusiness)
		bus.FillPercent = 1 // sequential appends: fill pages completely
		for _, p := range b.pend {
			for i, v := range p.vals {
				if err := bus.Put(seqKey(p.first+uint64(i)), v); err != nil {
					return err
				}
				st.busBytes += recordBytes(v)
				st.busN++
			}
			st.committed = p.last
		}
		if len(b.pend) > 0 {
			if err := bus.SetSequence(st.committed); err != nil {
				return err
			}
		}
		tel := tx.Bucket(bkTelemetry)
		tel.FillPercent = 1
		for _, v := range b.tel {
			seq, err := tel.NextSequence()
			if err != nil {
				return err
			}
			if err := tel.Put(seqKey(seq), v); err != nil {
				return err
			}
			st.telBytes += recordBytes(v)
			st.telN++
		}
		holds := tx.Bucket(bkHolds)
		for name, on := range b.holds {
			var err error
			if on {
				err = holds.Put([]byte(name), []byte{})
			} else {
				err = holds.Delete([]byte(name))
			}
			if err != nil {
				return err
			}
		}
		var err error
		if st.telBytes > j.opts.TelemetryLimit {
			if res.evicted, err = evict(tel, &st, j.opts.TelemetryLimit, maxDeletes); err != nil {
				return err
			}
		}
		res.bound = reclaimBound(tx)
		if st.busBytes >= j.opts.BusinessLimit*nearPct/100 {
			if res.reclaimed, err = reclaim(bus, &st, res.bound, j.opts.BusinessLimit*lowPct/100, maxDeletes); err != nil {
				return err
			}
		}
		return putCounters(tx.Bucket(bkSys), &st)
	})
	res.st = st
	return res, err
}

// reclaimBound is the highest business seq that may be deleted: at or below
// every hold's cursor and the latest snapshot.
func reclaimBound(tx *bolt.Tx) uint64 {
	bound := latestSnapshotSeq(tx)
	cur := tx.Bucket(bkCursors)
	_ = tx.Bucket(bkHolds).ForEach(func(k, _ []byte) error {
		c, _ := getU64(cur.Get(k))
		bound = min(bound, c)
		return nil
	})
	return bound
}

func latestSnapshotSeq(tx *bolt.Tx) uint64 {
	k, _ := tx.Bucket(bkSnapshots).Cursor().Last()
	seq, _ := keySeq(k)
	return seq
}

// reclaim deletes the oldest business records at or below bound until the
// class uses at most target bytes.
func reclaim(bus *bolt.Bucket, st *stored, bound uint64, target int64, limit int) (int, error) {
	c := bus.Cursor()
	n := 0
	for ; st.busBytes > target && n < limit; n++ {
		k, v := c.First()
		seq, ok := keySeq(k)
		if !ok || seq > bound {
			break
		}
		size := recordBytes(v)
		if err := c.Delete(); err != nil {
			return n, err
		}
		st.busBytes -= size
		st.busN--
	}
	st.first = st.committed + 1
	if k, _ := c.First(); k != nil {
		st.first, _ = keySeq(k)
	}
	return n, nil
}

// evict deletes the oldest telemetry until the class is within target.
func evict(tel *bolt.Bucket, st *stored, target int64, limit int) (int, error) {
	c := tel.Cursor()
	n := 0
	for ; st.telBytes > target && n < limit; n++ {
		k, v := c.First()
		if k == nil {
			break
		}
		size := recordBytes(v)
		if err := c.Delete(); err != nil {
			return n, err
		}
		st.telBytes -= size
		st.telN--
	}
	return n, nil
}

func putCounters(sys *bolt.Bucket, st *stored) error {
	for _, kv := range []struct {
		k []byte
		v int64
	}{{sysBusBytes, st.busBytes}, {sysBusN, st.busN}, {sysTelBytes, st.telBytes}, {sysTelN, st.telN}} {
		if err := sys.Put(kv.k, u64(uint64(kv.v))); err != nil {
			return err
		}
	}
	return nil
}

// finish publishes a successful commit: first the alarms it calls for,
// then counters, Committed, Changed and the waiters, so that whoever sees
// the commit also sees its alarms.
func (j *Journal) finish(b *batch, res result, fails int) {
	j.mu.Lock()
	dropped := j.telDropped
	j.telDropped = 0
	j.mu.Unlock()
	if fails > 0 {
		j.alarm(AlarmRecovered, fmt.Sprintf("journal writes succeed again after %d failed attempts", fails))
		j.failing = 0
	}
	j.evictPending += res.evicted + dropped
	now := j.opts.Now()
	if j.evictPending > 0 && (j.lastEvictAlarm.IsZero() || now.Sub(j.lastEvictAlarm) >= j.opts.AlarmInterval) {
		j.alarm(AlarmTelemetryEvicted, fmt.Sprintf("%d oldest telemetry records evicted to stay within %d bytes", j.evictPending, j.opts.TelemetryLimit))
		j.evictPending = 0
		j.lastEvictAlarm = now
	}
	j.checkLevel(res, now)

	j.mu.Lock()
	nb := int64(0)
	for i, p := range b.pend {
		nb += p.size
		j.queue[i] = nil
	}
	j.queue = j.queue[len(b.pend):]
	if len(j.queue) == 0 {
		j.queue = nil
	}
	j.queuedBytes -= nb
	if drop := b.telHead + uint64(len(b.tel)); len(b.tel) > 0 && drop > j.telHead {
		n := drop - j.telHead
		clear(j.tq[:n])
		j.tq = j.tq[n:]
		j.telHead = drop
	}
	if len(j.tq) == 0 {
		j.tq = nil
		j.telDue = false
	}
	for name, on := range b.holds {
		if v, ok := j.holdsDirty[name]; ok && v == on {
			delete(j.holdsDirty, name)
		}
	}
	j.st = res.st
	j.committed.Store(res.st.committed)
	j.commits.Add(1)
	close(j.changed)
	j.changed = make(chan struct{})
	j.mu.Unlock()
	for _, p := range b.pend {
		close(p.done)
	}
}

// checkLevel raises the business space alarms on entering a level and
// repeats them every AlarmInterval while it lasts.
func (j *Journal) checkLevel(res result, now time.Time) {
	limit := j.opts.BusinessLimit
	lvl := 0
	switch {
	case res.st.busBytes > limit:
		lvl = 2
	case res.st.busBytes >= limit*nearPct/100:
		lvl = 1
	}
	if lvl > 0 && (lvl > j.level || now.Sub(j.lastLevelAlarm) >= j.opts.AlarmInterval) {
		kind := AlarmBusinessNearLimit
		if lvl == 2 {
			kind = AlarmBusinessOverLimit
		}
		j.alarm(kind, fmt.Sprintf("business records use %d of %d bytes (%d records, seq %d..%d); reclaim is bounded at seq %d by the holds %v and the latest snapshot",
			res.st.busBytes, limit, res.st.busN, res.st.first, res.st.committed, res.bound, j.Holds()))
		j.lastLevelAlarm = now
	}
	j.level = lvl
}

// writeFailed raises write_failed at the start of a failure streak and
// every AlarmInterval while it lasts.
func (j *Journal) writeFailed(err error, fails int) {
	now := j.opts.Now()
	if j.failing == 0 || now.Sub(j.lastFailAlarm) >= j.opts.AlarmInterval {
		j.mu.Lock()
		queued := j.queuedBytes
		j.mu.Unlock()
		j.alarm(AlarmWriteFailed, fmt.Sprintf("commit failed (attempt %d, %d bytes queued, retrying): %v", fails, queued, err))
		j.lastFailAlarm = now
	}
	j.failing = fails
}

// relieve runs when the file hit its hard cap: the older half of the
// telemetry waiting for a commit is dropped, and a transaction of its own
// evicts a quarter of the stored telemetry and reclaims every business
// record it may, so the pages they free serve the retried commit. Business
// records are never dropped: they wait.
func (j *Journal) relieve() {
	j.mu.Lock()
	if n := (len(j.tq) + 1) / 2; n > 0 {
		clear(j.tq[:n])
		j.tq = j.tq[n:]
		j.telHead += uint64(n)
		j.telDropped += n
	}
	st := j.st
	j.mu.Unlock()
	var res result
	var saved, raised int
	err := j.db.Update(func(tx *bolt.Tx) error {
		// Deleting needs a few pages for copy-on-write, and a file at its
		// cap may have none free: this transaction alone may grow the file
		// one bbolt growth step past the cap.
		if db := tx.DB(); db.MaxSize > 0 {
			saved = db.MaxSize
			raised = saved + max(min(saved, db.AllocSize), 1<<20)
			db.MaxSize = raised
		}
		var err error
		if st.telBytes > 0 {
			if res.evicted, err = evict(tx.Bucket(bkTelemetry), &st, st.telBytes*3/4, maxDeletes); err != nil {
				return err
			}
		}
		if res.reclaimed, err = reclaim(tx.Bucket(bkBusiness), &st, reclaimBound(tx), 0, maxDeletes); err != nil {
			return err
		}
		if res.evicted+res.reclaimed == 0 {
			return errNothingToFree // roll back: nothing to write
		}
		return putCounters(tx.Bucket(bkSys), &st)
	})
	if raised > 0 {
		if tx, berr := j.db.Begin(true); berr == nil { // orders the restore with every writer
			if tx.DB().MaxSize == raised {
				tx.DB().MaxSize = saved
			}
			_ = tx.Rollback()
		}
	}
	if err != nil {
		return
	}
	j.mu.Lock()
	j.st = st
	j.mu.Unlock()
	j.evictPending += res.evicted
	j.log.Warn("journal: file at its size cap: space freed", "evicted_telemetry", res.evicted, "reclaimed_business", res.reclaimed)
}

// abandon gives up on everything queued when Close cannot write it.
func (j *Journal) abandon(cause error) {
	j.mu.Lock()
	q := j.queue
	j.queue = nil
	j.queuedBytes = 0
	n := 0
	for _, p := range q {
		n += len(p.vals)
	}
	j.mu.Unlock()
	if n == 0 {
		j.flushErr = fmt.Errorf("journal: close: telemetry not written: %w", cause)
		return
	}
	j.flushErr = fmt.Errorf("journal: close: %d business records (seq %d..%d) not written: %w", n, q[0].first, q[len(q)-1].last, cause)
	for _, p := range q {
		p.err = fmt.Errorf("%w before seq %d..%d were written: %w", ErrClosed, p.first, p.last, cause)
		close(p.done)
	}
}

func (j *Journal) alarm(kind, msg string) {
	a := Alarm{Kind: kind, Msg: msg, At: j.opts.Now().UTC()}
	switch kind {
	case AlarmRecovered:
		j.log.Info("journal: "+kind, "msg", msg)
	default:
		j.log.Warn("journal: "+kind, "msg", msg)
	}
	if j.opts.OnAlarm != nil {
		j.opts.OnAlarm(a)
	}
}
