package escpos

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// BenchmarkEncodeTicket80 lays out and encodes the golden 80 mm ticket.
func BenchmarkEncodeTicket80(b *testing.B) {
	tk := goldenTicket()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeTicket(tk, Width80); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGB18030 is the floor EncodeTicket80 is measured
// against: the same text pushed through x/text's GB18030 encoder in one
// call, with no layout, checks or substitution.
func BenchmarkBaselineGB18030(b *testing.B) {
	tk := goldenTicket()
	text := strings.Join(append([]string{tk.HallName, tk.Number, tk.ServiceName, "您前面还有 3 人等待",
		"预计等待 约 5-10 分钟", "办理窗口: " + strings.Join(tk.Windows, ", "), "取号人: " + tk.Holder,
		"取号时间: 2026-11-03 09:15:02", tk.Notice, tk.QRData}, tk.Lines...), "\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := simplifiedchinese.GB18030.NewEncoder().String(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeStatus(b *testing.B) {
	r := [4]byte{0x12, 0x12, 0x12, 0x1E}
	for b.Loop() {
		if _, err := DecodeStatus(r); err != nil {
			b.Fatal(err)
		}
	}
}
