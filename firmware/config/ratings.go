package config

import (
	"time"

	"hallgw/hall"
)

// Ratings configures the 好差评 ratings (docs/ratings.md): how long a
// rating request waits, the 差评 reasons the pads offer and how the tablet
// pad behaves.
type Ratings struct {
	// Disabled turns ratings off: no request is made after a service.
	Disabled bool `yaml:"disabled"`
	// Timeout is how long a request waits for the citizen before it is
	// counted as not rated (default 3m; 10s–24h).
	Timeout Duration `yaml:"timeout"`
	// Reasons are the 差评 reasons in the order the pads show them; a key
	// pad names one by its position, 1 first. Default: the list of
	// hall.DefaultRatingRules.
	Reasons []RatingReason `yaml:"reasons"`
	// Thanks is how long the tablet pad shows its thanks before it returns
	// to the staff card (default 5s; 1s–1m).
	Thanks Duration `yaml:"thanks"`
}

// RatingReason is one 差评 reason: a stable code, journaled with each
// rating, and the label the citizen sees.
type RatingReason struct {
	Code  string `yaml:"code"`
	Label string `yaml:"label"`
}

// Defaults of the ratings section.
const (
	DefaultRatingTimeout = 3 * time.Minute
	DefaultRatingThanks  = 5 * time.Second
)

// HallRules returns the rating rules the hall takes, with the defaults
// filled in; the zero rules when ratings are disabled. The hall validates
// them (Config.Validate reports their errors under ratings.*).
func (r Ratings) HallRules() hall.RatingRules {
	if r.Disabled {
		return hall.RatingRules{}
	}
	out := hall.RatingRules{Timeout: r.Timeout.D()}
	if out.Timeout == 0 {
		out.Timeout = DefaultRatingTimeout
	}
	if len(r.Reasons) == 0 {
		out.Reasons = hall.DefaultRatingRules().Reasons
		return out
	}
	for _, x := range r.Reasons {
		out.Reasons = append(out.Reasons, hall.Reason{Code: x.Code, Label: x.Label})
	}
	return out
}

// ThanksFor returns how long the tablet pad thanks the citizen.
func (r Ratings) ThanksFor() time.Duration {
	if r.Thanks == 0 {
		return DefaultRatingThanks
	}
	return r.Thanks.D()
}

// Validate checks the section on its own: the pad settings here, the rules
// through the hall (the same checks Config.Validate makes once the section
// is part of the hall's configuration).
func (r Ratings) Validate() error {
	v := &validator{}
	r.validate(v)
	if err := (hall.Config{Rules: hall.DefaultRules(), Ratings: r.HallRules()}).Validate(); err != nil {
		v.errs = append(v.errs, hallFieldError(err))
	}
	if len(v.errs) == 0 {
		return nil
	}
	return Errors(v.errs)
}

// validate checks what the hall does not: negative durations (which the
// defaults would otherwise hide) and the pad's thanks time.
func (r *Ratings) validate(v *validator) {
	if r.Timeout < 0 {
		v.errf("ratings.timeout", "%s: must not be negative", r.Timeout)
	}
	if t := r.Thanks.D(); t != 0 && (t < time.Second || t > time.Minute) {
		v.errf("ratings.thanks", "%s: want 1s…1m", r.Thanks)
	}
}
