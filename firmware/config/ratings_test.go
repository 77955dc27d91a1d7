package config

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"hallgw/hall"
)

func TestRatingsHallRules(t *testing.T) {
	cases := []struct {
		name string
		r    Ratings
		want hall.RatingRules
	}{
		{"defaults", Ratings{}, hall.RatingRules{Timeout: 3 * time.Minute, Reasons: hall.DefaultRatingRules().Reasons}},
		{"disabled", Ratings{Disabled: true, Timeout: Duration(time.Minute)}, hall.RatingRules{}},
		{"own timeout and reasons", Ratings{Timeout: Duration(90 * time.Second),
			Reasons: []RatingReason{{"rude", "态度差"}, {"slow", "太慢"}}},
			hall.RatingRules{Timeout: 90 * time.Second, Reasons: []hall.Reason{{Code: "rude", Label: "态度差"}, {Code: "slow", Label: "太慢"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.r.HallRules(); !reflect.DeepEqual(got, c.want) {
				t.Errorf("HallRules() = %+v, want %+v", got, c.want)
			}
		})
	}
	if got := (Ratings{}).ThanksFor(); got != DefaultRatingThanks {
		t.Errorf("ThanksFor() = %v, want %v", got, DefaultRatingThanks)
	}
	if got := (Ratings{Thanks: Duration(9 * time.Second)}).ThanksFor(); got != 9*time.Second {
		t.Errorf("ThanksFor() = %v, want 9s", got)
	}
}

func TestRatingsValidate(t *testing.T) {
	cases := []struct {
		name string
		r    Ratings
		path string // "" = valid
	}{
		{"defaults", Ratings{}, ""},
		{"disabled", Ratings{Disabled: true}, ""},
		{"timeout too short", Ratings{Timeout: Duration(2 * time.Second)}, "ratings.timeout"},
		{"negative timeout", Ratings{Timeout: Duration(-time.Minute)}, "ratings.timeout"},
		{"duplicate reason", Ratings{Reasons: []RatingReason{{"a", "x"}, {"a", "y"}}}, "ratings.reasons[1].code"},
		{"reason without label", Ratings{Reasons: []RatingReason{{"a", ""}}}, "ratings.reasons[0].label"},
		{"thanks too long", Ratings{Thanks: Duration(2 * time.Minute)}, "ratings.thanks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.r.Validate()
			if c.path == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != c.path {
				t.Errorf("Validate() = %v, want an error at %s", err, c.path)
			}
		})
	}
}

func TestValidateStaff(t *testing.T) {
	ok := Staff{ID: "s-007", Name: "李明", Number: "0731007", Photo: "staff/s-007.jpg"}
	cases := []struct {
		name  string
		staff []Staff
		path  string // "" = valid
	}{
		{"none", nil, ""},
		{"one", []Staff{ok}, ""},
		{"without photo", []Staff{{ID: "s1", Name: "王芳", Number: "1"}}, ""},
		{"no id", []Staff{{Name: "王芳", Number: "1"}}, "staff[0].id"},
		{"id with a space", []Staff{{ID: "s 1", Name: "王芳", Number: "1"}}, "staff[0].id"},
		{"duplicate id", []Staff{ok, ok}, "staff[1].id"},
		{"no name", []Staff{{ID: "s1", Number: "1"}}, "staff[0].name"},
		{"control character in the name", []Staff{{ID: "s1", Name: "王\x07芳", Number: "1"}}, "staff[0].name"},
		{"no number", []Staff{{ID: "s1", Name: "王芳"}}, "staff[0].number"},
		{"photo of an unknown type", []Staff{{ID: "s1", Name: "王芳", Number: "1", Photo: "a.gif"}}, "staff[0].photo"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateStaff(c.staff)
			if c.path == "" {
				if err != nil {
					t.Errorf("ValidateStaff() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != c.path {
				t.Errorf("ValidateStaff() = %v, want an error at %s", err, c.path)
			}
		})
	}
	if s, found := FindStaff([]Staff{ok}, "s-007"); !found || s != ok {
		t.Errorf("FindStaff(s-007) = %+v, %v, want %+v", s, found, ok)
	}
	if _, found := FindStaff([]Staff{ok}, "s-008"); found {
		t.Error("FindStaff(s-008) found someone")
	}
}
