package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Opts configures a Keeper.
type Opts struct {
	// Secret is the hall secret (at least MinSecretLen bytes). It keys the
	// holder hash and wraps the day keys.
	Secret []byte
	// Retention is how long personal data stays readable: the data of a
	// day expires Retention after that day ends.
	Retention time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location sets the calendar days data is keyed by (the hall's time
	// zone); nil means UTC.
	Location *time.Location
	// UpstreamClear lets Upstream return clear values (configuration
	// privacy.upstream_clear); off, it returns the hash and masked values.
	UpstreamClear bool
}

// MinSecretLen is the shortest secret Open accepts, in bytes.
const MinSecretLen = 16

// Errors callers branch on.
var (
	// ErrExpired is returned by Open for data whose day is past the
	// retention period or whose day key was deleted, and by Seal for a day
	// already expired.
	ErrExpired = errors.New("privacy: personal data expired")
	// ErrNoKey is returned by Open for data of a day this keystore never
	// had a key for (sealed on another gateway, or the keystore was lost).
	ErrNoKey = errors.New("privacy: no key for this data")
	// ErrCorrupt is returned by Open for bytes that are not sealed data or
	// were altered.
	ErrCorrupt = errors.New("privacy: sealed data corrupt")
	// ErrSecret is returned by Open when the secret does not open the
	// keystore (the configured secret changed).
	ErrSecret = errors.New("privacy: the secret does not open this keystore")
)

// Keeper holds the hall secret and the day keys. Its methods are safe for
// concurrent use.
type Keeper struct {
	dir string
	o   Opts
	kek cipher.AEAD // wraps day keys

	mu    sync.Mutex
	keys  map[day]cipher.AEAD // unwrapped day keys, loaded on demand
	floor day                 // every day up to and including floor was shredded
}

// Files in the keystore directory.
const (
	metaFile  = "keystore.json"
	keyPrefix = "day-"
	keySuffix = ".key"
)

// Derivation labels: the HMAC of the secret over these gives the sub-keys.
// The holder hash uses the secret itself, so the platform needs no label.
const (
	labelWrap  = "hallgw privacy: day key wrapping v1"
	labelCheck = "hallgw privacy: keystore check v1"
)

type meta struct {
	V     int    `json:"v"`
	Check string `json:"check"` // hex HMAC(secret, labelCheck): proves the secret
	Floor uint32 `json:"floor"` // last shredded day, YYYYMMDD; 0 = none
}

// Open opens (creating it if needed) the keystore in dir with mode 0700 and
// returns its Keeper. It fails with ErrSecret when the keystore was made
// with another secret.
func Open(dir string, o Opts) (*Keeper, error) {
	switch {
	case len(o.Secret) < MinSecretLen:
		return nil, fmt.Errorf("privacy: secret of %d bytes, want at least %d", len(o.Secret), MinSecretLen)
	case o.Retention <= 0:
		return nil, fmt.Errorf("privacy: retention %v: want > 0", o.Retention)
	case dir == "":
		return nil, errors.New("privacy: no keystore directory")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	o.Secret = append([]byte(nil), o.Secret...)
	kek, err := newAEAD(derive(o.Secret, labelWrap))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("privacy: keystore: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("privacy: keystore: %w", err)
	}
	k := &Keeper{dir: dir, o: o, kek: kek, keys: map[day]cipher.AEAD{}}
	check := hex.EncodeToString(derive(o.Secret, labelCheck))
	m, err := k.readMeta()
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := k.writeMeta(meta{V: 1, Check: check}); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !hmac.Equal([]byte(m.Check), []byte(check)):
		return nil, fmt.Errorf("%w in %s (restore the previous secret, or remove the directory to drop the personal data it protects)", ErrSecret, dir)
	default:
		k.floor = day(m.Floor)
	}
	return k, nil
}

// String names the keystore.
func (k *Keeper) String() string { return "privacy.Keeper(" + k.dir + ")" }

// Dir returns the keystore directory.
func (k *Keeper) Dir() string { return k.dir }

// Retention returns the retention period.
func (k *Keeper) Retention() time.Duration { return k.o.Retention }

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	return a, nil
}

// Normalise is the form of an ID number that HolderHash hashes: full-width
// characters folded to ASCII ('４' → '4'), every white-space character
// removed, letters upper-cased ('x' → 'X').
func Normalise(idNumber string) string {
	s := idNumber
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			s = width.Fold.String(s)
			break
		}
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// HashPrefix starts every holder hash; it names the scheme's version.
const HashPrefix = "h1:"

