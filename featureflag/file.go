package featureflag

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/gantry-dev/gantry/spec"
)

// KindFlags is the kind of a flag file.
const KindFlags = "Flags"

// File is a decoded flag file: every flag of one environment.
//
//	apiVersion: gantry.dev/v1
//	kind: Flags
//	environment: production
//	flags:
//	  new-ai-agent:
//	    variants: {on: true, off: false}
//	    defaultVariant: off
//	    rollout: {variant: on, percentage: 10}
type File struct {
	Environment string
	// Flags are sorted by key.
	Flags []Flag
}

// ParseFile reads and decodes the flag file at path.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read flag file: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes one flag file strictly: unknown fields, duplicate keys,
// values of the wrong kind, unknown operators, variants of mixed types and
// percentages outside 0-100 are errors. It returns every problem at once
// as a spec.ErrorList, each with filename:line:column and the field path;
// a file with any problem yields no flags.
func Parse(filename string, data []byte) (*File, error) {
	root, errs := readDocument(filename, data)
	if errs != nil {
		return nil, errs
	}
	d := &decoder{validator: validator{file: filename, pos: map[string]position{}}}
	out := &File{}
	d.mapping(root, "", map[string]func(*yaml.Node, string){
		"apiVersion": func(n *yaml.Node, path string) {
			if s := d.str(n, path); s != "" && s != spec.APIVersion {
				d.errorf(path, "apiVersion %q is not supported: use %s", s, spec.APIVersion)
			}
		},
		"kind": func(n *yaml.Node, path string) {
			if s := d.str(n, path); s != "" && s != KindFlags {
				d.errorf(path, "kind %q: a flag file has kind: %s", s, KindFlags)
			}
		},
		"environment": func(n *yaml.Node, path string) { out.Environment = d.str(n, path) },
		"flags": func(n *yaml.Node, path string) {
			d.each(n, path, func(key string, fn *yaml.Node, fp string) {
				f := d.flag(fn, fp)
				f.Key = key
				out.Flags = append(out.Flags, f)
			})
		},
	}, "apiVersion", "kind", "environment")
	if out.Environment == "" && !d.failed("environment") {
		d.errorf("environment", "environment is required: the environment these flags belong to, such as environment: production")
	}
	for _, f := range out.Flags {
		d.flag2(f)
	}
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return nil, d.errs
	}
	for i := range out.Flags {
		inferType(&out.Flags[i])
	}
	sort.Slice(out.Flags, func(i, j int) bool { return out.Flags[i].Key < out.Flags[j].Key })
	return out, nil
}

// ParseFlag decodes one flag definition (YAML, or JSON, which is YAML) as
// the API receives it: the fields of one flag under flags: in a file, and
// optionally key, which must then be key. Errors are a spec.ErrorList
// positioned in data.
func ParseFlag(filename, key string, data []byte) (Flag, error) {
	root, errs := readDocument(filename, data)
	if errs != nil {
		return Flag{}, errs
	}
	d := &decoder{validator: validator{file: filename, pos: map[string]position{}}}
	f := d.flagWithKey(root)
	switch {
	case f.Key == "":
		f.Key = key
	case f.Key != key:
		d.errorf("key", "key %q differs from the flag named in the request, %q: make them the same", f.Key, key)
	}
	d.flag2(f)
	if len(d.errs) > 0 {
		sortErrors(d.errs)
		return Flag{}, d.errs
	}
	inferType(&f)
	return f, nil
}

// decoder builds flags from YAML nodes, recording each field's position.
type decoder struct {
	validator
	bad []string // paths that failed to decode; validation skips them
}

// flag2 validates a decoded flag, leaving out problems under paths that
// already failed to decode.
func (d *decoder) flag2(f Flag) {
	prefix := ""
	if _, ok := d.pos["flags."+f.Key]; ok {
		prefix = "flags." + f.Key
	}
	v := &validator{file: d.file, pos: d.pos}
	if prefix == "" {
		v.flag(f, "")
	} else {
		v.flag(f, prefix)
	}
	for _, e := range v.errs {
		if !d.failed(e.Path) {
			d.errs = append(d.errs, e)
		}
	}
}

