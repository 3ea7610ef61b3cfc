package activeusers

import (
	"strings"
	"testing"
)

// testSeed is the tests' installation seed.
var testSeed = mustSeed("000102030405060708090a0b0c0d0e0f")

func mustSeed(hexKey string) Seed {
	var s Seed
	if err := s.UnmarshalText([]byte(hexKey)); err != nil {
		panic(err)
	}
	return s
}

// TestSeed: a seed round-trips through its text; seeds differ and hash
// a user differently (a sketch of one seed does not merge with another's);
// its String does not disclose it; bad text is refused with the reason.
func TestSeed(t *testing.T) {
	a, err := NewSeed()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSeed()
	if a == b || a.IsZero() {
		t.Fatalf("two new seeds %v %v", a, b)
	}
	text, _ := a.MarshalText()
	var back Seed
	if err := back.UnmarshalText(text); err != nil || back != a {
		t.Fatalf("seed %s read back as %v: %v", text, back, err)
	}
	id := []byte("session-42")
	if a.Hash(id) != back.Hash(id) || a.Hash(id) == b.Hash(id) {
		t.Error("one seed hashes alike, two seeds alike")
	}
	if strings.Contains(a.String(), string(text)) || strings.Contains(a.String(), string(text[:8])) {
		t.Errorf("String discloses the seed: %s", a)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("z", 32)} {
		if err := back.UnmarshalText([]byte(bad)); err == nil || !strings.Contains(err.Error(), "seed") {
			t.Errorf("UnmarshalText(%q): %v", bad, err)
		}
	}
}
