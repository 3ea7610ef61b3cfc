package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseFile reads and parses the gantry.yaml at path; errors name the file
// as path. See Parse.
func ParseFile(path string) (*App, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read app spec: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates one gantry.yaml document. filename is used
// in error positions only. It reports every problem at once as an
// ErrorList (use errors.As), each with file, line, column and field path:
// YAML syntax, more than one document, unknown fields, duplicate keys,
// wrong types, out-of-range values and impossible combinations. On success
// the quantities' MemoryBytes and CPUMillis are filled; defaults are not
// set (see App.Resolve).
func Parse(filename string, data []byte) (*App, error) {
	return ParseWith(filename, data, ParseOptions{})
}

// ParseOptions adapt Parse to where the spec will run.
type ParseOptions struct {
	// Backends are the names environments[].backend may take (an
	// environment without one uses BackendLocal), such as the backends a
	// server has registered. Nil: every backend gantry knows (BackendLocal,
	// BackendKubernetes).
	Backends []string
}

// ParseWith is Parse with options.
func ParseWith(filename string, data []byte, o ParseOptions) (*App, error) {
	root, errs := readDocument(filename, data)
	if errs != nil {
		return nil, errs.err()
	}
	d := newDecoder(filename)
	var app App
	d.decode(root, reflect.ValueOf(&app).Elem(), "")
	v := &validator{file: filename, pos: d.pos, bad: d.bad, errs: d.errs, backends: o.Backends}
	v.app(&app)
	if err := v.errs.err(); err != nil {
		return nil, err
	}
	return &app, nil
}

// readDocument returns the content of the one YAML document in data.
func readDocument(filename string, data []byte) (*yaml.Node, ErrorList) {
	at := func(line, col int, format string, args ...any) ErrorList {
		return ErrorList{{File: filename, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, at(1, 1, "empty file; a gantry.yaml starts with apiVersion: %s and kind: %s", APIVersion, KindApp)
		}
		return nil, syntaxError(filename, data, err)
	}
	for {
		// Further documents are an error, except empty ones (a trailing "---").
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(filename, data, err)
		}
		if len(next.Content) > 0 && next.Content[0].ShortTag() != "!!null" {
			return nil, at(next.Content[0].Line, 1, "a second YAML document starts here; a gantry.yaml holds exactly one App, so remove the extra '---' and what follows")
		}
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		return nil, at(1, 1, "empty document; a gantry.yaml starts with apiVersion: %s and kind: %s", APIVersion, KindApp)
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML parser error into a positioned FieldError.
func syntaxError(filename string, data []byte, err error) ErrorList {
	msg := err.Error()
	fe := &FieldError{File: filename, Message: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		// The YAML library leaves the line out of errors on the first line,
		// of its reader (bad bytes) and of its composer (unknown anchors).
		fe.Line, fe.Column = locate(data, fe.Message)
		return ErrorList{fe}
	}
	fe.Line, _ = strconv.Atoi(m[1])
	fe.Message = "YAML syntax: " + m[2]
	if parserProblem(m[2]) {
		// The YAML parser (unlike its scanner) counts lines from 0.
		fe.Line++
	}
	return ErrorList{fe}
}

// parserProblem says whether a YAML error comes from the parser stage,
// whose problems all read "did not find expected ..." or "found ...
// directive/handle/document".
func parserProblem(msg string) bool {
	for _, p := range []string{
		"did not find expected ',' or ", "did not find expected '-' indicator",
		"did not find expected <", "did not find expected key", "did not find expected node content",
		"found duplicate %", "found incompatible YAML document", "found undefined tag handle",
	} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
