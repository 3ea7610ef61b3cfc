package dbbackup

import (
	"errors"
	"time"
)

// DefaultMaxAge is how long backups are kept by default: 30 days, as the
// deployment plan says.
const DefaultMaxAge = 30 * 24 * time.Hour

// Retention says which backups Prune keeps. A backup is kept when any rule
// keeps it (as restic's forget does), and the newest backup is always kept.
type Retention struct {
	// MaxAge keeps backups younger than this. Zero: no age rule.
	MaxAge time.Duration
	// KeepLast keeps the newest KeepLast backups whatever their age. Zero:
	// no count rule.
	KeepLast int
}

// DefaultRetention keeps 30 days of backups.
var DefaultRetention = Retention{MaxAge: DefaultMaxAge}

// Prune removes the backups the policy does not keep, as of now, and
// returns them, oldest last. With a zero policy it removes nothing and
// returns an error.
func (s *Store) Prune(policy Retention, now time.Time) ([]*Manifest, error) {
	if policy.MaxAge <= 0 && policy.KeepLast <= 0 {
		return nil, errors.New("retention keeps everything: set a maximum age or a number of backups to keep")
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []*Manifest
	for i, m := range all {
		keep := i == 0 || i < policy.KeepLast || policy.MaxAge > 0 && now.Sub(m.CreatedAt) < policy.MaxAge
		if keep {
			continue
		}
		if err := s.remove(m); err != nil {
			return removed, err
		}
		removed = append(removed, m)
	}
	return removed, nil
}
