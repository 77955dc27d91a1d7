// Package voice speaks call announcements in the service hall:
// "请 A012 号到 5 号窗口办理" (number A012, please go to window 5).
//
// An announcement is assembled from a clip set of short WAV segments, one per
// word: 请, the letters A–Z and digits 0–9 of the ticket number (read one by
// one: A012 → A 零 一 二), 号, 到, the window number read as a Chinese number
// (5 → 五, 12 → 十二, 20 → 二十, 35 → 三十五; windows 1–99) built from the digit
// clips and 十, then 号窗口 and 办理, optionally after a chime, with a
// configurable gap of silence between segments. Composition is pure Go: the
// RIFF/WAVE parser and writer here handle integer PCM, and every clip of a
// set must share one format.
//
// The default clip set is embedded in the binary (see Default). It is spoken
// by espeak-ng's Mandarin voice with pinyin input (cmn-latn-pinyin), trimmed
// of silence with sox, 22050 Hz mono 16-bit, and is regenerated
// byte-for-byte by scripts/make-voice-clips. A hall replaces it with recorded
// clips through LoadDir: a directory holding manifest.txt (lines of
// "<name> <file>", see ClipNames) and the WAV files it names.
//
// Playback goes through a Player. ALSAPlayer pipes the WAV to
// "aplay -q -D <device> -" (Debian alsa-utils) and bounds each run by the
// clip length plus a margin; FilePlayer writes WAV files instead. The
// Announcer serialises announcements so that two never overlap (the fault
// that cut announcements short in other calling systems), repeats each one a
// configurable number of times, keeps a bounded FIFO queue, and reports
// playback faults (a missing sound card gives aplay's "audio open error") as
// health instead of failing its callers.
package voice
