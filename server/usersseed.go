package server

import (
	"context"
	"fmt"

	"github.com/gantry-dev/gantry/metrics/activeusers"
)

// usersSeedName names the active users' hash seed among the state
// store's installation-wide values.
const usersSeedName = "active_users_seed"

// installationStore keeps installation-wide values (store/sqlstore).
type installationStore interface {
	InstallationValue(ctx context.Context, name, value string) (string, error)
}

// usersSeed returns the installation's seed of the active users' hash:
// the one in the state store, or a new random one stored now (the first
// server to store one wins). Every server of the installation programs
// its data plane with it, so counts merge across server restarts,
// data plane upgrades and takeovers. A store that keeps no such values
// gets the public zero seed, with a warning.
func (s *Server) usersSeed(ctx context.Context) (activeusers.Seed, error) {
	is, ok := s.store.(installationStore)
	if !ok {
		s.opts.Logf("warning: the state store %T keeps no installation-wide values: active users are hashed with the public zero seed", s.store)
		return activeusers.Seed{}, nil
	}
	fresh, err := activeusers.NewSeed()
	if err != nil {
		return activeusers.Seed{}, err
	}
	text, _ := fresh.MarshalText()
	stored, err := is.InstallationValue(ctx, usersSeedName, string(text))
	if err != nil {
		return activeusers.Seed{}, fmt.Errorf("the active users' hash seed: %w", err)
	}
	var seed activeusers.Seed
	if err := seed.UnmarshalText([]byte(stored)); err != nil {
		return activeusers.Seed{}, fmt.Errorf("the state store's %s: %w (delete the row of table installation to generate a new one; active users then restart from zero)", usersSeedName, err)
	}
	return seed, nil
}
