package config

import (
	"strings"
	"testing"
	"time"
)

func TestWebValidate(t *testing.T) {
	tests := []struct {
		name string
		web  Web
		want string // "" = valid; else a substring of the only error
	}{
		{"zero is valid", Web{}, ""},
		{"defaults are valid", Web{}.WithDefaults(), ""},
		{"off", Web{StatusListen: "off"}, ""},
		{"full", Web{StatusListen: "0.0.0.0:9100", StatusUser: "ops", StatusPassword: "correct horse", KioskReturn: Duration(20 * time.Second), DisplayCalls: 8}, ""},
		{"bad address", Web{StatusListen: "8081"}, "web.status_listen: \"8081\": want host:port"},
		{"colon in user", Web{StatusUser: "a:b"}, "web.status_user"},
		{"short password", Web{StatusPassword: "1234567"}, "web.status_password: at least 8 characters"},
		{"password of 8 hanzi", Web{StatusPassword: "政务服务中心密码"}, ""},
		{"kiosk return too short", Web{KioskReturn: Duration(time.Second)}, "web.kiosk_return: 1s: want 3s…10m"},
		{"kiosk return too long", Web{KioskReturn: Duration(time.Hour)}, "web.kiosk_return"},
		{"too many calls", Web{DisplayCalls: 21}, "web.display_calls: 21: want 1…20"},
		{"negative calls", Web{DisplayCalls: -1}, "web.display_calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &validator{}
			w := tt.web
			w.validate(v)
			switch {
			case tt.want == "" && len(v.errs) > 0:
				t.Errorf("validate(%+v) = %v, want no error", tt.web, v.errs[0])
			case tt.want != "" && len(v.errs) != 1:
				t.Errorf("validate(%+v) = %d errors %v, want one containing %q", tt.web, len(v.errs), v.errs, tt.want)
			case tt.want != "" && !strings.Contains(v.errs[0].Error(), tt.want):
				t.Errorf("validate(%+v) = %q, want it to contain %q", tt.web, v.errs[0].Error(), tt.want)
			}
		})
	}
}

func TestWebWithDefaults(t *testing.T) {
	got := Web{}.WithDefaults()
	want := Web{StatusListen: "127.0.0.1:8081", StatusUser: "admin", KioskReturn: Duration(15 * time.Second), DisplayCalls: 6}
	if got != want {
		t.Errorf("Web{}.WithDefaults() = %+v, want %+v", got, want)
	}
	set := Web{StatusListen: "off", StatusUser: "ops", StatusPassword: "s3cret-pass", KioskReturn: Duration(time.Minute), DisplayCalls: 3}
	if got := set.WithDefaults(); got != set {
		t.Errorf("WithDefaults of a full section = %+v, want it unchanged %+v", got, set)
	}
	if set.StatusEnabled() || !want.StatusEnabled() {
		t.Errorf("StatusEnabled: off = %v, default = %v; want false, true", set.StatusEnabled(), want.StatusEnabled())
	}
	if s := set.StatusPassword.String(); strings.Contains(s, "s3cret") {
		t.Errorf("password prints as %q", s)
	}
}
