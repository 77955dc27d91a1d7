package hall_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"hallgw/hall"
	"hallgw/hall/halltest"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(c *hall.Config)
		field string // "" = valid
	}{
		{"sample is valid", func(c *hall.Config) {}, ""},
		{"nil location is UTC", func(c *hall.Config) { c.Location = nil }, ""},
		{"no windows", func(c *hall.Config) { c.Windows = nil }, ""},
		{"window without services", func(c *hall.Config) { c.Windows[7].Services = nil }, ""},
		{"local zone", func(c *hall.Config) { c.Location = time.Local }, "location"},
		{"fixed zone", func(c *hall.Config) { c.Location = time.FixedZone("XYZ", 8*3600) }, "location"},
		{"empty service ID", func(c *hall.Config) { c.Services[1].ID = "" }, "services[1].id"},
		{"duplicate service", func(c *hall.Config) { c.Services[2].ID = "social" }, "services[2].id"},
		{"empty name", func(c *hall.Config) { c.Services[0].Name = "" }, "services[0].name"},
		{"lower-case prefix", func(c *hall.Config) { c.Services[0].Prefix = "a" }, "services[0].prefix"},
		{"long prefix", func(c *hall.Config) { c.Services[0].Prefix = "ABCD" }, "services[0].prefix"},
		{"empty prefix", func(c *hall.Config) { c.Services[3].Prefix = "" }, "services[3].prefix"},
		{"duplicate prefix", func(c *hall.Config) { c.Services[3].Prefix = "A" }, "services[3].prefix"},
		{"three-letter prefix", func(c *hall.Config) { c.Services[3].Prefix = "TAX" }, ""},
		{"negative cap", func(c *hall.Config) { c.Services[0].DailyCap = -1 }, "services[0].daily_cap"},
		{"zero service time", func(c *hall.Config) { c.Services[4].ServiceTime = 0 }, "services[4].service_time"},
		{"empty window ID", func(c *hall.Config) { c.Windows[0].ID = "" }, "windows[0].id"},
		{"duplicate window", func(c *hall.Config) { c.Windows[5].ID = "w1" }, "windows[5].id"},
		{"window number zero", func(c *hall.Config) { c.Windows[2].Number = 0 }, "windows[2].number"},
		{"duplicate window number", func(c *hall.Config) { c.Windows[2].Number = 1 }, "windows[2].number"},
		{"unknown kind", func(c *hall.Config) { c.Windows[4].Kind = "vip" }, "windows[4].kind"},
		{"unknown service in window", func(c *hall.Config) { c.Windows[3].Services[1] = "nope" }, "windows[3].services[1]"},
		{"service twice in window", func(c *hall.Config) { c.Windows[0].Services[1] = "social" }, "windows[0].services[1]"},
		{"reset at 24h", func(c *hall.Config) { c.Rules.ResetAt = 24 * time.Hour }, "rules.reset_at"},
		{"number width 0", func(c *hall.Config) { c.Rules.NumberWidth = 0 }, "rules.number_width"},
		{"number width 7", func(c *hall.Config) { c.Rules.NumberWidth = 7 }, "rules.number_width"},
		{"priority ratio 0", func(c *hall.Config) { c.Rules.PriorityRatio = 0 }, "rules.priority_ratio"},
		{"elderly age negative", func(c *hall.Config) { c.Rules.ElderlyAge = -1 }, "rules.elderly_age"},
		{"elderly age off", func(c *hall.Config) { c.Rules.ElderlyAge = 0 }, ""},
		{"recall max negative", func(c *hall.Config) { c.Rules.RecallMax = -1 }, "rules.recall_max"},
		{"recall gap negative", func(c *hall.Config) { c.Rules.RecallMinGap = -time.Second }, "rules.recall_min_gap"},
		{"turn near negative", func(c *hall.Config) { c.Rules.TurnNearAhead = -1 }, "rules.turn_near_ahead"},
		{"early negative", func(c *hall.Config) { c.Rules.AppointmentEarly = -time.Minute }, "rules.appointment_early"},
		{"late negative", func(c *hall.Config) { c.Rules.AppointmentLate = -time.Minute }, "rules.appointment_late"},
		{"reactivate negative", func(c *hall.Config) { c.Rules.ReactivateWithin = -time.Minute }, "rules.reactivate_within"},
		{"ewma weight 0", func(c *hall.Config) { c.Rules.EWMAWeight = 0 }, "rules.ewma_weight"},
		{"ewma weight 101", func(c *hall.Config) { c.Rules.EWMAWeight = 101 }, "rules.ewma_weight"},
		{"zero rules", func(c *hall.Config) { c.Rules = hall.Rules{} }, "rules.number_width"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := halltest.Config()
			c.mod(&cfg)
			err := cfg.Validate()
			var ce *hall.ConfigError
			switch {
			case c.field == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case c.field != "" && !errors.As(err, &ce):
				t.Errorf("Validate() = %v, want *ConfigError at %s", err, c.field)
			case c.field != "" && ce.Field != c.field:
				t.Errorf("Validate() field = %q (%v), want %q", ce.Field, err, c.field)
			}
		})
	}
}

func TestDefaultRulesValid(t *testing.T) {
	cfg := hall.Config{Rules: hall.DefaultRules()}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Config{Rules: DefaultRules()}.Validate() = %v, want nil", err)
	}
}

func TestConfigMarshalRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		cfg  hall.Config
	}{
		{"sample", halltest.Config()},
		{"utc", func() hall.Config { c := halltest.Config(); c.Location = time.UTC; return c }()},
		{"rules only", hall.Config{Rules: hall.DefaultRules()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.cfg.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary() error = %v", err)
			}
			var got hall.Config
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary() error = %v", err)
			}
			b2, _ := got.MarshalBinary()
			if string(b) != string(b2) {
				t.Errorf("MarshalBinary(UnmarshalBinary(b)) = %x, want %x", b2, b)
			}
			want := c.cfg
			if want.Location == time.UTC {
				want.Location = nil
			}
			if got.Location.String() != want.Location.String() {
				t.Errorf("location = %v, want %v", got.Location, want.Location)
			}
			got.Location, want.Location = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("UnmarshalBinary(MarshalBinary(c)) = %+v, want %+v", got, want)
			}
		})
	}
}

func TestConfigUnmarshalGarbage(t *testing.T) {
	good, err := halltest.Config().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"version 2", append([]byte{2}, good[1:]...)},
		{"truncated", good[:len(good)/2]},
		{"unknown zone", append([]byte{1, 8}, "Mars/Olympus"...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg hall.Config
			if err := cfg.UnmarshalBinary(c.data); err == nil {
				t.Errorf("UnmarshalBinary(%x) = nil, want an error", c.data)
			}
		})
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		name string
		cfg  hall.Config
		err  error
	}{
		{"empty hall for replay", hall.Config{}, nil},
		{"sample", halltest.Config(), nil},
		{"invalid", func() hall.Config { c := halltest.Config(); c.Rules.PriorityRatio = 0; return c }(), hall.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := hall.New(c.cfg)
			if !errors.Is(err, c.err) {
				t.Fatalf("New() error = %v, want %v", err, c.err)
			}
			if err != nil {
				var ce *hall.ConfigError
				if !errors.As(err, &ce) || ce.Field != "rules.priority_ratio" {
					t.Errorf("New() error = %v, want a *ConfigError at rules.priority_ratio", err)
				}
				return
			}
			if d, _ := h.Day(); d != 0 {
				t.Errorf("Day() = %d, want 0", d)
			}
			if err := h.Check(); err != nil {
				t.Errorf("Check() = %v", err)
			}
			if got := len(h.Windows()); got != len(c.cfg.Windows) {
				t.Errorf("len(Windows()) = %d, want %d", got, len(c.cfg.Windows))
			}
		})
	}
}

func TestWindowKindLabels(t *testing.T) {
	want := map[hall.WindowKind]string{
		hall.KindIntake: "综合受理", hall.KindDelivery: "综合出件", hall.KindDomain: "分领域综合",
		hall.KindAssisted: "帮（代）办", hall.KindCrossRegion: "跨域通办", hall.KindUnresolved: "“办不成事”反映",
		hall.KindComplaint: "投诉受理", hall.KindDisclosure: "政务公开", "vip": "",
	}
	for k, w := range want {
		t.Run(string(k), func(t *testing.T) {
			if got := k.Label(); got != w {
				t.Errorf("%q.Label() = %q, want %q", k, got, w)
			}
			if got := k.Valid(); got != (w != "") {
				t.Errorf("%q.Valid() = %v, want %v", k, got, w != "")
			}
		})
	}
	if got := len(hall.WindowKinds()); got != 8 {
		t.Errorf("len(WindowKinds()) = %d, want 8", got)
	}
}

func TestStrings(t *testing.T) {
	cases := []struct {
		got, want string
	}{
		{hall.Normal.String(), "normal"},
		{hall.Green.String(), "green"},
		{hall.PriorityAppointment.String(), "appointment"},
		{hall.Priority(9).String(), "priority(9)"},
		{hall.Waiting.String(), "waiting"},
		{hall.NoShow.String(), "no_show"},
		{hall.Expired.String(), "expired"},
		{hall.Paused.String(), "paused"},
		{hall.OpIssue.String(), "issue"},
		{hall.OpTick.String(), "tick"},
		{hall.Op(0).String(), "op(0)"},
		{hall.EvConfigApplied.String(), "config_applied"},
		{hall.EvTicketIssued.String(), "ticket_issued"},
		{hall.EvAppointmentsLoaded.String(), "appointments_loaded"},
		{hall.EventType(200).String(), "event_type(200)"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("String() = %q, want %q", c.got, c.want)
			}
		})
	}
}

// TestEventTypeValuesStable pins the numeric values stored in journals.
func TestEventTypeValuesStable(t *testing.T) {
	want := []hall.EventType{hall.EvConfigApplied, hall.EvDayReset, hall.EvTicketIssued, hall.EvTicketCalled,
		hall.EvTicketRecalled, hall.EvServiceStarted, hall.EvTicketSkipped, hall.EvTicketReactivated,
		hall.EvTicketTransferred, hall.EvTicketHeld, hall.EvTicketResumed, hall.EvTicketFinished,
		hall.EvTicketReturned, hall.EvTicketExpired, hall.EvPriorityChanged, hall.EvWindowOpened,
		hall.EvWindowClosed, hall.EvWindowPaused, hall.EvWindowUnpaused, hall.EvTurnNear, hall.EvAppointmentsLoaded}
	for i, e := range want {
		if int(e) != i+1 {
			t.Errorf("%v = %d, want %d", e, e, i+1)
		}
	}
}
