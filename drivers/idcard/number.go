package idcard

import (
	"errors"
	"fmt"
)

// ErrCheckDigit is matched by the error for an ID number whose last
// character is not its ISO 7064 MOD 11-2 check digit (GB 11643).
var ErrCheckDigit = errors.New("idcard: id number check digit mismatch")

var numberWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// CheckDigit returns the GB 11643 check character ('0'–'9' or 'X') for the
// first 17 characters of an ID number, which must be ASCII digits.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("idcard: check digit needs 17 digits, got %d characters", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("idcard: id number character %d is not a digit", i+1)
		}
		sum += int(c-'0') * numberWeights[i]
	}
	return "10X98765432"[sum%11], nil
}

// ValidNumber checks an 18-character ID number: 17 digits and a check
// character that matches them ('X' upper case). The error matches
// ErrCheckDigit when only the check character is wrong; it never quotes the
// number.
func ValidNumber(n string) error {
	if len(n) != 18 {
		return fmt.Errorf("idcard: id number of %d bytes, want 18", len(n))
	}
	want, err := CheckDigit(n[:17])
	if err != nil {
		return err
	}
	if n[17] != want {
		if c := n[17]; (c < '0' || c > '9') && c != 'X' {
			return fmt.Errorf("idcard: id number check character is not a digit or X")
		}
		return ErrCheckDigit
	}
	return nil
}
