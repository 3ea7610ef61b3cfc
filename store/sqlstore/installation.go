package sqlstore

import (
	"context"
	"fmt"
)

// InstallationValue returns the installation-wide value stored under
// name. When none is stored yet it stores value first: the first writer
// wins, also between servers racing on one database, and every caller
// gets the stored value.
func (s *Store) InstallationValue(ctx context.Context, name, value string) (string, error) {
	if _, err := s.DB.Exec(ctx, `INSERT INTO installation (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", fmt.Errorf("store installation value %s: %w", name, err)
	}
	var stored string
	if err := s.DB.QueryRow(ctx, `SELECT value FROM installation WHERE name = ?`, name).Scan(&stored); err != nil {
		return "", fmt.Errorf("read installation value %s: %w", name, err)
	}
	return stored, nil
}
