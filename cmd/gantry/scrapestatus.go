package main

import (
	"fmt"
	"io"
	"time"

	"github.com/gantry-dev/gantry/api"
)

// printScrapes prints the last scrape of each instance whose own metrics
// gantry scrapes (spec.metrics.scrape), one a line.
func printScrapes(w io.Writer, st api.Status) {
	for _, rs := range st.Revisions {
		for _, sc := range rs.Scrapes {
			fmt.Fprintf(w, "metrics of %s (revision %s): %s\n", sc.Instance, rs.Name(), scrapeLine(sc))
		}
	}
}

// scrapeLine is one instance's last scrape in words.
func scrapeLine(sc api.ScrapeStatus) string {
	if sc.LastScrape.IsZero() {
		return "not scraped yet (" + sc.URL + ")"
	}
	s := fmt.Sprintf("%d series at %s (%.1fms, %d scrapes)", sc.Series, sc.LastScrape.Local().Format(time.TimeOnly), sc.DurationMs, sc.Scrapes)
	f := sc.LastError
	switch {
	case f == nil:
		return s
	case f.Refusal != "" && f.Label != "":
		return fmt.Sprintf("%s, refused %s: label %s of %s has %d values, over %d", s, f.Refusal, f.Label, f.Metric, f.Count, f.Limit)
	case f.Refusal != "":
		return fmt.Sprintf("%s, refused %s: %d, over %d", s, f.Refusal, f.Count, f.Limit)
	default:
		return fmt.Sprintf("%s, failed: %s", s, f.Error)
	}
}
