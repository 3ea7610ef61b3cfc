package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// osUser is the account initdb and postgres run as when the test runs as
// root, since both refuse to run as root.
const osUser = "postgres"

// runAs returns the credential to run PostgreSQL's programs with: nil (the
// current user) unless running as root, then the postgres OS user's.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(osUser)
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to run as root, but there is no %q OS user to run it as (%v); create one, for example `useradd --system %s`, or run the tests as another user", osUser, err, osUser)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %w", osUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %w", osUser, u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// prepareDirs creates dataDir inside dir, owned by whoever runs PostgreSQL.
// As root, it opens dir and its parent (t.TempDir's, mode 0700) for
// traversal so the postgres user can reach dataDir.
func prepareDirs(cred *syscall.Credential, dir, dataDir string) error {
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return fmt.Errorf("make data directory: %w", err)
	}
	if cred == nil {
		return nil
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			return fmt.Errorf("let %s reach %s: %w", osUser, d, err)
		}
	}
	return chown(cred, dataDir)
}

func chown(cred *syscall.Credential, path string) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, osUser, err)
	}
	return nil
}
