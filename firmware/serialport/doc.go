// Package serialport opens the gateway's serial ports with go.bug.st/serial and
// hands drivers a plain io.ReadWriteCloser.
//
// Drivers never open ports themselves (they take an io.ReadWriter); the
// supervisor and the installer commands open them here. A port is named
// either by path (/dev/ttyUSB0, /dev/pts/3) or by USB identity
// ("usb:1a86:7523" or "usb:1a86:7523:SERIAL"), which is looked up with the
// enumerator each time the port is opened, so a device that comes back under
// another name after being replugged is found again.
package serialport
