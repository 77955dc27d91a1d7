package simwire

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is the emulator's side of a pseudo-terminal pair.
//
// Master is where the emulator reads what the driver wrote and writes its
// replies. Path is the slave device (for example /dev/pts/3) that the driver
// opens like any serial port. The emulator keeps its own descriptor on the
// slave open so that the driver can close and reopen the port without the
// master seeing EIO in between.
type PTY struct {
	Master *os.File
	Path   string
	slave  *os.File
}

// OpenPTY opens a new pseudo-terminal pair in raw mode (no echo, no line
// editing, no CR/LF translation), as a serial device would behave.
func OpenPTY() (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("simwire: open pty: %w", err)
	}
	if err := MakeRaw(s); err != nil {
		m.Close()
		s.Close()
		return nil, err
	}
	// pty.Open leaves the master in blocking mode, where Close cannot
	// interrupt a pending Read. A non-blocking duplicate goes through Go's
	// poller: Close wakes a reader, and read deadlines work.
	nm, err := nonBlocking(m)
	if err != nil {
		m.Close()
		s.Close()
		return nil, err
	}
	return &PTY{Master: nm, Path: s.Name(), slave: s}, nil
}

func nonBlocking(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("simwire: dup pty master: %w", err)
	}
	f.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("simwire: pty master non-blocking: %w", err)
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// MakeRaw puts the terminal behind f in raw 8N1 mode, like cfmakeraw(3).
func MakeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("simwire: get termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("simwire: set termios: %w", err)
	}
	return nil
}

// Read reads from the master side.
func (p *PTY) Read(b []byte) (int, error) { return p.Master.Read(b) }

// Write writes to the master side: the bytes appear on the slave.
func (p *PTY) Write(b []byte) (int, error) { return p.Master.Write(b) }

// Close closes both sides. A driver that still has the slave open then reads
// EOF or EIO, as when a USB adapter is pulled.
func (p *PTY) Close() error {
	err := p.Master.Close()
	if p.slave != nil {
		if e := p.slave.Close(); err == nil {
			err = e
		}
	}
	return err
}

// String returns the slave path.
func (p *PTY) String() string { return p.Path }
