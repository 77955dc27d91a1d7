package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"hallgw/drivers/scanner"
	"hallgw/firmware/health"
	"hallgw/firmware/journal"
)

// Overdue is a batch not delivered by its deadline.
type Overdue struct {
	Case     string    `json:"case"`
	Batch    string    `json:"batch"`
	Window   string    `json:"window"`
	At       time.Time `json:"scanned_at"`
	Deadline time.Time `json:"deadline"`
	Files    int       `json:"files_pending"`
}

// AlarmRecord is the JSON of a KindAlarm journal record.
type AlarmRecord struct {
	V    int    `json:"v"`
	Type string `json:"type"` // archive_full or archive_overdue
	// archive_full
	UsedBytes int64  `json:"used_bytes,omitempty"`
	MaxBytes  int64  `json:"max_bytes,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// archive_overdue
	*Overdue
}

// Deadline returns when a batch scanned at at must be delivered.
func (a *Archive) Deadline(at time.Time) time.Time {
	if a.o.DeliverWithin > 0 {
		return at.Add(a.o.DeliverWithin)
	}
	return at.AddDate(0, 1, 0)
}

// CheckOverdue finds the batches past their deadline, journals an alarm
// for each one not yet reported (once per batch, remembered in the
// manifest) and returns them all, oldest first.
func (a *Archive) CheckOverdue(ctx context.Context) ([]Overdue, error) {
	now := a.o.Now()
	var all []Overdue
	type item struct {
		o Overdue
		m *Manifest
		b *Batch
	}
	var fresh []item
	a.mu.Lock()
	for _, m := range a.cases {
		for _, b := range m.Batches {
			pending := 0
			for _, f := range b.Files {
				if f.pending() {
					pending++
				}
			}
			dl := a.Deadline(b.At)
			if pending == 0 || now.Before(dl) {
				continue
			}
			o := Overdue{Case: m.Case, Batch: b.ID, Window: b.Window, At: b.At, Deadline: dl.UTC(), Files: pending}
			all = append(all, o)
			if !b.OverdueReported {
				fresh = append(fresh, item{o, m, b})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].At.Before(all[j].At) })
	a.overdue = all
	a.mu.Unlock()
	var errs []error
	for _, it := range fresh {
		a.log.Warn("case files not delivered by the deadline", "case", it.o.Case, "batch", it.o.Batch,
			"window", it.o.Window, "deadline", it.o.Deadline)
		if err := a.alarm(ctx, AlarmRecord{V: 1, Type: "archive_overdue", Overdue: &it.o}); err != nil {
			errs = append(errs, err)
			continue
		}
		a.mu.Lock()
		it.b.OverdueReported = true
		if a.cases[it.m.Case] == it.m {
			if err := writeManifest(filepath.Join(a.o.Root, it.m.Case), it.m); err != nil {
				errs = append(errs, err)
			}
		}
		a.mu.Unlock()
	}
	a.updateHealth()
	return all, errors.Join(errs...)
}

// alarmFull journals the archive_full alarm once per episode.
func (a *Archive) alarmFull(ctx context.Context) {
	a.mu.Lock()
	if a.fullAlarmed {
		a.mu.Unlock()
		a.updateHealth()
		return
	}
	a.fullAlarmed = true
	rec := AlarmRecord{V: 1, Type: "archive_full", UsedBytes: a.used, MaxBytes: a.o.MaxBytes, Reason: a.fullReason}
	a.mu.Unlock()
	a.log.Warn("archive full: scans refused until files are delivered", "used", rec.UsedBytes, "max", rec.MaxBytes, "reason", rec.Reason)
	if err := a.alarm(ctx, rec); err != nil {
		a.log.Error("journal archive alarm", "err", err)
	}
	a.updateHealth()
}

func (a *Archive) alarm(ctx context.Context, rec AlarmRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := a.o.Journal.Append(ctx, journal.Record{Kind: KindAlarm, At: a.o.Now().UTC(), Data: b}); err != nil {
		return fmt.Errorf("archive: journal alarm: %w", err)
	}
	return nil
}

// updateHealth sets the archive's health device: degraded while full or
// while batches are overdue.
func (a *Archive) updateHealth() {
	if a.o.Health == nil {
		return
	}
	a.mu.Lock()
	state, reason := health.Up, ""
	switch {
	case a.full:
		state, reason = health.Degraded, "storage full: scans refused ("+a.fullReason+")"
	case len(a.overdue) > 0:
		state, reason = health.Degraded, fmt.Sprintf("%d batch(es) not delivered by the deadline", len(a.overdue))
	}
	detail := map[string]any{"pending_bytes": a.used, "max_bytes": a.o.MaxBytes, "overdue": len(a.overdue), "cases": len(a.cases)}
	a.mu.Unlock()
	a.o.Health.Update(HealthID, "archive", func(d *health.Device) {
		d.State, d.Reason, d.Detail, d.LastSeen = state, reason, detail, a.o.Now()
	})
}

// Status is the "archive" section of the gateway status.
type Status struct {
	Cases        int               `json:"cases"`
	Files        int               `json:"files_pending"`
	Bytes        int64             `json:"bytes_pending"`
	MaxBytes     int64             `json:"max_bytes"`
	Full         bool              `json:"full"`
	Overdue      []Overdue         `json:"overdue"`
	Connected    bool              `json:"transport"`
	LastDelivery time.Time         `json:"last_delivery,omitzero"`
	LastError    string            `json:"last_error,omitempty"`
	Windows      map[string]string `json:"current_cases,omitempty"` // window → case
}

// Status returns the archive's figures.
func (a *Archive) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Status{Cases: len(a.cases), Bytes: a.used, MaxBytes: a.o.MaxBytes, Full: a.full,
		Overdue: append([]Overdue{}, a.overdue...), Connected: a.transport != nil, LastDelivery: a.lastOK, LastError: a.lastErr}
	for _, m := range a.cases {
		for _, b := range m.Batches {
			for _, f := range b.Files {
				if f.pending() {
					s.Files++
				}
			}
		}
	}
	if len(a.current) > 0 {
		s.Windows = map[string]string{}
		for w, c := range a.current {
			s.Windows[w] = c
		}
	}
	return s
}

// Notice returns the short text a window display shows for a scan's
// outcome (in Chinese, for the staff member at the window).
func Notice(r ScanResult, err error) string {
	switch {
	case err == nil:
		return fmt.Sprintf("已扫描%d页", r.Pages)
	case errors.Is(err, scanner.ErrJammed):
		return fmt.Sprintf("卡纸，已保存%d页", r.Pages)
	case errors.Is(err, ErrFull):
		return "存储已满，暂停扫描"
	case errors.Is(err, ErrBusy), errors.Is(err, scanner.ErrInUse):
		return "正在扫描，请稍候"
	case errors.Is(err, ErrNoScanner):
		return "本窗口未配扫描仪"
	case errors.Is(err, scanner.ErrNoDocs):
		return "请放入材料"
	case errors.Is(err, scanner.ErrCoverOpen):
		return "请合上扫描仪盖"
	case errors.Is(err, ErrBadCase):
		return "办件编号无效"
	}
	if r.Pages > 0 {
		return fmt.Sprintf("扫描中断，已保存%d页", r.Pages)
	}
	return "扫描失败，请重试"
}
