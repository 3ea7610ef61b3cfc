package pgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// findBinDir returns the directory holding initdb and postgres: the one on
// PATH, else the newest /usr/lib/postgresql/*/bin.
func findBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Debian links /usr/local/bin/initdb and friends into the versioned
		// directory; follow the link so postgres is found beside it.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir := filepath.Dir(p); hasPrograms(dir) {
			return dir, nil
		}
		if q, err := exec.LookPath("postgres"); err == nil && hasPrograms(filepath.Dir(q)) {
			return filepath.Dir(q), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if hasPrograms(d) {
			return d, nil
		}
	}
	return "", errNoBinaries
}

func hasPrograms(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// majorOf reads the version from /usr/lib/postgresql/VERSION/bin; 0 when
// it is not a number.
func majorOf(dir string) int {
	v := filepath.Base(filepath.Dir(dir))
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}
