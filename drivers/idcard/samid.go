package idcard

import (
	"encoding/binary"
	"fmt"
)

// SAMID is the 16-byte identity of a reader's security module: two uint16
// and three uint32, little-endian.
type SAMID [16]byte

// String formats the identity as the vendor tools show it,
// %02d.%02d-%08d-%010d-%010d, e.g. 05.01-20101216-0012345678-0987654321.
func (id SAMID) String() string {
	le := binary.LittleEndian
	return fmt.Sprintf("%02d.%02d-%08d-%010d-%010d",
		le.Uint16(id[0:]), le.Uint16(id[2:]), le.Uint32(id[4:]), le.Uint32(id[8:]), le.Uint32(id[12:]))
}
