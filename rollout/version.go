package rollout

import (
	"fmt"
	"strings"
)

// MaxVersionLen is the longest version a deploy accepts, in bytes.
//
// The grammar of a version: 1 to 128 characters, each an ASCII letter or
// digit or one of . _ - + = , (the comma separates the sample workload's
// knobs, as in v2+errors=0.05,latency=200ms), not starting with . or -.
const MaxVersionLen = 128

// CheckVersion reports whether v is a version gantry can deploy: 1 to
// MaxVersionLen characters, each an ASCII letter or digit or one of
// . _ - + = , (so "v1.4.0", "2026-11-28_3", "v2+errors=0.05" and a git SHA
// are versions; a space, a path separator, a NUL byte or any other
// character is not), not starting with "." or "-". The error wraps
// ErrInvalid and says what to change.
func CheckVersion(v string) error {
	if v == "" {
		return fmt.Errorf("%w: version is empty: pass --version, such as --version v1.2.3", ErrInvalid)
	}
	if len(v) > MaxVersionLen {
		return fmt.Errorf("%w: version is %d characters long; a version has at most %d (letters, digits and . _ - + = ,)",
			ErrInvalid, len(v), MaxVersionLen)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !versionByte(c) {
			return fmt.Errorf("%w: version %s has %s at character %d; a version holds only letters, digits and . _ - + = , (such as v1.4.0 or v2+errors=0.05)",
				ErrInvalid, shortQuote(v), describeByte(c), i+1)
		}
	}
	if v[0] == '.' || v[0] == '-' {
		return fmt.Errorf("%w: version %q starts with %q; start it with a letter, digit, _, + or =", ErrInvalid, v, v[:1])
	}
	return nil
}

func versionByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("._-+=,", c) >= 0
}

// describeByte names a refused character for an error message.
func describeByte(c byte) string {
	switch c {
	case ' ':
		return "a space"
	case '/', '\\':
		return fmt.Sprintf("a path separator %q", c)
	case 0:
		return "a NUL byte"
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("the byte 0x%02x", c)
	}
	return fmt.Sprintf("%q", c)
}

// shortQuote quotes v, cut to 40 bytes so an error stays one line.
func shortQuote(v string) string {
	if len(v) > 40 {
		return fmt.Sprintf("%q…", v[:40])
	}
	return fmt.Sprintf("%q", v)
}
