package status

import (
	"hallgw/firmware/gateway"
	"hallgw/firmware/journal"
	"hallgw/hall"
)

// RecentEvents returns up to n of the latest hall events in j, newest
// first, reading back in pages from the committed end; at most
// 50 pages are read (other kinds of records may be interleaved).
func RecentEvents(j *journal.Journal, gwID string, n int) ([]gateway.EventDoc, error) {
	const page = 256
	var out []gateway.EventDoc
	end := j.Committed()
	first := max(j.First(), 1)
	for pages := 0; len(out) < n && end >= first && end > 0 && pages < 50; pages++ {
		from := first
		if end >= page && end-page+1 > first {
			from = end - page + 1
		}
		recs, err := j.Read(from, int(end-from+1))
		if err != nil {
			return nil, err
		}
		for i := len(recs) - 1; i >= 0 && len(out) < n; i-- {
			r := recs[i]
			if r.Seq > end || r.Kind != gateway.KindHall {
				continue
			}
			var e hall.Event
			if e.UnmarshalBinary(r.Data) != nil {
				continue
			}
			out = append(out, gateway.Committed{Seq: r.Seq, ID: journal.EventID(gwID, r.Seq), Event: e}.Doc())
		}
		if from == first {
			break
		}
		end = from - 1
	}
	return out, nil
}

// eventLabels name the event types for hall managers.
var eventLabels = map[string]string{
	"config_applied": "配置更新", "day_reset": "日切", "ticket_issued": "取号", "ticket_called": "叫号",
	"ticket_recalled": "重呼", "service_started": "开始办理", "ticket_skipped": "过号",
	"ticket_reactivated": "过号恢复", "ticket_transferred": "转移", "ticket_held": "挂起",
	"ticket_resumed": "恢复办理", "ticket_finished": "办结", "ticket_returned": "转回",
	"ticket_expired": "作废", "priority_changed": "优先", "window_opened": "开窗",
	"window_closed": "关窗", "window_paused": "暂停", "window_unpaused": "恢复服务",
	"turn_near": "即将到号", "appointments_loaded": "预约载入", "notice": "通知",
}

// EventLabel returns the Chinese name of an event type, or the type itself
// for one it does not know.
func EventLabel(typ string) string {
	if l, ok := eventLabels[typ]; ok {
		return l
	}
	return typ
}
