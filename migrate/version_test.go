package migrate

import (
	"sort"
	"testing"
)

func TestVersion_Compare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1", "2", -1},
		{"1.1", "1.10", -1},
		{"1.10", "2", -1},
		{"1.2", "1.10", -1},
		{"1.0", "1", 0},
		{"1_1", "1.1", 0},
		{"1.1.0.0", "1.1", 0},
		{"010", "10", 0},
		{"20240501120000", "20240501120001", -1},
		{"99999999999999999999999", "99999999999999999999998", 1},
		{"2", "1.999", 1},
	} {
		t.Run(tc.a+"_vs_"+tc.b, func(t *testing.T) {
			if got := MustParseVersion(tc.a).Compare(MustParseVersion(tc.b)); got != tc.want {
				t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestVersion_Sort(t *testing.T) {
	in := []string{"2", "1.10", "1.1", "1.2", "1", "10", "1.1.1"}
	want := []string{"1", "1.1", "1.1.1", "1.2", "1.10", "2", "10"}
	vs := make([]Version, len(in))
	for i, s := range in {
		vs[i] = MustParseVersion(s)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Compare(vs[j]) < 0 })
	for i := range want {
		if vs[i].String() != want[i] {
			t.Fatalf("sorted = %v, want %v", vs, want)
		}
	}
}

func TestParseVersion_Errors(t *testing.T) {
	for _, s := range []string{"", "1..2", "1.a", "v1", "1-2", "1."} {
		if _, err := ParseVersion(s); err == nil {
			t.Errorf("ParseVersion(%q) = nil error, want one", s)
		}
	}
}

func TestVersion_Follows(t *testing.T) {
	for _, tc := range []struct {
		prev, v string
		want    bool
	}{
		{"1", "2", true},
		{"1", "1.1", true},
		{"1.9", "2", true},
		{"1.2", "1.2.1", true},
		{"1.1", "1.2", true},
		{"2", "4", false},
		{"1.1", "1.3", false},
		{"1", "3.1", false},
		{"2", "2", false},
	} {
		if got := MustParseVersion(tc.v).Follows(MustParseVersion(tc.prev)); got != tc.want {
			t.Errorf("%s.Follows(%s) = %v, want %v", tc.v, tc.prev, got, tc.want)
		}
	}
}
