package migrate

import (
	"fmt"
	"strings"
)

// Kind is what a migration file does.
type Kind int

// Migration kinds, from the file name's prefix.
const (
	// Versioned (V<version>__<description>.sql) runs once, in version order.
	Versioned Kind = iota + 1
	// Undo (U<version>__<description>.sql) reverses the versioned migration
	// of the same version.
	Undo
	// Repeatable (R__<description>.sql) runs after the versioned ones, and
	// again whenever its checksum changes.
	Repeatable
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Versioned:
		return "Versioned"
	case Undo:
		return "Undo"
	case Repeatable:
		return "Repeatable"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// NamePattern describes the file names migrate accepts; errors quote it.
const NamePattern = "V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql " +
	"(version: numbers separated by dots or underscores; two underscores before the description)"

// Script is one migration file found in a location.
type Script struct {
	Kind        Kind
	Version     Version // zero for Repeatable
	Description string  // from the name, underscores turned into spaces
	// Name is the path relative to its location, with forward slashes; it is
	// what the history table's script column records (Flyway does the same).
	Name string
	// Path is where the file was read from.
	Path     string
	Checksum int32
	SQL      string
	// NonTransactional is set when the file holds statements PostgreSQL will
	// not run inside a transaction block; see NonTransactionalStatement.
	NonTransactional bool
}

// ParseName reads a migration's kind, version and description from its file
// name (the base name, e.g. "V1.1__Add_users.sql").
func ParseName(base string) (Kind, Version, string, error) {
	bad := func(why string) error {
		return fmt.Errorf("malformed migration name %q: %s; want %s", base, why, NamePattern)
	}
	stem, ok := strings.CutSuffix(base, ".sql")
	if !ok {
		return 0, Version{}, "", bad("no .sql suffix")
	}
	var kind Kind
	switch {
	case strings.HasPrefix(stem, "V"):
		kind = Versioned
	case strings.HasPrefix(stem, "U"):
		kind = Undo
	case strings.HasPrefix(stem, "R"):
		kind = Repeatable
	default:
		return 0, Version{}, "", bad("it must start with V, U or R")
	}
	ver, desc, ok := strings.Cut(stem[1:], "__")
	if !ok {
		return 0, Version{}, "", bad(`no "__" between version and description`)
	}
	desc = strings.ReplaceAll(desc, "_", " ")
	if kind == Repeatable {
		if ver != "" {
			return 0, Version{}, "", bad("a repeatable migration has no version")
		}
		if strings.TrimSpace(desc) == "" {
			return 0, Version{}, "", bad("a repeatable migration needs a description")
		}
		return kind, Version{}, desc, nil
	}
	if ver == "" {
		return 0, Version{}, "", bad("no version after " + stem[:1])
	}
	v, err := ParseVersion(ver)
	if err != nil {
		return 0, Version{}, "", bad(err.Error())
	}
	return kind, v, desc, nil
}
