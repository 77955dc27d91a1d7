// Package assets embeds what the gateway's pages share — the base style
// sheet (Chinese fonts, large type, colours) and hallgw.js (masking of
// names and ID numbers, wait estimates in words, small DOM helpers) — and
// serves them under Prefix. Nothing is loaded from outside the gateway: a
// hall's LAN has no internet, and a page must look the same without it.
package assets
