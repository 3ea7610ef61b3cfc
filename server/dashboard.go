package server

import (
	"path/filepath"

	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/dashboard"
)

// newDashboard returns the web dashboard, its session key kept in
// Options.DashboardKeyFile or the data directory so that sign-ins survive
// a restart.
func (s *Server) newDashboard() (*dashboard.Dashboard, error) {
	path := s.opts.DashboardKeyFile
	if path == "" {
		path = filepath.Join(s.opts.DataDir, "dashboard.key")
	}
	key, err := dashboard.LoadKey(path)
	if err != nil {
		return nil, err
	}
	return dashboard.New(dashboard.Options{
		Key: key, Tokens: s.tokens, Store: s.store, Policy: auth.DefaultPolicy(), Logf: s.opts.Logf,
	})
}
