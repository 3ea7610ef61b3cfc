package spec

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem in a gantry.yaml document.
type FieldError struct {
	// File is the file name as given to Parse; empty when the App did not
	// come from a file (App.Validate).
	File string `json:"file,omitempty"`
	// Line and Column are 1-based; 0 means unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Path is the field path, such as spec.strategy.rollingUpdate.maxSurge or
	// environments[1].proxy.listen; empty for document-level problems.
	Path string `json:"path,omitempty"`
	// Message says what is wrong and how to fix it.
	Message string `json:"message"`
}

// Error renders "file:line:column: path: message", leaving out what is unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList is every problem found in one document, in document order.
// Parse and App.Validate return it as their error; use errors.As to get it.
type ErrorList []*FieldError

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sort orders the list by position; errors without a position keep their
// relative order and come last.
func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if (a.Line == 0) != (b.Line == 0) {
			return a.Line != 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// err returns the list as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}
