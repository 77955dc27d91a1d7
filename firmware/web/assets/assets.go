package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

// Prefix is where Handler serves the shared files, on every listener that
// serves a page.
const Prefix = "/static/web/"

//go:embed static
var static embed.FS

// Files returns the embedded files, rooted at static/.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("assets: " + err.Error()) // the embed directive guarantees the directory
	}
	return sub
}

// Version is a digest of the given files of fsys, to be appended to their
// URLs (?v=…) so that browsers fetch them again after an update and may
// cache them otherwise. A missing file counts as empty.
func Version(fsys fs.FS, names ...string) string {
	h := sha256.New()
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

var version = Version(Files(), "hallgw.css", "hallgw.js")

// URL returns the address of a shared file with its version: the pages
// link to URL("hallgw.css").
func URL(name string) string { return Prefix + name + "?v=" + version }

// Handler serves the shared files under Prefix.
func Handler() http.Handler {
	return http.StripPrefix(strings.TrimSuffix(Prefix, "/"), Static(Files()))
}

// Static serves the files of fsys (paths relative to the request path),
// with a day of caching for versioned requests and none otherwise, and
// without directory listings.
func Static(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=86400")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
