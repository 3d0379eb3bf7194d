// Package browsertest loads heartbeat's status page in a real browser,
// Debian's Chromium driven over the DevTools protocol by chromedp, and
// checks what a person would see: every check, a failure within one refresh,
// a page that fits a phone, no console error and no Content-Security-Policy
// violation. It is a module of its own so that chromedp stays out of the
// core module's dependencies.
//
// Run it with
//
//	go test -race ./statuspage/browsertest/...
//
// It skips without /usr/bin/chromium (CHROMIUM names another binary), and
// fails instead under CI=true. Every run takes the screenshots of
// docs/images/status-page.png and docs/images/status-page-phone.png and
// checks that each is a PNG image of the page's size; only with
// HEARTBEAT_UPDATE_SCREENSHOT=1 does it write them there.
package browsertest
