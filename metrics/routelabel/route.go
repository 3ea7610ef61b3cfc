// Package routelabel maps request paths to route templates, the bounded label
// gantry's per-route metrics carry instead of raw paths.
//
// A template is an absolute path whose segments are literals, "{name}"
// (exactly one non-empty segment) or, as the last segment only,
// "{name...}" (the rest of the path, possibly empty): "/users/{id}",
// "/static/{file...}". A path takes the most specific template that
// matches it, segment by segment (a literal before {name}, {name} before
// {name...}); a path no template matches is labelled Other. The label's
// values are therefore the templates themselves plus Other: at most
// MaxTemplates+1 per environment, whatever the clients send.
package routelabel

import (
	"bytes"
	"fmt"
	"strings"
)

// Other is the label of paths no template matches.
const Other = "other"

// MaxTemplates is the most templates an environment may declare, and the
// most distinct route labels the proxy keeps per environment (templates
// changed by later specs included); beyond it new templates are dropped
// and their requests counted under Other.
const MaxTemplates = 100

// segment kinds.
const (
	literal = iota
	param   // {name}
	rest    // {name...}
)

// Parse checks one template and returns its segments (the text after each
// '/'), or an error saying what is wrong and how to write it.
func Parse(t string) ([]string, error) {
	if !strings.HasPrefix(t, "/") {
		return nil, fmt.Errorf("%q: a route template is a path starting with /, such as /users/{id}", t)
	}
	if strings.ContainsAny(t, "?#*") || strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("%q: a route template has no query, fragment, glob (*), space or control character; write variable segments as {name}", t)
	}
	segs := strings.Split(t[1:], "/")
	for i, s := range segs {
		kind, err := kindOf(s)
		if err != nil {
			return nil, fmt.Errorf("%q: segment %d: %w", t, i+1, err)
		}
		if kind == rest && i != len(segs)-1 {
			return nil, fmt.Errorf("%q: {%s} may only end a template (it takes the rest of the path)", t, s[1:len(s)-1])
		}
	}
	return segs, nil
}

func kindOf(s string) (int, error) {
	if !strings.ContainsAny(s, "{}") {
		return literal, nil
	}
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.ContainsAny(s[1:len(s)-1], "{}") {
		return 0, fmt.Errorf("%q: a variable is a whole segment, {name} or {name...}", s)
	}
	name, kind := s[1:len(s)-1], param
	if n, ok := strings.CutSuffix(name, "..."); ok {
		name, kind = n, rest
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return 0, fmt.Errorf("%q: a variable's name is letters, digits and _, such as {id}", s)
		}
	}
	if name == "" {
		return 0, fmt.Errorf("%q: name the variable, such as {id}", s)
	}
	return kind, nil
}

// shape is a template with its variables' names erased: two templates of
// the same shape match the same paths.
func shape(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		switch k, _ := kindOf(s); k {
		case param:
			b.WriteString("{}")
		case rest:
			b.WriteString("{...}")
		default:
			b.WriteString(s)
		}
	}
	return b.String()
}

// Matcher finds the template of a path. Build it with New; it is
// immutable and safe for concurrent use.
type Matcher struct {
	root      node
	templates []string
}

// node is one level of the template tree.
type node struct {
	// literals are the literal children: few are scanned in keys/kids,
	// more looked up in byKey.
	keys  []string
	kids  []*node
	byKey map[string]*node
	param *node
	end   int // template index+1 of a template ending here; 0: none
	rest  int // template index+1 of a {name...} template here; 0: none
}

// New compiles templates; index i of the result's Match is templates[i].
// It refuses a template that does not parse, two of the same shape, and
// more than MaxTemplates.
func New(templates []string) (*Matcher, error) {
	if len(templates) > MaxTemplates {
		return nil, fmt.Errorf("%d route templates: at most %d, so the route label stays bounded; merge routes into templates with {name} segments", len(templates), MaxTemplates)
	}
	m := &Matcher{templates: templates}
	shapes := map[string]string{}
	for i, t := range templates {
		segs, err := Parse(t)
		if err != nil {
			return nil, err
		}
		sh := shape(segs)
		if prev, dup := shapes[sh]; dup {
			return nil, fmt.Errorf("%q matches the same paths as %q; keep one", t, prev)
		}
		shapes[sh] = t
		n := &m.root
		for j, s := range segs {
			k, _ := kindOf(s)
			if k == rest {
				n.rest = i + 1
				break
			}
			n = n.child(k, s)
			if j == len(segs)-1 {
				n.end = i + 1
			}
		}
	}
	return m, nil
}

func (n *node) child(kind int, s string) *node {
	if kind == param {
		if n.param == nil {
			n.param = &node{}
		}
		return n.param
	}
	for i, k := range n.keys {
		if k == s {
			return n.kids[i]
		}
	}
	c := &node{}
	n.keys, n.kids = append(n.keys, s), append(n.kids, c)
	if len(n.keys) > scanMax {
		if n.byKey == nil {
			n.byKey = map[string]*node{}
		}
		for i, k := range n.keys {
			n.byKey[k] = n.kids[i]
		}
	}
	return c
}

// scanMax is the most literal children scanned linearly; a map beyond.
const scanMax = 8

// literal returns the literal child named seg, or nil.
func (n *node) literal(seg []byte) *node {
	if n.byKey != nil {
		return n.byKey[string(seg)]
	}
	for i, k := range n.keys {
		if k == string(seg) {
			return n.kids[i]
		}
	}
	return nil
}

// Templates returns the templates, in the order given to New.
func (m *Matcher) Templates() []string { return m.templates }

// Match returns the index of the template path matches, or -1. path is a
// request target in origin form; its query is ignored. It does not
// allocate.
func (m *Matcher) Match(path []byte) int {
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if len(path) == 0 || path[0] != '/' {
		return -1
	}
	return m.root.match(path[1:]) - 1
}

// match matches p, the path after a '/', returning a template index+1 or 0.
func (n *node) match(p []byte) int {
	seg, tail, more := p, []byte(nil), false
	if i := bytes.IndexByte(p, '/'); i >= 0 {
		seg, tail, more = p[:i], p[i+1:], true
	}
	if c := n.literal(seg); c != nil {
		if r := c.next(tail, more); r > 0 {
			return r
		}
	}
	if n.param != nil && len(seg) > 0 {
		if r := n.param.next(tail, more); r > 0 {
			return r
		}
	}
	return n.rest
}

// next continues a match at child n: the path ended, or goes on with tail.
func (n *node) next(tail []byte, more bool) int {
	if !more {
		return n.end
	}
	return n.match(tail)
}
