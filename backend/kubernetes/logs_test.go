package kubernetes

import (
	"bytes"
	"strings"
	"testing"
)

func TestTailBuffer_Write(t *testing.T) {
	for _, tt := range []struct {
		name   string
		writes []string
		n      int
		want   string
	}{
		{"shorter than the tail", []string{"ab", "c"}, 5, "abc"},
		{"exactly the tail", []string{"abcde"}, 5, "abcde"},
		{"many small writes", strings.Split("the quick brown fox jumps", ""), 5, "jumps"},
		{"one write larger than the buffer", []string{"ab", strings.Repeat("x", 20) + "end"}, 4, "xend"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb := &tailBuffer{n: tt.n}
			for _, w := range tt.writes {
				if n, err := tb.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := string(tb.bytes()); got != tt.want {
				t.Errorf("tail = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTailBuffer_bounded: a log far larger than the tail never grows the
// buffer beyond twice the tail plus one write.
func TestTailBuffer_bounded(t *testing.T) {
	tb := &tailBuffer{n: 1000}
	line := []byte(strings.Repeat("y", 99) + "\n")
	for range 100_000 { // 10 MB of log
		tb.Write(line)
		if len(tb.buf) > 2*1000+len(line) {
			t.Fatalf("buffer holds %d bytes for a tail of 1000", len(tb.buf))
		}
	}
	if got := tb.bytes(); len(got) != 1000 || !bytes.HasSuffix(got, line) {
		t.Errorf("tail of %d bytes ending %q; want 1000 ending with a whole line", len(got), got[len(got)-10:])
	}
}
