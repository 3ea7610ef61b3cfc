package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkOFREP measures OFREP evaluations per second through gantry's
// real server over loopback: keep-alive connections, 8 concurrent clients
// per core, each request authenticated with a viewer token.
func BenchmarkOFREP(b *testing.B) {
	base, _, viewer, _ := flagServer(b)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, bc := range []struct{ name, path, body string }{
		{"single", "/api/v1/environments/production/ofrep/v1/evaluate/flags/new-ai-agent", `{"context": {"targetingKey": "user-42", "email": "ann@example.org", "appVersion": "2.4.1"}}`},
		{"bulk", "/api/v1/environments/production/ofrep/v1/evaluate/flags", `{"context": {"targetingKey": "user-42", "country": "DE"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(8)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, base+bc.path, strings.NewReader(bc.body))
					req.Header.Set("Authorization", "Bearer "+viewer)
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
