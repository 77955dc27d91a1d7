// Package demo simulates a service hall's day around the real daemon: citizens
// arriving with a morning peak, a lunch dip and an afternoon peak, and staff
// at every window who sign in, call, recall, serve, transfer, park, pause and
// close. The people are simulated; everything they touch is the real gateway
// (hall rules, journal with fsync, feed), so the demo exercises the same code
// as a hall.
//
// Time runs on a Clock that can go faster than real time (--speed), so a day
// passes in minutes. The simulation is seeded and reproducible in what the
// people decide; the exact interleaving depends on the scheduler.
package demo
