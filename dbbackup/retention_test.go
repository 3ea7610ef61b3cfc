package dbbackup

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeBackups writes one small backup per age (in days) and returns the
// store and the time they are aged against.
func fakeBackups(t *testing.T, ages ...int) (*Store, time.Time) {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	for _, d := range ages {
		at := now.Add(-time.Duration(d) * 24 * time.Hour)
		m := &Manifest{ID: newID(at), CreatedAt: at, Format: "custom"}
		m.File = m.ID + ".dump"
		if err := os.WriteFile(filepath.Join(s.Dir, m.File), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.writeManifest(m); err != nil {
			t.Fatal(err)
		}
	}
	return s, now
}

func ageDays(now time.Time, ms []*Manifest) string {
	var out []string
	for _, m := range ms {
		out = append(out, strconv.Itoa(int(now.Sub(m.CreatedAt).Hours()/24)))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestStore_Prune(t *testing.T) {
	ages := []int{1, 10, 29, 31, 40, 60}
	for _, tc := range []struct {
		name        string
		ages        []int
		policy      Retention
		wantRemoved string // ages in days, sorted as strings
		wantLeft    int
	}{
		{"30 days", ages, DefaultRetention, "31,40,60", 3},
		{"30 days or last 5", ages, Retention{MaxAge: DefaultMaxAge, KeepLast: 5}, "60", 5},
		{"last 2 only", ages, Retention{KeepLast: 2}, "29,31,40,60", 2},
		{"all too old keeps the newest", []int{45, 50}, DefaultRetention, "50", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, now := fakeBackups(t, tc.ages...)
			removed, err := s.Prune(tc.policy, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := ageDays(now, removed); got != tc.wantRemoved {
				t.Errorf("removed ages %s, want %s", got, tc.wantRemoved)
			}
			left, _ := s.List()
			if len(left) != tc.wantLeft {
				t.Errorf("%d left, want %d", len(left), tc.wantLeft)
			}
			files, _ := filepath.Glob(filepath.Join(s.Dir, "*"))
			if len(files) != 2*tc.wantLeft {
				t.Errorf("%d files left, want %d (dump and manifest per backup)", len(files), 2*tc.wantLeft)
			}
		})
	}
	s, now := fakeBackups(t, 1)
	if _, err := s.Prune(Retention{}, now); err == nil {
		t.Error("Prune with a zero policy = nil error, want one")
	}
}