// failed reports whether path or a parent of it failed to decode.
func (d *decoder) failed(path string) bool {
	for _, b := range d.bad {
		if path == b || (len(path) > len(b) && path[:len(b)] == b && (path[len(b)] == '.' || path[len(b)] == '[')) {
			return true
		}
	}
	return false
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	if _, ok := d.pos[path]; !ok {
		d.pos[path] = position{n.Line, n.Column}
	}
	d.errorf(path, format, args...)
	d.bad = append(d.bad, path)
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// mapping decodes a mapping node field by field: unknown and duplicate
// keys are errors; required names fields that must be present.
func (d *decoder) mapping(n *yaml.Node, prefix string, fields map[string]func(*yaml.Node, string), required ...string) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.fail(n, prefix, "expected a mapping of fields, got %s", describe(n))
		return
	}
	seen := d.pairs(n, prefix, func(k *yaml.Node, path string) {
		d.fail(k, path, "field %s appears twice: keep one", k.Value)
	}, func(k, val *yaml.Node, path string) {
		fn, ok := fields[k.Value]
		if !ok {
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			slices.Sort(names)
			d.fail(k, path, "unknown field %q: the fields here are %v", k.Value, names)
			return
		}
		fn(val, path)
	})
	for _, name := range required {
		if !seen[name] {
			d.pos[join(prefix, name)] = position{n.Line, n.Column}
			d.fail(n, join(prefix, name), "%s is required here", name)
		}
	}
}

// each decodes a mapping whose keys are names (flags, variants).
func (d *decoder) each(n *yaml.Node, prefix string, fn func(key string, val *yaml.Node, path string)) {
	n = deref(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, prefix, "expected a mapping of names to definitions, got %s", describe(n))
		return
	}
	d.pairs(n, prefix, func(k *yaml.Node, path string) {
		d.fail(k, path, "%s appears twice under %s: keep one", k.Value, prefix)
	}, func(k, val *yaml.Node, path string) { fn(k.Value, val, path) })
}

// pairs walks the key/value pairs of mapping node n, records each key's
// position, reports a repeated key with dup instead of passing it on, and
// returns the keys it saw.
func (d *decoder) pairs(n *yaml.Node, prefix string, dup func(k *yaml.Node, path string), fn func(k, val *yaml.Node, path string)) map[string]bool {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		path := join(prefix, k.Value)
		d.pos[path] = position{k.Line, k.Column}
		if seen[k.Value] {
			dup(k, path)
			continue
		}
		seen[k.Value] = true
		fn(k, deref(val), path)
	}
	return seen
}

// list decodes a sequence item by item.
func (d *decoder) list(n *yaml.Node, prefix string, fn func(val *yaml.Node, path string)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, prefix, "expected a list, got %s", describe(n))
		return
	}
	for i, item := range n.Content {
		path := fmt.Sprintf("%s[%d]", prefix, i)
		d.pos[path] = position{item.Line, item.Column}
		fn(deref(item), path)
	}
}

func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.fail(n, path, "expected a string, got %s", describe(n))
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.fail(n, path, "expected true or false, got %s", describe(n))
		return false
	}
	b, _ := strconv.ParseBool(n.Value)
	return b
}

func (d *decoder) number(n *yaml.Node, path string) float64 {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		d.fail(n, path, "expected a number, got %s", describe(n))
		return 0
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		d.fail(n, path, "%q is not a number", n.Value)
	}
	return f
}

// value decodes a variant value or operand: scalars as bool, string or
// float64; mappings as map[string]any; lists as []any.
func (d *decoder) value(n *yaml.Node, path string) any {
	var v any
	if err := n.Decode(&v); err != nil {
		d.fail(n, path, "cannot read the value: %v", err)
		return nil
	}
	return normalize(v)
}

// normalize turns YAML's integers into float64 (JSON's numbers), recursively.
func normalize(v any) any {
	switch t := v.(type) {
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
	}
	return v
}

func (d *decoder) flagWithKey(n *yaml.Node) Flag {
	var key string
	f := d.flagFields(n, "", func(fields map[string]func(*yaml.Node, string)) {
		fields["key"] = func(n *yaml.Node, path string) { key = d.str(n, path) }
	})
	f.Key = key
	return f
}

