package privacy

import "hallgw/firmware/daemon"

func init() {
	daemon.Register("privacy", ComponentOrder, func(d *daemon.Daemon) (daemon.Component, error) {
		return NewComponent(d, d.Cfg.Privacy)
	})
}
