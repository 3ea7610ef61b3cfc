package featureflag

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/gantry-dev/gantry/spec"
)

// Validate checks a flag built in code or read from JSON; errors carry
// the field path (such as rules[0].when[1].op) but no position. Empty:
// valid.
func Validate(f Flag) spec.ErrorList {
	v := &validator{}
	v.flag(f, "")
	return v.errs
}

// position is a 1-based line and column.
type position struct{ line, col int }

// validator collects the problems of flags, each at the position recorded
// for its path when the flag came from a file.
type validator struct {
	file string
	pos  map[string]position
	errs spec.ErrorList
}

func (v *validator) errorf(path, format string, args ...any) {
	p := v.pos[path]
	v.errs = append(v.errs, &spec.FieldError{File: v.file, Line: p.line, Column: p.col, Path: path, Message: fmt.Sprintf(format, args...)})
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidKey reports whether key can name a flag.
func ValidKey(key string) bool { return keyPattern.MatchString(key) }

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// flag checks f, whose fields sit under prefix.
func (v *validator) flag(f Flag, prefix string) {
	if !ValidKey(f.Key) {
		v.errorf(join(prefix, "key"), "flag key %q is not valid: use letters, digits, '-', '_' and '.', starting with a letter or digit, at most 128 characters", f.Key)
	}
	v.variants(f, prefix)
	variant := func(path, name, what string) {
		if _, ok := f.Variants[name]; !ok && len(f.Variants) > 0 {
			if name == "" {
				v.errorf(path, "%s is required: name one of the variants %s", what, strings.Join(f.VariantNames(), ", "))
				return
			}
			v.errorf(path, "%s %q is not a variant of this flag: use one of %s", what, name, strings.Join(f.VariantNames(), ", "))
		}
	}
	variant(join(prefix, "defaultVariant"), f.DefaultVariant, "defaultVariant")
	for i, r := range f.Rules {
		rp := fmt.Sprintf("%s[%d]", join(prefix, "rules"), i)
		if len(r.When) == 0 {
			v.errorf(join(rp, "when"), "a rule needs at least one condition under when: (for everyone, set defaultVariant instead)")
		}
		for j, c := range r.When {
			v.condition(c, fmt.Sprintf("%s[%d]", join(rp, "when"), j))
		}
		variant(join(rp, "variant"), r.Variant, "variant")
	}
	if r := f.Rollout; r != nil {
		rp := join(prefix, "rollout")
		variant(join(rp, "variant"), r.Variant, "variant")
		v.percentage(join(rp, "percentage"), r.Percentage)
	}
}

// variants checks that every variant has a value of the flag's type.
func (v *validator) variants(f Flag, prefix string) {
	vp := join(prefix, "variants")
	if len(f.Variants) == 0 {
		v.errorf(vp, "a flag needs at least one variant, such as variants: {on: true, off: false}")
		return
	}
	if f.Type != "" && !slices.Contains(Types, f.Type) {
		v.errorf(join(prefix, "type"), "unknown type %q: use boolean, string, number or object", f.Type)
		return
	}
	names := f.VariantNames()
	want, wantFrom := f.Type, "the flag's type is"
	for _, name := range names {
		got := TypeOf(f.Variants[name])
		path := join(vp, name)
		switch {
		case got == "":
			v.errorf(path, "variant %s has a value of no flag type (%T): use a boolean, string, number or object", name, f.Variants[name])
		case want == "":
			want, wantFrom = got, "variant "+name+" is a"
		case got != want:
			v.errorf(path, "variant type mismatch: variant %s is a %s but %s %s; every variant of a flag has one type (%s)", name, got, wantFrom, want, want)
		}
	}
}

func (v *validator) percentage(path string, p float64) {
	if p < 0 || p > 100 {
		v.errorf(path, "percentage %g is out of range: use 0 to 100", p)
	}
}

// condition checks one condition's operator and operands.
func (v *validator) condition(c Condition, path string) {
	opPath := join(path, "op")
	if !slices.Contains(Operators, c.Op) {
		names := make([]string, len(Operators))
		for i, op := range Operators {
			names[i] = string(op)
		}
		v.errorf(opPath, "unknown operator %q: use one of %s", c.Op, strings.Join(names, ", "))
		return
	}
	if c.Attribute == "" && c.Op != OpPercentage {
		v.errorf(join(path, "attribute"), "operator %s needs an attribute: the evaluation-context attribute to test, such as email or targetingKey", c.Op)
	}
	valuePath := join(path, "value")
	if c.Op == OpIn || c.Op == OpNotIn {
		if len(c.Values) == 0 {
			v.errorf(join(path, "values"), "operator %s needs values: a list such as values: [NL, BE]", c.Op)
		}
		for i, x := range c.Values {
			if t := TypeOf(x); t == "" || t == Object {
				v.errorf(fmt.Sprintf("%s[%d]", join(path, "values"), i), "values of %s are strings, numbers or booleans, not %T", c.Op, x)
			}
		}
		if c.Value != nil {
			v.errorf(valuePath, "operator %s takes values: (a list), not value:", c.Op)
		}
		return
	}
	if c.Values != nil {
		v.errorf(join(path, "values"), "operator %s takes one value:, not values: (only in and notIn take a list)", c.Op)
	}
	switch {
	case c.Op == OpEquals || c.Op == OpNotEquals:
		if t := TypeOf(c.Value); t == "" || t == Object {
			v.errorf(valuePath, "operator %s needs a value: a string, number or boolean", c.Op)
		}
	case c.Op == OpMatches:
		s, ok := c.Value.(string)
		if !ok {
			v.errorf(valuePath, "operator matches needs a value: a regular expression as a string, such as '@example\\.com$'")
		} else if _, err := regexp.Compile(s); err != nil {
			v.errorf(valuePath, "regular expression %q does not compile: %v", s, err)
		}
	case isSemverOp(c.Op):
		s, ok := c.Value.(string)
		if !ok || !semver.IsValid(canonicalSemver(s)) {
			v.errorf(valuePath, "operator %s needs a value: a semantic version such as \"2.3.0\" (quote it), got %v", c.Op, c.Value)
		}
	case c.Op == OpPercentage:
		p, ok := toFloat(c.Value)
		if !ok {
			v.errorf(valuePath, "operator percentage needs a value: a number from 0 to 100")
			return
		}
		v.percentage(valuePath, p)
	}
}

// inferType sets f.Type from its variants when it is empty.
func inferType(f *Flag) {
	if f.Type != "" {
		return
	}
	for _, v := range f.Variants {
		f.Type = TypeOf(v)
		return
	}
}