// HolderHash returns the keyed hash of an ID number: "h1:" and the 64
// lower-case hex digits of HMAC-SHA256(key = hall secret, message =
// Normalise(idNumber) in UTF-8). The platform computes it the same way;
// without the secret it cannot be reversed by trying the ~10^10 plausible
// numbers.
func (k *Keeper) HolderHash(idNumber string) string {
	m := hmac.New(sha256.New, k.o.Secret)
	m.Write([]byte(Normalise(idNumber)))
	return HashPrefix + hex.EncodeToString(m.Sum(nil))
}

// ValidHolderHash reports whether s has the form of a holder hash.
func ValidHolderHash(s string) bool {
	h, ok := strings.CutPrefix(s, HashPrefix)
	if !ok || len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Sealed data layout: version, day (YYYYMMDD, big-endian), nonce, then the
// AES-256-GCM ciphertext with its tag; version and day are authenticated.
const (
	sealVersion  = 1
	sealHeader   = 1 + 4
	nonceLen     = 12
	tagLen       = 16
	SealOverhead = sealHeader + nonceLen + tagLen // bytes added to the JSON of the value
)

// Seal encodes v as JSON and encrypts it under the key of the day at falls
// on. Seal a Subject (SubjectOf), not an idcard.Card, whose JSON is masked.
// It returns ErrExpired for a day already past the retention period.
func (k *Keeper) Seal(at time.Time, v any) ([]byte, error) {
	d := dayOf(at, k.o.Location)
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("privacy: seal: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.expiredLocked(d) {
		return nil, fmt.Errorf("%w: day %s", ErrExpired, d)
	}
	a, err := k.keyLocked(d, true)
	if err != nil {
		return nil, err
	}
	out := make([]byte, sealHeader+nonceLen, sealHeader+nonceLen+len(plain)+tagLen)
	out[0] = sealVersion
	binary.BigEndian.PutUint32(out[1:5], uint32(d))
	rand.Read(out[sealHeader:])
	return a.Seal(out, out[sealHeader:], plain, out[:sealHeader]), nil
}

// SealedDay returns the calendar day (at midnight in the Keeper's
// location) sealed data belongs to, without decrypting it.
func (k *Keeper) SealedDay(sealed []byte) (time.Time, error) {
	d, err := parseSealed(sealed)
	if err != nil {
		return time.Time{}, err
	}
	return d.start(k.o.Location), nil
}

func parseSealed(sealed []byte) (day, error) {
	if len(sealed) < SealOverhead {
		return 0, fmt.Errorf("%w: %d bytes, want at least %d", ErrCorrupt, len(sealed), SealOverhead)
	}
	if sealed[0] != sealVersion {
		return 0, fmt.Errorf("%w: version %d", ErrCorrupt, sealed[0])
	}
	d := day(binary.BigEndian.Uint32(sealed[1:5]))
	if !d.valid() {
		return 0, fmt.Errorf("%w: bad day", ErrCorrupt)
	}
	return d, nil
}

// Open decrypts sealed data into v (a pointer, as for json.Unmarshal). It
// returns ErrExpired once the data's day is past the retention period or its
// key was deleted, ErrNoKey for a day this keystore never knew, ErrCorrupt
// for bytes that are not intact sealed data.
func (k *Keeper) Open(sealed []byte, v any) error {
	d, err := parseSealed(sealed)
	if err != nil {
		return err
	}
	k.mu.Lock()
	if k.expiredLocked(d) {
		k.mu.Unlock()
		return fmt.Errorf("%w: day %s", ErrExpired, d)
	}
	a, err := k.keyLocked(d, false)
	k.mu.Unlock()
	if err != nil {
		return err
	}
	plain, err := a.Open(nil, sealed[sealHeader:sealHeader+nonceLen], sealed[sealHeader+nonceLen:], sealed[:sealHeader])
	if err != nil {
		return fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("privacy: open: %w", err)
	}
	return nil
}

// expiredLocked reports whether day d is shredded or past the retention.
func (k *Keeper) expiredLocked(d day) bool {
	if d <= k.floor {
		return true
	}
	end := d.next().start(k.o.Location)
	return !k.o.Now().Before(end.Add(k.o.Retention))
}

// keyLocked returns the key of day d, loading it, or creating it when
// create is set.
func (k *Keeper) keyLocked(d day, create bool) (cipher.AEAD, error) {
	if a, ok := k.keys[d]; ok {
		return a, nil
	}
	path := k.keyPath(d)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !create:
		return nil, fmt.Errorf("%w: day %s", ErrNoKey, d)
	case errors.Is(err, os.ErrNotExist):
		raw := make([]byte, 32)
		rand.Read(raw)
		if err := writeFileSync(path, k.wrap(d, raw)); err != nil {
			return nil, err
		}
		a, err := newAEAD(raw)
		if err != nil {
			return nil, err
		}
		k.keys[d] = a
		return a, nil
	case err != nil:
		return nil, fmt.Errorf("privacy: day key: %w", err)
	}
	raw, err := k.unwrap(d, b)
	if err != nil {
		return nil, err
	}
	a, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	k.keys[d] = a
	return a, nil
}

