package archive

import (
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"hallgw/firmware/daemon"
	"hallgw/firmware/uplink"
)

func init() {
	UplinkClient = func(d *daemon.Daemon) mqtt.Client {
		if u := uplink.For(d); u != nil {
			return u.Client()
		}
		return nil
	}
	daemon.Register("archive", ComponentOrder, func(d *daemon.Daemon) (daemon.Component, error) {
		return NewComponent(d, d.Cfg.Archive, d.Cfg.Devices.Scanners)
	})
}