func (d *decoder) flag(n *yaml.Node, prefix string) Flag {
	return d.flagFields(n, prefix, nil)
}

// flagFields decodes a flag's fields; more adds fields (key, for the API).
func (d *decoder) flagFields(n *yaml.Node, prefix string, more func(map[string]func(*yaml.Node, string))) Flag {
	var f Flag
	fields := map[string]func(*yaml.Node, string){
		"description": func(n *yaml.Node, path string) { f.Description = d.str(n, path) },
		"type":        func(n *yaml.Node, path string) { f.Type = Type(d.str(n, path)) },
		"disabled":    func(n *yaml.Node, path string) { f.Disabled = d.boolean(n, path) },
		"variants": func(n *yaml.Node, path string) {
			f.Variants = map[string]any{}
			d.each(n, path, func(key string, val *yaml.Node, vp string) { f.Variants[key] = d.value(val, vp) })
		},
		"defaultVariant": func(n *yaml.Node, path string) { f.DefaultVariant = d.str(n, path) },
		"rules": func(n *yaml.Node, path string) {
			d.list(n, path, func(item *yaml.Node, rp string) { f.Rules = append(f.Rules, d.rule(item, rp)) })
		},
		"rollout": func(n *yaml.Node, path string) {
			r := &Rollout{}
			d.mapping(n, path, map[string]func(*yaml.Node, string){
				"variant":    func(n *yaml.Node, p string) { r.Variant = d.str(n, p) },
				"percentage": func(n *yaml.Node, p string) { r.Percentage = d.number(n, p) },
			}, "variant", "percentage")
			f.Rollout = r
		},
	}
	if more != nil {
		more(fields)
	}
	d.mapping(n, prefix, fields, "variants", "defaultVariant")
	return f
}

func (d *decoder) rule(n *yaml.Node, prefix string) Rule {
	var r Rule
	d.mapping(n, prefix, map[string]func(*yaml.Node, string){
		"name":    func(n *yaml.Node, p string) { r.Name = d.str(n, p) },
		"variant": func(n *yaml.Node, p string) { r.Variant = d.str(n, p) },
		"when": func(n *yaml.Node, p string) {
			d.list(n, p, func(item *yaml.Node, cp string) { r.When = append(r.When, d.condition(item, cp)) })
		},
	}, "when", "variant")
	return r
}

func (d *decoder) condition(n *yaml.Node, prefix string) Condition {
	var c Condition
	d.mapping(n, prefix, map[string]func(*yaml.Node, string){
		"attribute": func(n *yaml.Node, p string) { c.Attribute = d.str(n, p) },
		"op":        func(n *yaml.Node, p string) { c.Op = Operator(d.str(n, p)) },
		"value":     func(n *yaml.Node, p string) { c.Value = d.value(n, p) },
		"values": func(n *yaml.Node, p string) {
			c.Values = []any{}
			d.list(n, p, func(item *yaml.Node, ip string) { c.Values = append(c.Values, d.value(item, ip)) })
		},
	}, "op")
	return c
}

// describe names a node's kind for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	}
	return n.Value
}

// readDocument returns the content of the one YAML document in data.
func readDocument(filename string, data []byte) (*yaml.Node, spec.ErrorList) {
	at := func(line int, format string, args ...any) spec.ErrorList {
		return spec.ErrorList{{File: filename, Line: line, Column: 1, Message: fmt.Sprintf(format, args...)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, at(1, "empty file; a flag file starts with apiVersion: %s and kind: %s", spec.APIVersion, KindFlags)
		}
		return nil, yamlError(filename, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil && len(next.Content) > 0 && !isNull(next.Content[0]) {
		return nil, at(next.Content[0].Line, "a second YAML document starts here; one file holds one document, so remove the extra '---' and what follows")
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, at(1, "empty document")
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError positions a YAML syntax error.
func yamlError(filename string, err error) spec.ErrorList {
	fe := &spec.FieldError{File: filename, Message: "YAML syntax: " + err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Message = "YAML syntax: " + m[2]
	}
	return spec.ErrorList{fe}
}

// sortErrors orders errors by position.
func sortErrors(l spec.ErrorList) {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
}
