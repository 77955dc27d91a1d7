package health

import "golang.org/x/sys/unix"

func statfs(dir string) (total, free uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	bs := uint64(st.Bsize)
	return st.Blocks * bs, st.Bavail * bs, nil
}

func readClock() Clock {
	var tx unix.Timex // Modes 0: read only, allowed without privileges
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return Clock{State: ClockUnknown}
	}
	c := Clock{State: ClockSynced, MaxErrorUS: int64(tx.Maxerror), EstErrorUS: int64(tx.Esterror)}
	if state == unix.TIME_ERROR || tx.Status&unix.STA_UNSYNC != 0 {
		c.State = ClockUnsynced
	}
	return c
}
