package kiosk

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"time"

	"hallgw/firmware/web/assets"
)

// Defaults of Options.
const (
	DefaultReturn = 15 * time.Second
	DefaultPoll   = 5 * time.Second
)

// Options configure the kiosk page.
type Options struct {
	HallName string
	// Kiosks are the ids of the configured kiosks; the page of any other
	// id is 404. Empty accepts every id.
	Kiosks []string
	// Return is how long a ticket or a refusal stays on screen (default
	// 15 s); the card screen waits twice as long for a touch.
	Return time.Duration
	// Poll is how often the start screen reloads the services and the
	// printer's state (default 5 s).
	Poll time.Duration
	// Location is the hall's time zone, for the clock (default UTC).
	Location *time.Location
}

//go:embed static
var static embed.FS

//go:embed kiosk.html
var pageHTML string

var page = template.Must(template.New("kiosk").Parse(pageHTML))

// Handler serves the kiosk page.
type Handler struct {
	o     Options
	files fs.FS
	ver   string
}

// New returns the kiosk page.
func New(o Options) (*Handler, error) {
	if o.Return <= 0 {
		o.Return = DefaultReturn
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	return &Handler{o: o, files: files, ver: assets.Version(files, "kiosk.css", "kiosk.js")}, nil
}

// Register adds GET /kiosk/{id}/ and the page's files to mux; /kiosk/{id}
// redirects there. The routes leave /kiosk/{id}/api/ to the kiosk service.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /kiosk/{id}/{$}", h.page)
	mux.HandleFunc("GET /kiosk/{id}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	})
	for _, name := range []string{"kiosk.js", "kiosk.css"} {
		mux.HandleFunc("GET /kiosk/{id}/"+name, func(w http.ResponseWriter, r *http.Request) {
			if !h.known(r.PathValue("id")) {
				http.NotFound(w, r)
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/" + name
			assets.Static(h.files).ServeHTTP(w, r2)
		})
	}
}

func (h *Handler) known(id string) bool {
	return len(h.o.Kiosks) == 0 || slices.Contains(h.o.Kiosks, id)
}

type pageData struct {
	Hall, Kiosk, TZ          string
	ReturnMS, PollMS         int64
	BaseCSS, BaseJS, CSS, JS string
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !h.known(id) {
		http.Error(w, "kiosk: no kiosk "+id+" is configured", http.StatusNotFound)
		return
	}
	d := pageData{
		Hall: h.o.HallName, Kiosk: id, TZ: h.o.Location.String(),
		ReturnMS: h.o.Return.Milliseconds(), PollMS: h.o.Poll.Milliseconds(),
		BaseCSS: assets.URL("hallgw.css"), BaseJS: assets.URL("hallgw.js"),
		CSS: "kiosk.css?v=" + h.ver, JS: "kiosk.js?v=" + h.ver,
	}
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		http.Error(w, "kiosk: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}
