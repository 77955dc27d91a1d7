package escpossim

// Command framing: how many bytes each ESC/POS command takes, so that the
// parser can skip what it does not act on without losing its place.

const (
	nul = 0x00
	ht  = 0x09
	lf  = 0x0A
	ff  = 0x0C
	cr  = 0x0D
	dle = 0x10
	can = 0x18
	esc = 0x1B
	fs  = 0x1C
	gs  = 0x1D
)

// maxBuffered is the largest command kept whole in memory (a QR store of
// 65535 bytes plus its header); bigger data (images) is skipped, not kept.
const maxBuffered = 5 + 0xFFFF

// maxScanned bounds commands whose end is a NUL (ESC D tab stops, GS k
// function A barcodes); without a NUL by then the command is malformed.
const maxScanned = 3 + 255

// frame describes the command at the start of cmd.
type frame struct {
	total   int64 // whole length in bytes; 0 while more bytes are needed to tell
	keep    bool  // the data is acted on, so buffer it whole
	unknown bool  // not a command this emulator knows: total covers prefix and function byte
	bad     bool  // malformed: skip total bytes and count it
}

var (
	escFixed = map[byte]int64{
		'@': 2, '2': 2, 'i': 2, 'm': 2, '<': 2, 'L': 2, 'S': 2, 'F': 2, // F: page mode FF on some clones
		'!': 3, ' ': 3, '-': 3, '3': 3, 'E': 3, 'G': 3, 'J': 3, 'M': 3, 'R': 3, 'U': 3,
		'V': 3, 'a': 3, 'd': 3, 'e': 3, 't': 3, '{': 3, 'r': 3, '=': 3, 'T': 3, '%': 3, '?': 3,
		'$': 4, '\\': 4, 'c': 4,
		'p': 5,
		'W': 10,
	}
	fsFixed = map[byte]int64{
		'&': 2, '.': 2,
		'!': 3, '-': 3, 'W': 3, 'C': 3,
		'S': 4, 'p': 4,
		'2': 75, // define a user Chinese character: c1 c2 and 72 bytes
	}
	gsFixed = map[byte]int64{
		':': 2,
		'!': 3, 'B': 3, 'H': 3, 'a': 3, 'b': 3, 'f': 3, 'h': 3, 'r': 3, 'w': 3, 'I': 3, '/': 3, 'E': 3,
		'L': 4, 'P': 4, 'W': 4, '$': 4, '\\': 4,
		'^': 5,
	}
)

// frameOf returns the framing of the command that starts cmd (cmd[0] is a
// command prefix or control byte). It is total: every input gives either a
// length or a request for more bytes, and lengths are at least 1.
func frameOf(cmd []byte) frame {
	need := func(n int) bool { return len(cmd) < n }
	c0 := cmd[0]
	switch c0 {
	case dle:
		if need(2) {
			return frame{}
		}
		switch cmd[1] {
		case 0x04, 0x05: // DLE EOT n, DLE ENQ n (answered in real time)
			return frame{total: 3}
		case 0x14: // DLE DC4 fn a b
			return frame{total: 5}
		}
		return frame{total: 2, unknown: true}
	case esc:
		if need(2) {
			return frame{}
		}
		x := cmd[1]
		if n, ok := escFixed[x]; ok {
			return frame{total: n}
		}
		switch x {
		case '*': // ESC * m nL nH d1..dk
			if need(5) {
				return frame{}
			}
			k := int64(cmd[3]) | int64(cmd[4])<<8
			if cmd[2] > 1 {
				k *= 3
			}
			return frame{total: 5 + k}
		case 'D': // ESC D n1 .. nk NUL
			return scanNul(cmd, 2)
		}
		return frame{total: 2, unknown: true}
	case fs:
		if need(2) {
			return frame{}
		}
		if n, ok := fsFixed[cmd[1]]; ok {
			return frame{total: n}
		}
		return frame{total: 2, unknown: true}
	case gs:
		if need(2) {
			return frame{}
		}
		x := cmd[1]
		if n, ok := gsFixed[x]; ok {
			return frame{total: n}
		}
		switch x {
		case 'V': // GS V m [n]
			if need(3) {
				return frame{}
			}
			switch cmd[2] {
			case 0, 1, 48, 49:
				return frame{total: 3}
			case 65, 66, 97, 98, 103, 104:
				return frame{total: 4}
			}
			return frame{total: 3, bad: true}
		case '(': // GS ( fn pL pH data
			if need(5) {
				return frame{}
			}
			return frame{total: 5 + (int64(cmd[3]) | int64(cmd[4])<<8), keep: cmd[2] == 'k'}
		case '8': // GS 8 L/k p1 p2 p3 p4 data
			if need(7) {
				return frame{}
			}
			k := int64(cmd[3]) | int64(cmd[4])<<8 | int64(cmd[5])<<16 | int64(cmd[6])<<24
			return frame{total: 7 + k}
		case 'k': // GS k m ...
			if need(3) {
				return frame{}
			}
			m := cmd[2]
			switch {
			case m <= 6:
				f := scanNul(cmd, 3)
				f.keep = true
				return f
			case m >= 65 && m <= 78:
				if need(4) {
					return frame{}
				}
				return frame{total: 4 + int64(cmd[3]), keep: true}
			}
			return frame{total: 3, bad: true}
		case 'v': // GS v 0 m xL xH yL yH data
			if need(8) {
				return frame{}
			}
			x := int64(cmd[4]) | int64(cmd[5])<<8
			y := int64(cmd[6]) | int64(cmd[7])<<8
			return frame{total: 8 + x*y}
		case '*': // GS * x y data
			if need(4) {
				return frame{}
			}
			return frame{total: 4 + int64(cmd[2])*int64(cmd[3])*8}
		}
		return frame{total: 2, unknown: true}
	case lf, ff, ht, nul, cr, can:
		return frame{total: 1}
	}
	return frame{total: 1, unknown: true}
}

// scanNul frames a command whose data, from index from, ends with a NUL.
func scanNul(cmd []byte, from int) frame {
	for i := from; i < len(cmd); i++ {
		if cmd[i] == nul {
			return frame{total: int64(i + 1)}
		}
	}
	if len(cmd) >= maxScanned {
		// No NUL: drop only the prefix and function byte so the rest is
		// parsed again rather than swallowed.
		return frame{total: int64(from), bad: true}
	}
	return frame{}
}
