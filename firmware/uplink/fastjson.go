package uplink

import (
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hallgw/firmware/gateway"
)

// The drain spends most of its own time encoding events, so hall events
// are written by appendHallEvent, which produces exactly what json.Marshal
// would (a test compares the two on random events) at a fraction of the
// cost. It is used only while gateway.EventDoc has the fields it knows;
// should the struct change, json.Marshal takes over.

// eventDocShape lists EventDoc's fields as name:tag.
func eventDocShape() string {
	t := reflect.TypeOf(gateway.EventDoc{})
	var b strings.Builder
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		b.WriteString(f.Name + ":" + f.Type.String() + ":" + f.Tag.Get("json") + ";")
	}
	return b.String()
}

const knownEventDocShape = "ID:string:id;Seq:uint64:seq;Type:string:type;At:time.Time:at;" +
	"Ticket:uint64:ticket,omitempty;Number:string:number,omitempty;Service:string:service,omitempty;" +
	"Window:string:window,omitempty;ToService:string:to_service,omitempty;ToWindow:string:to_window,omitempty;" +
	"Staff:string:staff,omitempty;Reason:string:reason,omitempty;Appointment:string:appointment,omitempty;" +
	"Source:string:source,omitempty;Priority:string:priority,omitempty;Return:bool:return,omitempty;" +
	"Count:int:count,omitempty;Ahead:*int:ahead,omitempty;Estimate:*gateway.EstimateDoc:estimate,omitempty;" +
	"Appts:int:appointments,omitempty;Case:string:case,omitempty;Rating:uint64:rating,omitempty;" +
	"Grade:int:grade,omitempty;Reasons:[]string:reasons,omitempty;Due:*time.Time:due,omitempty;"

var fastEvents = eventDocShape() == knownEventDocShape

// appendHallEvent appends the JSON of an Event without Data, as
// json.Marshal writes it. ok is false when the fast path does not apply.
func appendHallEvent(b []byte, e *Event) ([]byte, bool) {
	if !fastEvents || len(e.Data) != 0 || !timeOK(e.At) {
		return b, false
	}
	d := &e.EventDoc
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(e.V), 10)
	b = appendStrField(b, `,"kind":`, e.Kind)
	b = appendStrField(b, `,"id":`, d.ID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, d.Seq, 10)
	b = appendStrField(b, `,"type":`, d.Type)
	b = append(b, `,"at":"`...)
	b = d.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if d.Ticket != 0 {
		b = append(b, `,"ticket":`...)
		b = strconv.AppendUint(b, d.Ticket, 10)
	}
	b = appendOptStr(b, `,"number":`, d.Number)
	b = appendOptStr(b, `,"service":`, d.Service)
	b = appendOptStr(b, `,"window":`, d.Window)
	b = appendOptStr(b, `,"to_service":`, d.ToService)
	b = appendOptStr(b, `,"to_window":`, d.ToWindow)
	b = appendOptStr(b, `,"staff":`, d.Staff)
	b = appendOptStr(b, `,"reason":`, d.Reason)
	b = appendOptStr(b, `,"appointment":`, d.Appointment)
	b = appendOptStr(b, `,"source":`, d.Source)
	b = appendOptStr(b, `,"priority":`, d.Priority)
	if d.Return {
		b = append(b, `,"return":true`...)
	}
	if d.Count != 0 {
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(d.Count), 10)
	}
	if d.Ahead != nil {
		b = append(b, `,"ahead":`...)
		b = strconv.AppendInt(b, int64(*d.Ahead), 10)
	}
	if es := d.Estimate; es != nil {
		b = append(b, `,"estimate":{"known":`...)
		b = strconv.AppendBool(b, es.Known)
		b = append(b, `,"point_s":`...)
		b = strconv.AppendInt(b, es.Point, 10)
		b = append(b, `,"lo_s":`...)
		b = strconv.AppendInt(b, es.Lo, 10)
		b = append(b, `,"hi_s":`...)
		b = strconv.AppendInt(b, es.Hi, 10)
		b = append(b, '}')
	}
	if d.Appts != 0 {
		b = append(b, `,"appointments":`...)
		b = strconv.AppendInt(b, int64(d.Appts), 10)
	}
	b = appendOptStr(b, `,"case":`, d.Case)
	if d.Rating != 0 {
		b = append(b, `,"rating":`...)
		b = strconv.AppendUint(b, d.Rating, 10)
	}
	if d.Grade != 0 {
		b = append(b, `,"grade":`...)
		b = strconv.AppendInt(b, int64(d.Grade), 10)
	}
	if len(d.Reasons) > 0 {
		b = append(b, `,"reasons":[`...)
		for i, r := range d.Reasons {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, r)
		}
		b = append(b, ']')
	}
	if d.Due != nil {
		if !timeOK(*d.Due) {
			return b, false
		}
		b = append(b, `,"due":"`...)
		b = d.Due.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	if e.Historical {
		b = append(b, `,"historical":true`...)
	}
	return append(b, '}'), true
}

// timeOK reports times json.Marshal accepts (years 0–9999).
func timeOK(t time.Time) bool {
	y := t.Year()
	return y >= 0 && y <= 9999
}

func appendStrField(b []byte, key, v string) []byte {
	b = append(b, key...)
	return appendJSONString(b, v)
}

func appendOptStr(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendStrField(b, key, v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does: HTML-safe
// (<, >, & escaped), U+2028 and U+2029 escaped, invalid UTF-8 replaced.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
