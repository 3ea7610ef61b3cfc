package rollout

// Router splits an environment's traffic between revisions: gantry's own
// proxy, or Gateway API / ingress weights on Kubernetes.
type Router interface {
	// SetTraffic replaces how app's traffic in env is split.
	SetTraffic(app, env string, t Traffic) error
}

// Traffic says how requests are split between revisions.
type Traffic struct {
	// Weights maps a revision number to its share in percent; the shares sum
	// to 100. Nil: requests are spread evenly over every ready instance of
	// every revision (what a rolling update wants).
	Weights map[int]int `json:"weights,omitempty"`
	// Baseline is the share in percent of the baseline group (the instances
	// with Group GroupBaseline, of the stable revision); Weights then name
	// the primary instances' shares, and the three sum to 100. Zero: none.
	Baseline int `json:"baseline,omitempty"`
	// Preview is the revision served on the preview listener (blue-green); 0: none.
	Preview int `json:"preview,omitempty"`
}
