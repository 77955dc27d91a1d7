package uplink

import (
	"errors"
	"fmt"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// ErrSubscribeRefused is returned when the broker answered a SUBSCRIBE but
// refused a filter in it.
var ErrSubscribeRefused = errors.New("uplink: subscription refused")

// SubscribeResult checks what the broker granted once a subscribe token is
// done. paho reports a refused filter (return code 0x80 or more; an
// embedded mochi broker answers 0x91, "packet identifier in use", when the
// SUBSCRIBE's id matches one of its own publishes in flight) only in the
// token's result, not as its error: without this check the subscription
// silently does nothing.
func SubscribeResult(tok mqtt.Token) error {
	if err := tok.Error(); err != nil {
		return err
	}
	st, ok := tok.(*mqtt.SubscribeToken)
	if !ok {
		return nil
	}
	for filter, code := range st.Result() {
		if code >= 0x80 {
			return fmt.Errorf("%w: %s: return code %#x", ErrSubscribeRefused, filter, code)
		}
	}
	return nil
}
