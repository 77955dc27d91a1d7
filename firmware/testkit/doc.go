// Package testkit holds helpers shared by hallgw's tests: finding the external
// tools (mosquitto, mbpoll, chromium, …) that make a test real, and failing
// instead of skipping when the test run says those tools must be present.
package testkit
