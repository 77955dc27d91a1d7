package update_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"hallgw/firmware/update"
)

// The daemon, once started, commits an update on trial only after its
// health checks pass; if they do not within the deadline it exits so that
// systemd restarts it and slot select counts a failed try.
func ExampleSlots_GateCommit() {
	slots := update.New("/")
	journalOpen := func(ctx context.Context) error { return nil } // wired by the daemon
	err := slots.GateCommit(context.Background(), update.Gate{
		Check:    journalOpen,
		Deadline: 2 * time.Minute,
		Interval: 5 * time.Second,
	})
	if errors.Is(err, update.ErrUnhealthy) {
		slog.Error("update on trial is not healthy", "err", err)
		os.Exit(1)
	}
}

// A bundle from a USB stick goes to the inactive slot and runs on trial
// from the next start of the service.
func ExampleSlots_Install() {
	f, err := os.Open("/media/usb/hallgw-2.0.0.tar")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	in, err := update.New("/").Install(context.Background(), f)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Printf("version %s in slot %s; restart hallgw to try it\n", in.Manifest.Version, in.Slot)
}

// A bundle offered over the network is fetched in chunks that survive a
// restart; chunkSource is the uplink's implementation of ChunkSource.
func ExampleFetch() {
	var chunkSource update.ChunkSource // from the uplink
	offer := update.Offer{SHA256: "…", Size: 12 << 20, ChunkSize: 256 << 10}
	slots := update.New("/")
	dl, err := slots.Staging().Begin(offer)
	if err != nil {
		fmt.Println(err)
		return
	}
	path, err := update.Fetch(context.Background(), dl, chunkSource)
	if err != nil {
		fmt.Println("will resume later:", err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	if _, err := slots.Install(context.Background(), f); err != nil {
		fmt.Println(err)
	}
}
