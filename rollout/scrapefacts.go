package rollout

// ScrapeFacts is what a failed scrape of an instance's own metrics found
// (spec.metrics.scrape; event ScrapeFailed).
type ScrapeFacts struct {
	Instance string `json:"instance"`
	Revision int    `json:"revision"`
	Version  string `json:"version"`
	// URL is the address scraped.
	URL string `json:"url"`
	// Refusal is the bound the exposition broke: TooManySeries,
	// TooManyLabelValues or BodyTooLarge; "" when the scrape failed
	// (Error says why).
	Refusal string `json:"refusal,omitempty"`
	// Count is what was found (series; values of Label; bytes), Limit the
	// bound it broke; Series the series refused (0 for a body not parsed).
	Count  int `json:"count,omitempty"`
	Limit  int `json:"limit,omitempty"`
	Series int `json:"series,omitempty"`
	// Metric and Label name an unbounded label (TooManyLabelValues).
	Metric string `json:"metric,omitempty"`
	Label  string `json:"label,omitempty"`
	// Error is why a scrape that was not refused failed: the instance down,
	// an answer other than 200, a body that is not the text format.
	Error string `json:"error,omitempty"`
}
