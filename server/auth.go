package server

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/auth"
	"github.com/gantry-dev/gantry/rollout"
)

// openAuth finds the token store and audit log in the state store (every
// gantry store implements both), registers opts.Token, and issues the
// first admin token to <data>/admin.token when no token exists.
func (s *Server) openAuth(ctx context.Context, store rollout.Store) (auth.TokenStore, *audit.Log, error) {
	tokens, ok := store.(auth.TokenStore)
	if !ok {
		return nil, nil, fmt.Errorf("the state store %T keeps no API tokens: use gantry's SQLite or PostgreSQL store", store)
	}
	auditStore, ok := store.(audit.Store)
	if !ok {
		return nil, nil, fmt.Errorf("the state store %T keeps no audit log: use gantry's SQLite or PostgreSQL store", store)
	}
	log := audit.New(audit.Options{Store: auditStore, Logf: s.opts.Logf})
	now := time.Now()
	if s.opts.Token != "" {
		if err := auth.EnsureToken(ctx, tokens, s.opts.Token, "local", auth.Grants(auth.Admin, auth.AllEnvironments), now); err != nil {
			return nil, nil, err
		}
	}
	path := filepath.Join(s.opts.DataDir, auth.AdminTokenFile)
	created, err := auth.Bootstrap(ctx, tokens, path, now)
	if err != nil {
		return nil, nil, err
	}
	if created {
		s.opts.Logf("no API token existed: an admin token for every environment is in %s (mode 0600); pass it with --token or GANTRY_TOKEN, create others with gantry token create, then delete the file", path)
	}
	return tokens, log, nil
}
