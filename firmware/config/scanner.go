package config

import (
	"strings"
	"time"
)

// Scanner is a document scanner (高拍仪 / 高速扫描仪) at a service window,
// driven through SANE's scanimage (docs/scanner.md).
type Scanner struct {
	Window string `yaml:"window"`
	// Device is the SANE device name as `scanimage -L` lists it, e.g.
	// fujitsu:fi-7160:12345, or test:0 for SANE's test backend.
	Device string `yaml:"device"`
	// Source is flatbed or adf (the automatic document feeder); empty
	// leaves the device's own default (a document camera has no source).
	Source string `yaml:"source"`
	// SourceName is the backend's own name for the source when it is not
	// "Flatbed" or "Automatic Document Feeder" (e.g. "ADF Duplex").
	SourceName string `yaml:"source_name"`
	Resolution int    `yaml:"resolution"` // dpi; 0 means 200
	Mode       string `yaml:"mode"`       // Gray (default), Color or Lineart
	Format     string `yaml:"format"`     // png (default), pdf, tiff or jpeg
	// MaxPages bounds one feeder batch; 0 means 100.
	MaxPages int `yaml:"max_pages"`
	// Timeout bounds one scan, all pages; 0 means 2m.
	Timeout Duration `yaml:"timeout"`
	// Pedal is the GPIO pin of a foot pedal that starts a scan ("GPIO17"),
	// optional; pressed = low unless PedalActiveHigh.
	Pedal           string `yaml:"pedal"`
	PedalActiveHigh bool   `yaml:"pedal_active_high"`
}

// Archive keeps scanned case files until the platform has them (docs/
// scanner.md): where scanimage is, how much disk the files may take, how
// they are uploaded, and the delivery deadline of DB43/T 2422 part 5
// §7.3.2.2.
type Archive struct {
	// Program is the scanimage executable; "" means scanimage on PATH.
	Program string `yaml:"program"`
	// SANEConfigDir, when set, is passed as SANE_CONFIG_DIR.
	SANEConfigDir string `yaml:"sane_config_dir"`
	// MaxBytes bounds the files waiting for delivery; over it new scans are
	// refused with an alarm. 0 means 2GiB.
	MaxBytes Size `yaml:"max_bytes"`
	// MinFree refuses new scans while the data file system has less free;
	// 0 means 256MiB.
	MinFree Size `yaml:"min_free"`
	// ChunkSize is the upload chunk; 0 means 256KiB.
	ChunkSize Size `yaml:"chunk_size"`
	// AckTimeout bounds the wait for the platform's acknowledgement of a
	// chunk; 0 means 30s.
	AckTimeout Duration `yaml:"ack_timeout"`
	// DeliverWithin is the delivery deadline of a case's files; 0 means one
	// calendar month after the scan.
	DeliverWithin Duration `yaml:"deliver_within"`
}

// Scanner and archive defaults.
const (
	DefaultScanResolution = 200
	DefaultScanMaxPages   = 100
	DefaultScanTimeout    = 2 * time.Minute
	DefaultArchiveMax     = 2 << 30
	DefaultArchiveMinFree = 256 << 20
	DefaultChunkSize      = 256 << 10
	DefaultAckTimeout     = 30 * time.Second
)

// WithDefaults returns s with its unset fields filled in.
func (s Scanner) WithDefaults() Scanner {
	if s.Resolution == 0 {
		s.Resolution = DefaultScanResolution
	}
	if s.Mode == "" {
		s.Mode = "Gray"
	}
	if s.Format == "" {
		s.Format = "png"
	}
	if s.MaxPages == 0 {
		s.MaxPages = DefaultScanMaxPages
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(DefaultScanTimeout)
	}
	return s
}

