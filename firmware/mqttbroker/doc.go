// Package mqttbroker runs MQTT brokers for the demo and the tests: an
// embedded broker (mochi-mqtt) on a loopback port, with optional user names
// and TLS, whose inline subscriptions see every message; and a private
// mosquitto process (Debian's broker, the kind a platform runs) with its own
// configuration file, port and persistence directory, which can be stopped,
// killed and restarted to test outages.
package mqttbroker
