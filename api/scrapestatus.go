package api

import (
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

// ScrapeStatus is the outcome of the last scrape of one instance's own
// metrics (spec.metrics.scrape), as the leading server's scraper holds it.
type ScrapeStatus struct {
	// Instance is the scraped instance, of Revision and Group (as in
	// RevisionStatus); URL the address scraped.
	Instance string `json:"instance"`
	Revision int    `json:"revision"`
	Group    string `json:"group,omitempty"`
	URL      string `json:"url"`
	// LastScrape is when the last scrape started; zero before the first.
	// DurationMs is how long it took, in milliseconds.
	LastScrape time.Time `json:"lastScrape,omitzero"`
	DurationMs float64   `json:"durationMs"`
	// Series is how many series the last exposition had (also when it was
	// refused for its bounds); 0 when it could not be read.
	Series int `json:"series"`
	// Scrapes counts the instance's scrapes so far.
	Scrapes int `json:"scrapes"`
	// LastError is why the last scrape kept nothing, with the facts of a
	// refusal (the bound, what was found) or the error; nil when it was
	// kept (its series are re-exposed on /metrics).
	LastError *rollout.ScrapeFacts `json:"lastError,omitempty"`
}
