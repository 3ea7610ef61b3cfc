package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assetFS embed.FS

// asset is one embedded file, ready to serve: as is and gzipped.
type asset struct {
	body, gz    []byte
	etag, ctype string
}

// assets serves the embedded files: index.html at / and the rest under /assets/.
type assets struct {
	files map[string]*asset // by URL path
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(assetFS, "assets", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &asset{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: mime.TypeByExtension(path.Ext(p))}
		if f.ctype == "" {
			f.ctype = "text/plain; charset=utf-8"
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			f.gz = buf.Bytes()
		}
		a.files["/"+p] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.files["/"] = a.files["/assets/index.html"]
	delete(a.files, "/assets/index.html")
	return a, nil
}

// FirstLoad returns the bytes of the files the page loads first, as sent
// plainly and gzipped.
func FirstLoad() (plain, gzipped int, err error) {
	a, err := loadAssets()
	if err != nil {
		return 0, 0, err
	}
	for _, p := range firstLoad {
		f := a.files[p]
		plain += len(f.body)
		if f.gz != nil {
			gzipped += len(f.gz)
		} else {
			gzipped += len(f.body)
		}
	}
	return plain, gzipped, nil
}

// firstLoad lists what the page loads before it shows anything.
var firstLoad = []string{"/", "/assets/app.css", "/assets/vendor/uplot/uPlot.min.css",
	"/assets/vendor/uplot/uPlot.iife.min.js", "/assets/app.js", "/assets/views.js", "/assets/charts.js", "/assets/format.js"}

// serve writes the asset at r's path; false when there is none.
func (a *assets) serve(w http.ResponseWriter, r *http.Request) bool {
	f, ok := a.files[r.URL.Path]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	if r.URL.Path == "/" {
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	body := f.body
	if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	if r.Method == http.MethodHead {
		return true
	}
	_, _ = w.Write(body)
	return true
}