// WithDefaults returns a with its unset fields filled in (DeliverWithin
// stays 0: one calendar month).
func (a Archive) WithDefaults() Archive {
	if a.Program == "" {
		a.Program = "scanimage"
	}
	if a.MaxBytes == 0 {
		a.MaxBytes = DefaultArchiveMax
	}
	if a.MinFree == 0 {
		a.MinFree = DefaultArchiveMinFree
	}
	if a.ChunkSize == 0 {
		a.ChunkSize = DefaultChunkSize
	}
	if a.AckTimeout == 0 {
		a.AckTimeout = Duration(DefaultAckTimeout)
	}
	return a
}

// validateScanners checks devices.scanners against the windows.
func validateScanners(v *validator, scanners []Scanner, windows []Window) {
	known := map[string]bool{}
	for _, w := range windows {
		known[w.ID] = true
	}
	seenWin, seenPedal := map[string]bool{}, map[string]bool{}
	for i, s := range scanners {
		p := "devices.scanners[" + itoa(i) + "]"
		switch {
		case s.Window == "":
			v.errf(p+".window", "required")
		case !known[s.Window]:
			v.errf(p+".window", "unknown window %q", s.Window)
		case seenWin[s.Window]:
			v.errf(p+".window", "window %q already has a scanner", s.Window)
		}
		seenWin[s.Window] = true
		if s.Device == "" {
			v.errf(p+".device", "required: the SANE device name (scanimage -L)")
		} else if strings.ContainsAny(s.Device, " \t\n") || strings.HasPrefix(s.Device, "-") {
			v.errf(p+".device", "%q: not a SANE device name", s.Device)
		}
		switch s.Source {
		case "", "flatbed", "adf":
		default:
			v.errf(p+".source", "%q: want flatbed or adf", s.Source)
		}
		switch s.Format {
		case "", "png", "pdf", "tiff", "jpeg":
		default:
			v.errf(p+".format", "%q: want png, pdf, tiff or jpeg", s.Format)
		}
		switch s.Mode {
		case "", "Gray", "Color", "Lineart":
		default:
			v.errf(p+".mode", "%q: want Gray, Color or Lineart", s.Mode)
		}
		if s.Resolution != 0 && (s.Resolution < 50 || s.Resolution > 1200) {
			v.errf(p+".resolution", "%d: want 50…1200 dpi", s.Resolution)
		}
		if s.MaxPages < 0 || s.MaxPages > 1000 {
			v.errf(p+".max_pages", "%d: want 1…1000", s.MaxPages)
		}
		if d := s.Timeout.D(); d != 0 && (d < time.Second || d > time.Hour) {
			v.errf(p+".timeout", "%s: want 1s…1h", s.Timeout)
		}
		if s.Pedal != "" {
			if seenPedal[s.Pedal] {
				v.errf(p+".pedal", "%q: pin already used by another scanner", s.Pedal)
			}
			seenPedal[s.Pedal] = true
		}
	}
}

// validate checks the archive section.
func (a *Archive) validate(v *validator) {
	if a.MaxBytes != 0 && a.MaxBytes < 16<<20 {
		v.errf("archive.max_bytes", "%s: at least 16MiB", a.MaxBytes)
	}
	if a.MinFree < 0 {
		v.errf("archive.min_free", "must not be negative")
	}
	if a.ChunkSize != 0 && (a.ChunkSize < 1<<10 || a.ChunkSize > 1<<20) {
		v.errf("archive.chunk_size", "%s: want 1KiB…1MiB", a.ChunkSize)
	}
	if d := a.AckTimeout.D(); d != 0 && (d < time.Second || d > 10*time.Minute) {
		v.errf("archive.ack_timeout", "%s: want 1s…10m", a.AckTimeout)
	}
	if d := a.DeliverWithin.D(); d < 0 || (d != 0 && d < time.Hour) {
		v.errf("archive.deliver_within", "%s: at least 1h (0 = one calendar month)", a.DeliverWithin)
	}
	if strings.HasPrefix(a.Program, "-") {
		v.errf("archive.program", "%q: not a program", a.Program)
	}
}
