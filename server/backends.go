package server

import (
	"github.com/gantry-dev/gantry/backend"
	"github.com/gantry-dev/gantry/backend/local"
	"github.com/gantry-dev/gantry/spec"
)

// defaultBackends is the registry of the backends a server runs unless
// Options.Backends says otherwise: spec.BackendLocal. This is the one file
// of the server that knows a backend by its package; a new backend is a
// line here.
func defaultBackends(opts Options) backend.Registry {
	return backend.Registry{
		spec.BackendLocal: func(o backend.Options) (backend.Backend, error) {
			return local.New(local.Options{
				DataDir: o.DataDir, BaseDir: o.BaseDir,
				OnChange: o.OnChange, Drain: o.Drain, Event: o.Event,
				RestartBackoff: opts.RestartBackoff,
			})
		},
	}
}