// Day key file: magic, version, nonce, wrapped key and tag.
var keyMagic = []byte("HGDK")

const keyFileLen = 4 + 1 + nonceLen + 32 + tagLen

func (k *Keeper) wrap(d day, raw []byte) []byte {
	out := make([]byte, 5+nonceLen, keyFileLen)
	copy(out, keyMagic)
	out[4] = 1
	rand.Read(out[5:]) // crypto/rand never fails (Go ≥ 1.24)
	return k.kek.Seal(out, out[5:], raw, []byte(keyPrefix+d.String()))
}

func (k *Keeper) unwrap(d day, b []byte) ([]byte, error) {
	if len(b) != keyFileLen || string(b[:4]) != string(keyMagic) || b[4] != 1 {
		return nil, fmt.Errorf("%w: day key file of day %s is damaged", ErrCorrupt, d)
	}
	raw, err := k.kek.Open(nil, b[5:5+nonceLen], b[5+nonceLen:], []byte(keyPrefix+d.String()))
	if err != nil {
		return nil, fmt.Errorf("%w: day key of day %s does not unwrap", ErrCorrupt, d)
	}
	return raw, nil
}

func (k *Keeper) keyPath(d day) string {
	return filepath.Join(k.dir, keyPrefix+d.String()+keySuffix)
}

// Enforce deletes the day keys past the retention period and returns how
// many it deleted. The daemon runs it daily (Enforcer).
func (k *Keeper) Enforce() (int, error) {
	days, err := k.Days()
	if err != nil {
		return 0, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var gone []day
	for _, d := range days {
		if k.expiredLocked(day(d)) {
			gone = append(gone, day(d))
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	// Raise the floor first: a crash between here and the deletions leaves
	// keys that are refused now and deleted next time.
	last := gone[len(gone)-1]
	if last > k.floor {
		m, err := k.readMeta()
		if err != nil {
			return 0, err
		}
		m.Floor = uint32(last)
		if err := k.writeMeta(m); err != nil {
			return 0, err
		}
		k.floor = last
	}
	n := 0
	var errs []error
	for _, d := range gone {
		delete(k.keys, d)
		if err := os.Remove(k.keyPath(d)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("privacy: shred day %s: %w", d, err))
			continue
		}
		n++
	}
	if err := syncDir(k.dir); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// Days returns the days that have a key, oldest first, as YYYYMMDD numbers.
func (k *Keeper) Days() ([]uint32, error) {
	ents, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, fmt.Errorf("privacy: keystore: %w", err)
	}
	var out []uint32
	for _, e := range ents {
		name, ok := strings.CutPrefix(e.Name(), keyPrefix)
		if !ok {
			continue
		}
		if name, ok = strings.CutSuffix(name, keySuffix); !ok {
			continue
		}
		if d, ok := parseDay(name); ok {
			out = append(out, uint32(d))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// Stats describes the keystore for the status page; it holds no key.
type Stats struct {
	Days      int    `json:"days"`             // day keys kept
	Oldest    string `json:"oldest,omitempty"` // YYYY-MM-DD
	Newest    string `json:"newest,omitempty"`
	Shredded  string `json:"shredded_through,omitempty"`
	Retention string `json:"retention"`
}

// Stats returns the keystore's figures.
func (k *Keeper) Stats() Stats {
	s := Stats{Retention: k.o.Retention.String()}
	days, err := k.Days()
	if err == nil && len(days) > 0 {
		s.Days = len(days)
		s.Oldest, s.Newest = day(days[0]).dashed(), day(days[len(days)-1]).dashed()
	}
	k.mu.Lock()
	if k.floor != 0 {
		s.Shredded = k.floor.dashed()
	}
	k.mu.Unlock()
	return s
}

func (k *Keeper) readMeta() (meta, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(k.dir, metaFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return m, err
		}
		return m, fmt.Errorf("privacy: keystore: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.V != 1 || (m.Floor != 0 && !day(m.Floor).valid()) {
		return m, fmt.Errorf("privacy: keystore %s is damaged", filepath.Join(k.dir, metaFile))
	}
	return m, nil
}

func (k *Keeper) writeMeta(m meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("privacy: keystore: %w", err)
	}
	return writeFileSync(filepath.Join(k.dir, metaFile), append(b, '\n'))
}

// writeFileSync replaces path atomically with data (mode 0600) and makes
// the change durable.
func writeFileSync(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("privacy: write: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("privacy: write: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("privacy: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("privacy: write: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("privacy: write: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("privacy: write: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("privacy: sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("privacy: sync %s: %w", dir, err)
	}
	return nil
}
