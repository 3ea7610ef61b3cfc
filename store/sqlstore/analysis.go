package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gantry-dev/gantry/rollout"
)

var _ rollout.AnalysisStateStore = (*Store)(nil)

// PutAnalysisState stores a rollout's analysis evidence (analysis_states),
// replacing what was there.
func (s *Store) PutAnalysisState(ctx context.Context, rolloutID int64, state []byte) error {
	_, err := s.DB.Exec(ctx, `
		INSERT INTO analysis_states (rollout_id, state, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (rollout_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
		rolloutID, string(state), s.Dialect.Time(time.Now()))
	if err != nil {
		return fmt.Errorf("store analysis state of rollout %d: %w", rolloutID, err)
	}
	return nil
}

// GetAnalysisState returns a rollout's stored analysis evidence, or
// rollout.ErrNotFound when none was stored.
func (s *Store) GetAnalysisState(ctx context.Context, rolloutID int64) ([]byte, error) {
	var state string
	err := s.DB.QueryRow(ctx, `SELECT state FROM analysis_states WHERE rollout_id = ?`, rolloutID).Scan(&state)
	if errors.Is(err, ErrNoRows) {
		return nil, fmt.Errorf("analysis state of rollout %d: %w", rolloutID, rollout.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get analysis state of rollout %d: %w", rolloutID, err)
	}
	return []byte(state), nil
}
