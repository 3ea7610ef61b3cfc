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
