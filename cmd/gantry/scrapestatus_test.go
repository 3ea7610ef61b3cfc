package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/rollout"
)

// TestPrintScrapes: gantry status prints each scraped instance's last
// scrape, with the refusal or error of a failed one.
func TestPrintScrapes(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.Local)
	st := api.Status{Revisions: []api.RevisionStatus{{Number: 1, Scrapes: []api.ScrapeStatus{
		{Instance: "web-1-a", Revision: 1, URL: "http://127.0.0.1:9/metrics", LastScrape: at, DurationMs: 1.25, Series: 12, Scrapes: 40},
		{Instance: "web-1-b", Revision: 1, LastScrape: at, Series: 1500, Scrapes: 3,
			LastError: &rollout.ScrapeFacts{Refusal: "TooManySeries", Count: 1500, Limit: 1000}},
		{Instance: "web-1-c", Revision: 1, LastScrape: at, Scrapes: 2, LastError: &rollout.ScrapeFacts{Error: "connection refused"}},
		{Instance: "web-1-d", Revision: 1, URL: "http://127.0.0.1:10/metrics"},
	}}}}
	var b bytes.Buffer
	printScrapes(&b, st)
	want := []string{
		"metrics of web-1-a (revision 1): 12 series at 15:04:05 (1.2ms, 40 scrapes)",
		"metrics of web-1-b (revision 1): 1500 series at 15:04:05 (0.0ms, 3 scrapes), refused TooManySeries: 1500, over 1000",
		"metrics of web-1-c (revision 1): 0 series at 15:04:05 (0.0ms, 2 scrapes), failed: connection refused",
		"metrics of web-1-d (revision 1): not scraped yet (http://127.0.0.1:10/metrics)",
	}
	if got := strings.Split(strings.TrimSpace(b.String()), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("printScrapes:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
}
