package identity

import "hallgw/firmware/daemon"

func init() {
	daemon.Register("identity", ComponentOrder, func(d *daemon.Daemon) (daemon.Component, error) {
		return NewComponent(d, d.Cfg.Devices.WindowReaders, d.Cfg.StaffCards())
	})
}
