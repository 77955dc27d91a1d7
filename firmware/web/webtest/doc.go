// Package webtest holds what the tests of the web pages share: a real
// gateway on a journal in a temporary directory with a clock the test
// moves, and headless Chromium driven through the DevTools protocol
// (chromedp), with checks of the screenshots it takes. It is imported by
// tests only.
package webtest
