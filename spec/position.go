package spec

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"
)

var unknownAnchor = regexp.MustCompile(`unknown anchor '(.+)' referenced`)

// locate finds the line and column of a YAML error whose message names
// none: the alias of an unknown anchor, the first byte the YAML reader
// refuses (invalid UTF-8, a control character), or else line 1, where the
// YAML library leaves the line out of its parser's and scanner's errors.
// The column is 0 (unknown) for the last case.
func locate(data []byte, msg string) (line, col int) {
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		if off := aliasOffset(data, m[1]); off >= 0 {
			return lineCol(data, off)
		}
	}
	if strings.Contains(msg, "UTF-8") || strings.Contains(msg, "Unicode") || strings.Contains(msg, "control character") {
		if off := badByteOffset(data); off >= 0 {
			return lineCol(data, off)
		}
	}
	return 1, 0
}

// aliasOffset returns the offset of the first alias "*name" in data, -1 when none.
func aliasOffset(data []byte, name string) int {
	alias := []byte("*" + name)
	for from := 0; ; {
		i := bytes.Index(data[from:], alias)
		if i < 0 {
			return -1
		}
		end := from + i + len(alias)
		if end == len(data) || strings.IndexByte(" \t\r\n,]}", data[end]) >= 0 {
			return from + i
		}
		from = end
	}
}

// badByteOffset returns the offset of the first byte YAML does not allow
// in a document: invalid UTF-8, or a character outside YAML's printable
// set (C0 controls but tab, LF and CR; DEL; C1 controls but NEL;
// surrogates; U+FFFE and U+FFFF). -1 when there is none.
func badByteOffset(data []byte) int {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size <= 1 {
			return off
		}
		if !printable(r) && !(off == 0 && r == '\uFEFF') {
			return off
		}
		off += size
	}
	return -1
}

// printable reports whether YAML 1.2 allows r in a document.
func printable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// lineCol turns a byte offset into a 1-based line and column (in characters).
func lineCol(data []byte, off int) (line, col int) {
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}
