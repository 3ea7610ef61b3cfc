package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Set is the migrations found in the locations, sorted: versioned by
// version, undo by version, repeatable by description.
type Set struct {
	Versioned  []*Script
	Undo       []*Script
	Repeatable []*Script
}

// UndoFor returns the undo script of version v, or nil.
func (s *Set) UndoFor(v Version) *Script {
	for _, u := range s.Undo {
		if u.Version.Compare(v) == 0 {
			return u
		}
	}
	return nil
}

// ErrBadName is wrapped by the errors Load returns for a malformed file name.
var ErrBadName = errors.New("malformed migration name")

// ErrDuplicate is wrapped by the errors Load returns when two files claim
// one version (or one description, for repeatable migrations).
var ErrDuplicate = errors.New("duplicate migration")

// Load reads every *.sql file under the location directories (recursively,
// as Flyway does) and checks their names. Files with other suffixes are
// ignored. It fails, listing every problem, when a .sql file's name is
// malformed or two files claim the same version (1.1, 1_1 and 1.1.0 are the
// same version) or the same repeatable description, or when a location does
// not exist.
func Load(locations []string) (*Set, error) {
	set := &Set{}
	var errs []error
	for _, loc := range locations {
		info, err := os.Stat(loc)
		if err != nil {
			return nil, fmt.Errorf("migration location %s: %w (set --locations to the directory holding V*__*.sql files)", loc, err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("migration location %s is not a directory", loc)
		}
		err = filepath.WalkDir(loc, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(d.Name(), ".sql") {
				return nil
			}
			kind, ver, desc, err := ParseName(d.Name())
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, errors.Join(ErrBadName, err)))
				return nil
			}
			content, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(loc, path)
			s := &Script{Kind: kind, Version: ver, Description: desc, Name: filepath.ToSlash(rel),
				Path: path, Checksum: Checksum(content), SQL: string(bytes.TrimPrefix(content, bom))}
			if err := classify(s); err != nil {
				errs = append(errs, err)
				return nil
			}
			switch kind {
			case Versioned:
				set.Versioned = append(set.Versioned, s)
			case Undo:
				set.Undo = append(set.Undo, s)
			case Repeatable:
				set.Repeatable = append(set.Repeatable, s)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read migration location %s: %w", loc, err)
		}
	}
	byVersion := func(l []*Script) {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Version.Compare(l[j].Version) < 0 })
	}
	byVersion(set.Versioned)
	byVersion(set.Undo)
	sort.SliceStable(set.Repeatable, func(i, j int) bool { return set.Repeatable[i].Description < set.Repeatable[j].Description })
	for _, l := range [][]*Script{set.Versioned, set.Undo} {
		for i := 1; i < len(l); i++ {
			if l[i].Version.Compare(l[i-1].Version) == 0 {
				errs = append(errs, fmt.Errorf("%w: %s and %s both have version %s; give one of them another version",
					ErrDuplicate, l[i-1].Path, l[i].Path, l[i].Version))
			}
		}
	}
	for i := 1; i < len(set.Repeatable); i++ {
		a, b := set.Repeatable[i-1], set.Repeatable[i]
		if a.Description == b.Description {
			errs = append(errs, fmt.Errorf("%w: %s and %s are both repeatable migration %q; rename one of them",
				ErrDuplicate, a.Path, b.Path, b.Description))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// classify marks a script non-transactional when it holds statements that
// cannot run in a transaction block, and refuses files that mix those with
// ordinary statements (Flyway refuses them too): half of such a file could
// be committed and half not.
func classify(s *Script) error {
	var nonTx, tx []string
	for _, st := range SplitStatements(s.SQL) {
		if what, ok := st.NonTransactional(); ok {
			nonTx = append(nonTx, fmt.Sprintf("%s (line %d)", what, st.Line))
		} else {
			tx = append(tx, fmt.Sprintf("line %d", st.Line))
		}
	}
	if len(nonTx) == 0 {
		return nil
	}
	if len(tx) > 0 {
		return fmt.Errorf("%s: mixes statements that cannot run in a transaction (%s) with ones that can (%s); "+
			"move the %s into a migration file of its own",
			s.Path, strings.Join(nonTx, ", "), strings.Join(tx, ", "), strings.Join(nonTx, ", "))
	}
	s.NonTransactional = true
	return nil
}
