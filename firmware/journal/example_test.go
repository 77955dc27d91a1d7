package journal_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hallgw/firmware/journal"
)

func Example() {
	dir, err := os.MkdirTemp("", "journal-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	j, err := journal.Open(journal.Options{Path: filepath.Join(dir, "journal.db"), GatewayID: "hall-01"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()

	// A producer appends and waits until the event is on disk.
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	first, err := j.Append(context.Background(), journal.Record{Kind: "hall", At: at, Data: []byte("ticket A001")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(journal.EventID(j.GatewayID(), first))

	// The uplink holds reclaim at its cursor and reads from there.
	j.Hold("uplink")
	from, _ := j.Cursor("uplink")
	recs, _ := j.Read(from+1, 100)
	for _, r := range recs {
		fmt.Println(r.Seq, r.Class, r.Kind, r.At.Format(time.RFC3339), string(r.Data))
	}
	_ = j.SetCursor("uplink", recs[len(recs)-1].Seq)
	// Output:
	// hall-01:1
	// 1 business hall 2025-03-01T09:00:00Z ticket A001
}
