package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gantry-dev/gantry/metrics/routelabel"
)

// MetricsSpec says how gantry labels the app's metrics.
type MetricsSpec struct {
	// Routes are the route templates gantry's proxy counts requests by
	// (the route label of gantry_route_requests_total): absolute paths
	// whose variable segments are {name} (one segment) or, last,
	// {name...} (the rest), such as "/users/{id}". A path no template
	// matches is counted as "other". At most 100; raw paths, globs and
	// regular expressions are refused, so the label stays bounded.
	// Empty: no per-route counters.
	Routes []string `json:"routes,omitempty"`
	// Scrape makes gantry scrape the metrics the instances serve
	// themselves and re-expose them with app, env, revision, version and
	// instance labels (scrape.go). Nil: instances are not scraped.
	Scrape *ScrapeSpec `json:"scrape,omitempty"`
	// ActiveUsers says who counts as a user in gantry_active_users and
	// over what window (activeusers.go). Nil: client addresses over 5
	// minutes.
	ActiveUsers *ActiveUsersSpec `json:"activeUsers,omitempty"`
}

func (m *MetricsSpec) clone() *MetricsSpec {
	if m == nil {
		return nil
	}
	c := *m
	c.Routes = slices.Clone(m.Routes)
	if m.Scrape != nil {
		sc := *m.Scrape
		c.Scrape = &sc
	}
	if m.ActiveUsers != nil {
		u := *m.ActiveUsers
		c.ActiveUsers = &u
	}
	return &c
}

// RouteTemplates returns the route templates, nil when m is nil.
func (m *MetricsSpec) RouteTemplates() []string {
	if m == nil {
		return nil
	}
	return m.Routes
}

// metrics checks spec.metrics: the scrape's settings; every route
// template parses, none repeats another's paths, at most
// routelabel.MaxTemplates.
func (v *validator) metrics(path string, m *MetricsSpec) {
	if m == nil {
		return
	}
	v.scrape(joinField(path, "scrape"), m.Scrape)
	v.activeUsers(joinField(path, "activeUsers"), m.ActiveUsers)
	rpath := joinField(path, "routes")
	if n := len(m.Routes); n > routelabel.MaxTemplates {
		v.add(fmt.Sprintf("%s[%d]", rpath, routelabel.MaxTemplates), "%d route templates: at most %d, so the route label stays bounded; merge routes into templates with {name} segments, such as /users/{id}", n, routelabel.MaxTemplates)
		return
	}
	for i, t := range m.Routes {
		if _, err := routelabel.Parse(t); err != nil {
			v.add(fmt.Sprintf("%s[%d]", rpath, i), "%v", err)
		}
	}
	if _, err := routelabel.New(m.Routes); err != nil && strings.Contains(err.Error(), "same paths") {
		v.add(rpath, "%v", err)
	}
}
