package idcardsim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"hallgw/drivers/idcard"
)

// ControlHelp describes the lines Control understands.
const ControlHelp = `place <name> <id-number> <birth YYYYMMDD> [sex] [address…]
remove
fail sam|checksum|midread|none`

// DefaultAddress is the address of a card placed without one.
const DefaultAddress = "湖南省长沙市岳麓区测试路1号"

// errControl marks a control line that could not be understood.
var errControl = errors.New("idcardsim: bad control line")

// Control runs one line of the text protocol `hallgw sim idcard` reads from
// its standard input and returns what to print: masked, never the clear
// name or number. Blank lines and lines starting with # do nothing.
//
// The sex, when given, is 1/男/m, 2/女/f, 0 (unknown) or 9 (unstated); by
// default it follows the ID number's 17th digit (odd for men), as GB 11643
// assigns it. The card gets nation 01, authority 测试市公安局 and validity
// 2020-01-01 to 2040-01-01.
func (s *Sim) Control(line string) (string, error) {
	f := strings.Fields(line)
	if len(f) == 0 || strings.HasPrefix(f[0], "#") {
		return "", nil
	}
	switch f[0] {
	case "place":
		c, err := ParsePlace(f[1:])
		if err != nil {
			return "", err
		}
		if err := s.Place(c); err != nil {
			return "", err
		}
		msg := "placed " + c.String()
		if err := idcard.ValidNumber(c.Number); err != nil {
			msg += " (invalid id number: the reader will reject it)"
		}
		return msg, nil
	case "remove":
		if len(f) != 1 {
			return "", fmt.Errorf("%w: remove takes no argument", errControl)
		}
		s.Remove()
		return "removed", nil
	case "fail":
		faults := map[string]Fault{"sam": FaultSAM, "checksum": FaultChecksum, "midread": FaultMidRead, "none": FaultNone}
		if len(f) != 2 {
			return "", fmt.Errorf("%w: want fail sam|checksum|midread|none", errControl)
		}
		ft, ok := faults[f[1]]
		if !ok {
			return "", fmt.Errorf("%w: unknown fault %q", errControl, f[1])
		}
		s.Fail(ft)
		return "fault " + f[1], nil
	case "help":
		return ControlHelp, nil
	}
	return "", fmt.Errorf("%w: unknown command %q (try help)", errControl, f[0])
}

// ParsePlace builds a card from the arguments of a place line: name,
// number, birth date (YYYYMMDD), then an optional sex and the address.
func ParsePlace(args []string) (*idcard.Card, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("%w: want place <name> <id-number> <birth YYYYMMDD> [sex] [address…]", errControl)
	}
	birth, err := time.Parse("20060102", args[2])
	if err != nil {
		return nil, fmt.Errorf("%w: birth date: want YYYYMMDD", errControl)
	}
	c := &idcard.Card{
		Name: args[0], Number: strings.ToUpper(args[1]), Birth: birth, Nation: "01",
		Address: DefaultAddress, Authority: "测试市公安局",
		ValidFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidTo:   time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if len(c.Number) >= 17 && c.Number[16] >= '0' && c.Number[16] <= '9' {
		c.Sex = idcard.SexFemale - idcard.Sex((c.Number[16]-'0')%2)
	}
	rest := args[3:]
	if len(rest) > 0 {
		if sex, ok := parseSex(rest[0]); ok {
			c.Sex, rest = sex, rest[1:]
		}
	}
	if len(rest) > 0 {
		c.Address = strings.Join(rest, " ")
	}
	return c, nil
}

func parseSex(s string) (idcard.Sex, bool) {
	switch strings.ToLower(s) {
	case "1", "男", "m", "male":
		return idcard.SexMale, true
	case "2", "女", "f", "female":
		return idcard.SexFemale, true
	case "0":
		return idcard.SexUnknown, true
	case "9":
		return idcard.SexUnstated, true
	}
	return 0, false
}
