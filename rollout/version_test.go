package rollout

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	good := []string{"v1", "v1.4.0", "2026-11-28_3", "v2+errors=0.05,latency=200ms", "0fe15d2", strings.Repeat("a", MaxVersionLen), "_x", "+x"}
	for _, v := range good {
		if err := CheckVersion(v); err != nil {
			t.Errorf("CheckVersion(%q) = %v, want nil", v, err)
		}
	}
	bad := []struct{ v, says string }{
		{"", "empty"},
		{"v9 beta", "a space at character 3"},
		{"../../etc/passwd", "a path separator '/' at character 3"},
		{".hidden", `starts with "."`},
		{"v1/../x", "path separator '/'"},
		{`v1\x`, `path separator '\\'`},
		{"v1\x00", "a NUL byte at character 3"},
		{"v1\n", "the byte 0x0a"},
		{"v1é", "the byte 0xc3"},
		{"v1;rm", "';'"},
		{"-rf", `starts with "-"`},
		{strings.Repeat("a", MaxVersionLen+1), "129 characters long; a version has at most 128"},
		{strings.Repeat("a", 500<<10), "512000 characters long"},
	}
	for _, tt := range bad {
		err := CheckVersion(tt.v)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("CheckVersion(%.20q) = %v, want ErrInvalid saying %q", tt.v, err, tt.says)
		}
		if err != nil && len(err.Error()) > 300 {
			t.Errorf("CheckVersion(%.20q): error of %d bytes; it should stay short", tt.v, len(err.Error()))
		}
	}
}
