package main

import (
	"fmt"
	"io"
	"time"

	"github.com/gantry-dev/gantry/api"
)

// printAlertHistory writes the footer of `gantry alerts list`: what the
// alerting history keeps and refuses; nothing from a server that does not
// report it.
func printAlertHistory(w io.Writer, h *api.AlertHistory, now time.Time) {
	if h == nil {
		return
	}
	fmt.Fprintf(w, "\nhistory: %d/%d series (--alert-history-max-series), %d samples, about %s; samples refused at the cap: %d; samples of series nothing reads (not kept): %d\n",
		h.Series, h.MaxSeries, h.Samples, byteSize(h.Bytes), h.DroppedSamples, h.UnselectedSamples)
	if h.Full {
		fmt.Fprintf(w, "history: FULL for %s: rules and checks over new series see no data; raise gantry server --alert-history-max-series or narrow the rules' selectors\n",
			humanAge(now.Sub(h.FullSince)))
	}
}

// byteSize writes n bytes in B, KiB, MiB or GiB.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
