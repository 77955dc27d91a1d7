package archive_test

import (
	"fmt"

	"hallgw/drivers/scanner"
	"hallgw/firmware/archive"
)

// ExampleNotice gives the window display's text for scan outcomes.
func ExampleNotice() {
	fmt.Println(archive.Notice(archive.ScanResult{Pages: 4}, nil))
	jam := &scanner.StatusError{Status: scanner.StatusJammed, Pages: 3}
	fmt.Println(archive.Notice(archive.ScanResult{Pages: 3}, fmt.Errorf("archive: 3 page(s) filed: %w", jam)))
	fmt.Println(archive.Notice(archive.ScanResult{}, archive.ErrFull))
	// Output:
	// 已扫描4页
	// 卡纸，已保存3页
	// 存储已满，暂停扫描
}
