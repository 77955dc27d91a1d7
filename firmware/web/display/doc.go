// Package display serves the hall display (叫号屏): the page that the
// hall's LCD screens show full screen in a kiosk browser, at GET /display/.
//
// It shows the latest calls ("A012 请到 5 号窗口", the newest large and
// flashing), every window with its current number, the people waiting per
// service with the estimated wait, an information notice as a ticker line
// and an emergency notice (evacuation, DB43/T 2422 part 4 §6) as a red
// banner over the whole screen. Everything comes live from the journal
// over Server-Sent Events (package sse) with resume, so a screen that lost
// its network for a while shows every call it missed when it comes back.
// ?windows=1-10,15 limits a screen to some windows (by number). The page
// is laid out for 1920×1080 and 1366×768 and scales to any 16:9 screen.
// docs/display.md describes it.
package display
