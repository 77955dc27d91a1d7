package halltest

import (
	"fmt"
	"time"

	"hallgw/hall"
)

// LongJournal returns at least n events that replay like months of
// business: three simulated days, then the second day repeated with times,
// ticket IDs, day numbers and appointment IDs shifted. Simulating a million
// events would take minutes; repeating a day takes a moment, so replay and
// restart benchmarks use this.
func LongJournal(n int) ([]hall.Event, error) {
	evs, err := Journal(3, 11)
	if err != nil {
		return nil, err
	}
	resets := map[int]int{}
	var maxID [4]hall.TicketID
	day := 0
	for i, e := range evs {
		if e.Type == hall.EvDayReset {
			day = e.Count
			resets[day] = i
		}
		if e.Type == hall.EvTicketIssued && day < len(maxID) {
			maxID[day] = e.Ticket
		}
	}
	prefix, tmpl := evs[:resets[2]], evs[resets[2]:resets[3]]
	span := maxID[2] - maxID[1]
	for _, e := range tmpl {
		if e.Ticket != 0 && e.Ticket <= maxID[1] {
			return nil, fmt.Errorf("halltest: day 2 refers to ticket %d of day 1; cannot repeat it", e.Ticket)
		}
	}
	out := make([]hall.Event, 0, n+len(tmpl))
	out = append(out, prefix...)
	for k := 0; len(out) < n; k++ {
		shift := time.Duration(k) * 24 * time.Hour
		suffix := fmt.Sprintf("+%d", k)
		for _, e := range tmpl {
			e.At = e.At.Add(shift)
			if e.Ticket != 0 {
				e.Ticket += hall.TicketID(k) * span
			}
			if e.Type == hall.EvDayReset {
				e.Count += k
			}
			if e.Appointment != "" {
				e.Appointment += suffix
			}
			if len(e.Appointments) > 0 {
				list := make([]hall.Appointment, len(e.Appointments))
				for i, a := range e.Appointments {
					a.ID += suffix
					a.Start, a.End = a.Start.Add(shift), a.End.Add(shift)
					list[i] = a
				}
				e.Appointments = list
			}
			out = append(out, e)
		}
	}
	return out, nil
}
