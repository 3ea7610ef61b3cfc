package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gantry-dev/gantry/auth"
)

// BenchmarkHandler_authenticatedRead measures one authenticated GET: a
// token lookup by hash in SQLite, the role check, the handler.
func BenchmarkHandler_authenticatedRead(b *testing.B) {
	a := newTestAPI(b)
	secret := a.token(b, "bench", auth.Grants(auth.Viewer, "*")...)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/version", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		w := httptest.NewRecorder()
		a.h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
