package dbbackup

import (
	"time"
)

// Manifest describes one backup; it is stored as <id>.json beside the dump.
type Manifest struct {
	// ID names the backup: its UTC start time and a random suffix
	// (20240501T120000Z-1a2b3c), so IDs sort by time.
	ID string `json:"id"`
	// File is the dump's file name inside the store.
	File string `json:"file"`
	// Format is pg_dump's format: always "custom" (pg_dump -Fc).
	Format string `json:"format"`
	// CreatedAt is when the backup started (its data is as of then).
	CreatedAt time.Time `json:"created_at"`
	// DurationMillis is how long pg_dump ran, in milliseconds.
	DurationMillis int64 `json:"duration_ms"`
	// SizeBytes is the dump file's size.
	SizeBytes int64 `json:"size_bytes"`
	// SHA256 is the dump file's SHA-256, hex.
	SHA256 string `json:"sha256"`
	// Database is the backed-up database's name (never its URL).
	Database string `json:"database"`
	// ServerVersion is the PostgreSQL server's version.
	ServerVersion string `json:"server_version"`
	// SchemaVersion is the current version in the migration history table;
	// empty when the database has none.
	SchemaVersion string `json:"schema_version"`
	// AppRevision is what the caller named (a release, a commit); may be empty.
	AppRevision string `json:"app_revision"`
	// TableRows is the row count of every table, keyed "schema.table".
	TableRows map[string]int64 `json:"table_rows"`
}

// Duration returns how long the dump took.
func (m *Manifest) Duration() time.Duration {
	return time.Duration(m.DurationMillis) * time.Millisecond
}
