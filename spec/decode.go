package spec

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// position is a 1-based line and column in the document.
type position struct{ line, col int }

// decoder turns a yaml.Node tree into the App types strictly: unknown
// fields, duplicate keys and wrong types are errors, and every field's
// position is recorded by path so that validation can point at it.
type decoder struct {
	file string
	errs ErrorList
	// pos maps a field path to the position of its key (or of the item,
	// for sequence items).
	pos map[string]position
	// bad holds the paths that failed to decode; validation stays quiet
	// about them and everything under them.
	bad []string
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]position{}}
}

// errorf records a decoding error at path. It points at the field's key
// when one was recorded (so that every error about a field points at the
// same place), else at n.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	p, ok := d.pos[path]
	if !ok {
		p = position{n.Line, n.Column}
	}
	d.errorAt(p, path, format, args...)
}

// errorAt records a decoding error at p.
func (d *decoder) errorAt(p position, path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{
		File: d.file, Line: p.line, Column: p.col, Path: path,
		Message: fmt.Sprintf(format, args...),
	})
	d.bad = append(d.bad, path)
}

var (
	intOrStringType  = reflect.TypeOf(IntOrString{})
	resourceListType = reflect.TypeOf(ResourceList{})
)

// isNumber says whether n is a plain YAML number.
func isNumber(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float")
}

// decode sets v from n. v must be settable.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		// An empty value leaves the field unset, except that an empty
		// sub-struct ("pause:", "canary:") is present with no fields set.
		if v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem() != intOrStringType {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return
	}
	if v.Type() == intOrStringType {
		d.decodeIntOrString(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if s, ok := d.scalarString(n, path); ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		if i, ok := d.scalarInt(n, path); ok {
			v.SetInt(i)
		}
	case reflect.Float64:
		if f, ok := d.scalarFloat(n, path); ok {
			v.SetFloat(f)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.errorf(n, path, "want true or false, got %s", describe(n))
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, path, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		panic("spec: no decoder for " + v.Type().String())
	}
}

func (d *decoder) scalarString(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a string, got %s", describe(n))
		return "", false
	}
	// A date (2026-12-20) is a YAML timestamp; its text is the string.
	if t := n.ShortTag(); t != "!!str" && t != "!!timestamp" {
		d.errorf(n, path, "want a string, got %s; quote it: %q", describe(n), n.Value)
		return "", false
	}
	return n.Value, true
}

func (d *decoder) scalarInt(n *yaml.Node, path string) (int64, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a whole number, got %s", describe(n))
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			d.errorf(n, path, "%s is out of range; use a number between %d and %d", n.Value, math.MinInt32, math.MaxInt32)
			return 0, false
		}
		return i, true
	case "!!str":
		if _, err := strconv.Atoi(n.Value); err == nil {
			d.errorf(n, path, "want a number, got the string %q; remove the quotes", n.Value)
			return 0, false
		}
	}
	d.errorf(n, path, "want a whole number, got %s", describe(n))
	return 0, false
}

func (d *decoder) scalarFloat(n *yaml.Node, path string) (float64, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a number, got %s", describe(n))
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n, path, "want a finite number, got %s", n.Value)
			return 0, false
		}
		return f, true
	case "!!str":
		if _, err := strconv.ParseFloat(n.Value, 64); err == nil {
			d.errorf(n, path, "want a number, got the string %q; remove the quotes", n.Value)
			return 0, false
		}
	}
	d.errorf(n, path, "want a number, got %s", describe(n))
	return 0, false
}

func (d *decoder) decodeIntOrString(n *yaml.Node, v reflect.Value, path string) {
	const hint = `; use 1 or "25%"`
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a whole number or a percentage such as \"25%%\", got %s", describe(n))
		return
	}
	switch n.ShortTag() {
	case "!!int":
		i, ok := d.scalarInt(n, path)
		if ok {
			v.Set(reflect.ValueOf(*Int(int(i))))
		}
	case "!!str":
		p, err := ParseIntOrString(n.Value)
		if err != nil {
			d.errorf(n, path, "%v%s", err, hint)
			return
		}
		v.Set(reflect.ValueOf(p))
	default:
		d.errorf(n, path, "%q is neither a whole number nor a percentage such as \"25%%\"%s", n.Value, hint)
	}
}

func keyPos(n *yaml.Node) position { return position{n.Line, n.Column} }

// pair is one key and its value in a mapping.
type pair struct{ key, value *yaml.Node }

// pairs returns a mapping's entries with YAML merge keys (<<: *anchor)
// expanded; keys written explicitly win over merged ones.
func pairs(n *yaml.Node) []pair {
	var out, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			for _, m := range mergeSources(val) {
				merged = append(merged, pairs(m)...)
			}
			continue
		}
		out = append(out, pair{k, val})
	}
	seen := map[string]bool{}
	for _, p := range out {
		seen[p.key.Value] = true
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out
}

func mergeSources(n *yaml.Node) []*yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return []*yaml.Node{n}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			out = append(out, mergeSources(c)...)
		}
		return out
	}
	return nil
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping of fields, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]int{}
	for _, p := range pairs(n) {
		name := p.key.Value
		fpath := joinField(path, name)
		if line, dup := seen[name]; dup {
			d.errorAt(keyPos(p.key), fpath, "duplicate key %q (first set on line %d); keep one", name, line)
			continue
		}
		seen[name] = p.key.Line
		idx, ok := fields.index[name]
		if !ok {
			d.errorAt(keyPos(p.key), fpath, "%s", unknownField(name, fields.names))
			continue
		}
		d.pos[fpath] = position{p.key.Line, p.key.Column}
		if v.Type() == resourceListType && isNumber(p.value) {
			// Quantities may be written as plain numbers: cpu: 1, cpu: 0.5.
			v.Field(idx).SetString(p.value.Value)
			continue
		}
		d.decode(p.value, v.Field(idx), fpath)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		d.pos[ipath] = position{item.Line, item.Column}
		d.decode(item, s.Index(i), ipath)
	}
	v.Set(s)
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	seen := map[string]int{}
	for _, p := range pairs(n) {
		k := p.key.Value
		kpath := joinKey(path, k)
		if line, dup := seen[k]; dup {
			d.errorAt(keyPos(p.key), kpath, "duplicate key %q (first set on line %d); keep one", k, line)
			continue
		}
		seen[k] = p.key.Line
		d.pos[kpath] = position{p.key.Line, p.key.Column}
		val := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.value, val, kpath)
		m.SetMapIndex(reflect.ValueOf(k), val)
	}
	v.Set(m)
}

// describe names a node's kind for messages: "a list", "the number 3".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		case "!!str":
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "an unexpected value"
}

// structFields indexes a struct type's YAML field names (its JSON tags).
type structFields struct {
	index map[string]int
	names []string // sorted
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{index: map[string]int{}}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	fieldCache.Store(t, f)
	return f
}

// joinField appends a field name to a path.
func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// joinKey appends a map key, bracketed and quoted unless it is a plain word.
func joinKey(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return joinField(path, key)
	}
	return fmt.Sprintf("%s[%q]", path, key)
}

// parentPath drops a path's last segment: "a.b[2]" → "a.b" → "a" → "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
