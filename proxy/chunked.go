package proxy

import (
	"bufio"
	"errors"
)

// Bounds on the framing of a chunked body. nginx and net/http bound them
// alike; a peer that needs more is not sending HTTP anyone else accepts.
const (
	maxChunkLine   = 4096     // one chunk-size line with its extensions, or one trailer line
	maxTrailers    = 16 << 10 // the whole trailer section
	maxChunkDigits = 15       // hexadecimal digits of a chunk size (below 2^60)
)

var errChunk = errors.New("malformed chunked body")

func chunkErr() error { return &copyError{read: true, err: errChunk} }

// copyChunked reads a chunked body from src strictly by the grammar of RFC
// 9112 §7.1 and writes it to dst in canonical form: each chunk as its size
// in lower-case hexadecimal, CRLF, the data, CRLF; then "0" CRLF CRLF.
// Chunk extensions and trailer fields are checked and dropped, so nothing
// of the sender's framing reaches dst. With decode true only the data is
// written (for HTTP/1.0 clients).
//
// It fails with errChunk (as a read error) on a line ending in a bare LF or
// holding a stray CR, a size that is not 1 to 15 hexadecimal digits, an
// extension that is not ";" token ["=" (token / quoted-string)], a trailer
// line that is not a valid field line, a line over maxChunkLine bytes or a
// trailer section over maxTrailers bytes.
func copyChunked(dst *bufio.Writer, src *bufio.Reader, decode bool) error {
	for {
		line, err := chunkLine(dst, src)
		if err != nil {
			return err
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return chunkErr()
		}
		if size == 0 {
			if err := skipTrailers(dst, src); err != nil {
				return err
			}
			if !decode {
				dst.WriteString("0\r\n\r\n")
			}
			return nil
		}
		if !decode {
			writeHex(dst, size)
			dst.WriteString("\r\n")
		}
		if err := copyLength(dst, src, size); err != nil {
			return err
		}
		if line, err = chunkLine(dst, src); err != nil {
			return err
		}
		if len(line) != 0 { // the data must end in CRLF
			return chunkErr()
		}
		if !decode {
			dst.WriteString("\r\n")
		}
	}
}

// skipTrailers reads and checks the trailer section and the blank line that
// ends the body.
func skipTrailers(dst *bufio.Writer, src *bufio.Reader) error {
	total := 0
	for {
		line, err := chunkLine(dst, src)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		if total += len(line) + 2; total > maxTrailers {
			return chunkErr()
		}
		if line[0] == ' ' || line[0] == '\t' {
			return chunkErr()
		}
		if _, _, ok := splitHeader(line); !ok {
			return chunkErr()
		}
	}
}

// chunkLine reads one line of chunked framing, which must end in CRLF and
// hold no other CR, and returns it without the CRLF. The slice is valid
// until the next read from src.
func chunkLine(dst *bufio.Writer, src *bufio.Reader) ([]byte, error) {
	if err := fill(dst, src); err != nil {
		return nil, err
	}
	line, err := src.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, chunkErr()
	}
	if err != nil {
		return nil, readErr(err)
	}
	n := len(line)
	if n < 2 || line[n-2] != '\r' || n-2 > maxChunkLine {
		return nil, chunkErr()
	}
	line = line[:n-2]
	for _, c := range line {
		if c == '\r' || c == 0 {
			return nil, chunkErr()
		}
	}
	return line, nil
}

// parseChunkSize parses a chunk-size line without its CRLF: hexadecimal
// digits, then chunk extensions, which are checked and ignored.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line) && isHexDigit(line[i]); i++ {
		if i == maxChunkDigits {
			return 0, false
		}
		n = n<<4 | int64(unhex(line[i]))
	}
	if i == 0 {
		return 0, false
	}
	return n, validChunkExt(line[i:])
}

// validChunkExt reports whether b is a list of chunk extensions:
// *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ), with
// trailing whitespace tolerated.
func validChunkExt(b []byte) bool {
	for {
		b = skipWS(b)
		if len(b) == 0 {
			return true
		}
		if b[0] != ';' {
			return false
		}
		b = skipWS(b[1:])
		n := tokenLen(b)
		if n == 0 {
			return false
		}
		b = skipWS(b[n:])
		if len(b) == 0 || b[0] != '=' {
			continue
		}
		b = skipWS(b[1:])
		if n = quotedStringEnd(b); n < 0 {
			n = tokenLen(b)
		}
		if n <= 0 {
			return false
		}
		b = b[n:]
	}
}

func skipWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// tokenLen returns the length of the token at the start of b.
func tokenLen(b []byte) int {
	n := 0
	for n < len(b) && isTokenChar(b[n]) {
		n++
	}
	return n
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// writeHex writes n > 0 in lower-case hexadecimal without allocating.
func writeHex(w *bufio.Writer, n int64) {
	const digits = "0123456789abcdef"
	shift := 60
	for shift > 0 && n>>shift == 0 {
		shift -= 4
	}
	for ; shift >= 0; shift -= 4 {
		w.WriteByte(digits[n>>shift&0xf])
	}
}
