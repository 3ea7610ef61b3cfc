package rollout

import (
	"time"

	"github.com/gantry-dev/gantry/spec"
)

// Revision is one deployable version of an app in one environment: the
// spec resolved for that environment plus the version it runs. Revisions
// are numbered from 1 per app and environment and never change.
type Revision struct {
	App     string `json:"app"`
	Env     string `json:"env"`
	Number  int    `json:"number"`
	Version string `json:"version"`
	// Spec is the app's spec resolved for Env: overrides applied, defaults set.
	Spec      spec.AppSpec `json:"spec"`
	CreatedAt time.Time    `json:"createdAt"`
}

// AppRecord is an applied gantry.yaml document.
type AppRecord struct {
	Name      string    `json:"name"`
	Spec      spec.App  `json:"spec"`
	UpdatedAt time.Time `json:"updatedAt"`
}
