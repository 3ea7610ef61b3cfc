package proxy

import (
	"bufio"
	"errors"
	"io"
)

// A body copy fails on one side or the other; the caller needs to know which
// (a client that went away is not an upstream failure).
type copyError struct {
	read bool // the source failed (or sent a malformed body); else the destination
	err  error
}

func (e *copyError) Error() string { return e.err.Error() }
func (e *copyError) Unwrap() error { return e.err }

func readErr(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &copyError{read: true, err: err}
}

func writeErr(err error) error { return &copyError{err: err} }

// isReadErr reports whether err is a body copy error on the source side.
func isReadErr(err error) bool {
	var ce *copyError
	return errors.As(err, &ce) && ce.read
}

// fill makes sure src has buffered bytes, flushing dst first when reading
// would block, so a streamed body reaches its destination as it arrives.
func fill(dst *bufio.Writer, src *bufio.Reader) error {
	if src.Buffered() > 0 {
		return nil
	}
	if dst.Buffered() > 0 {
		if err := dst.Flush(); err != nil {
			return writeErr(err)
		}
	}
	if _, err := src.Peek(1); err != nil {
		return readErr(err)
	}
	return nil
}

// copyLength copies exactly n bytes from src to dst.
func copyLength(dst *bufio.Writer, src *bufio.Reader, n int64) error {
	for n > 0 {
		if err := fill(dst, src); err != nil {
			return err
		}
		b, _ := src.Peek(int(min(int64(src.Buffered()), n)))
		if _, err := dst.Write(b); err != nil {
			return writeErr(err)
		}
		src.Discard(len(b))
		n -= int64(len(b))
	}
	return nil
}

// copyUntilEOF copies src to dst until src ends (a close-delimited body).
func copyUntilEOF(dst *bufio.Writer, src *bufio.Reader) error {
	for {
		if err := fill(dst, src); err != nil {
			if isReadErr(err) && errors.Is(err, io.ErrUnexpectedEOF) {
				return nil // EOF is this body's end
			}
			return err
		}
		b, _ := src.Peek(src.Buffered())
		if _, err := dst.Write(b); err != nil {
			return writeErr(err)
		}
		src.Discard(len(b))
	}
}

var errChunk = errors.New("malformed chunked body")

// copyChunked copies a chunked body from src to dst. With decode false the
// chunked framing (and trailers) pass through unchanged; with decode true
// only the data is written (for HTTP/1.0 clients) and trailers are dropped.
func copyChunked(dst *bufio.Writer, src *bufio.Reader, decode bool) error {
	for {
		line, err := chunkLine(dst, src)
		if err != nil {
			return err
		}
		size, ok := chunkSize(line)
		if !ok {
			return &copyError{read: true, err: errChunk}
		}
		if !decode {
			if _, err := dst.Write(line); err != nil {
				return writeErr(err)
			}
		}
		if size == 0 {
			return copyTrailers(dst, src, decode)
		}
		if err := copyLength(dst, src, size); err != nil {
			return err
		}
		line, err = chunkLine(dst, src)
		if err != nil {
			return err
		}
		if len(trimEOL(line)) != 0 {
			return &copyError{read: true, err: errChunk}
		}
		if !decode {
			if _, err := dst.Write(line); err != nil {
				return writeErr(err)
			}
		}
	}
}

// copyTrailers copies the trailer section and the final blank line.
func copyTrailers(dst *bufio.Writer, src *bufio.Reader, decode bool) error {
	for {
		line, err := chunkLine(dst, src)
		if err != nil {
			return err
		}
		if !decode {
			if _, err := dst.Write(line); err != nil {
				return writeErr(err)
			}
		}
		if len(trimEOL(line)) == 0 {
			return nil
		}
	}
}

// chunkLine reads one line (with its ending) of chunked framing. The slice
// is valid until the next read from src.
func chunkLine(dst *bufio.Writer, src *bufio.Reader) ([]byte, error) {
	if err := fill(dst, src); err != nil {
		return nil, err
	}
	line, err := src.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, &copyError{read: true, err: errChunk}
	}
	if err != nil {
		return nil, readErr(err)
	}
	return line, nil
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// chunkSize parses the hexadecimal size at the start of a chunk-size line,
// ignoring chunk extensions.
func chunkSize(line []byte) (int64, bool) {
	line = trimEOL(line)
	var n int64
	digits := 0
	for _, c := range line {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c == ';' || c == ' ' || c == '\t':
			return n, digits > 0
		default:
			return 0, false
		}
		if digits++; digits > 15 {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, digits > 0
}
