// Package appmetrics scrapes the metrics an app's instances serve
// themselves (Prometheus text format), bounds them (series per instance,
// values per label) and re-exposes them, with the app, env, revision,
// version and instance labels, as a prometheus.Collector on gantry's own
// registry, where the alert rules and the analysis' checks read them.
package appmetrics
