package migrate

import (
	"testing"
)

func scriptSet(versions ...string) *Set {
	s := &Set{}
	for _, v := range versions {
		s.Versioned = append(s.Versioned, &Script{Kind: Versioned, Version: MustParseVersion(v), Name: "V" + v + "__x.sql", Path: "V" + v + "__x.sql"})
	}
	return s
}

func TestPlan_Gaps(t *testing.T) {
	set := scriptSet("1", "1.1", "2", "4", "4.1", "4.3")
	info := Plan(set, nil, PlanOptions{})
	var got []string
	for _, g := range info.Gaps {
		got = append(got, g.After.String()+"->"+g.Before.String())
	}
	if want := []string{"2->4", "4.1->4.3"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("gaps = %v, want %v", got, want)
	}
	for _, p := range info.Problems {
		if p.Kind == VersionGap {
			t.Errorf("gap reported as a problem without FailOnGaps: %v", p)
		}
	}
	info = Plan(set, nil, PlanOptions{FailOnGaps: true})
	n := 0
	for _, p := range info.Problems {
		if p.Kind == VersionGap {
			n++
		}
	}
	if n != 2 {
		t.Errorf("FailOnGaps: %d gap problems, want 2", n)
	}
}

func TestPlan_States(t *testing.T) {
	ck := func(n int32) *int32 { return &n }
	set := scriptSet("1", "2", "3", "5")
	rows := []Applied{
		{Rank: 1, Version: MustParseVersion("1"), Type: TypeSQL, Success: true, Checksum: ck(0)},
		{Rank: 2, Version: MustParseVersion("3"), Type: TypeSQL, Success: true, Checksum: ck(0)},
		{Rank: 3, Version: MustParseVersion("2.5"), Type: TypeSQL, Success: true, Checksum: ck(0)},
		{Rank: 4, Version: MustParseVersion("9"), Type: TypeSQL, Success: false, Checksum: ck(0)},
	}
	info := Plan(set, rows, PlanOptions{Target: MustParseVersion("4")})
	got := states(info)
	want := "1=Success 3=Success 2.5=Missing 9=Missing failed 2=Ignored 5=Above target"
	if got != want {
		t.Errorf("states = %s\nwant %s", got, want)
	}
	if info.Current.String() != "3" {
		t.Errorf("current = %s, want 3", info.Current)
	}
	rows[3].Success = true
	if got := states(Plan(set, rows, PlanOptions{OutOfOrder: true})); got != "1=Success 3=Success 2.5=Missing 9=Future 2=Pending 5=Pending" {
		t.Errorf("with out-of-order: %s", got)
	}
}
