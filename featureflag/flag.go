package featureflag

import (
	"fmt"
	"maps"
	"slices"
)

// Type is the type of a flag's variant values.
type Type string

// The flag types. Numbers are float64 (a JSON number); objects are JSON
// objects (map[string]any).
const (
	Boolean Type = "boolean"
	String  Type = "string"
	Number  Type = "number"
	Object  Type = "object"
)

// Types lists every Type, in the order error messages name them.
var Types = []Type{Boolean, String, Number, Object}

// TypeOf returns the Type of a variant value, "" when v is none of them
// (nil, a list). Integers of any size count as numbers.
func TypeOf(v any) Type {
	switch v.(type) {
	case bool:
		return Boolean
	case string:
		return String
	case float64, float32, int, int64, int32, uint, uint64, uint32:
		return Number
	case map[string]any:
		return Object
	}
	return ""
}

// Flag is one feature flag of one environment.
type Flag struct {
	// Key names the flag, such as "new-ai-agent": letters, digits, '-',
	// '_' and '.', starting with a letter or digit, at most 128 bytes.
	Key string `json:"key"`
	// Description says what the flag switches; optional.
	Description string `json:"description,omitempty"`
	// Type is the type of every variant's value.
	Type Type `json:"type"`
	// Disabled is the kill switch: a disabled flag evaluates to its
	// default variant with reason DISABLED, ignoring rules and rollout
	// (OpenFeature SDKs then return the caller's default value).
	Disabled bool `json:"disabled,omitempty"`
	// Variants maps each variant's name to its value; at least one.
	Variants map[string]any `json:"variants"`
	// DefaultVariant is served when no rule matches and the rollout does
	// not take the key; it names one of Variants.
	DefaultVariant string `json:"defaultVariant"`
	// Rules are tried in order; the first whose conditions all hold
	// decides. None: straight to the rollout.
	Rules []Rule `json:"rules,omitempty"`
	// Rollout serves a variant to a sticky percentage of targeting keys
	// that no rule matched; nil: none (every such key gets DefaultVariant).
	Rollout *Rollout `json:"rollout,omitempty"`
}

// Rule serves Variant when every condition in When holds.
type Rule struct {
	// Name labels the rule in evaluation metadata; optional.
	Name string `json:"name,omitempty"`
	// When holds the conditions, all of which must hold; at least one.
	When []Condition `json:"when"`
	// Variant names the variant served.
	Variant string `json:"variant"`
}

// Condition tests one evaluation-context attribute.
type Condition struct {
	// Attribute names the context attribute, such as "email"; for
	// OpPercentage empty means the targeting key.
	Attribute string `json:"attribute,omitempty"`
	// Op is the comparison.
	Op Operator `json:"op"`
	// Value is the operand of every operator but in/notIn: a string,
	// number or boolean for equals/notEquals, a regular expression (RE2)
	// for matches, a semantic version ("2.3.0" or "v2.3.0") for the semver
	// operators, a percentage 0-100 for percentage.
	Value any `json:"value,omitempty"`
	// Values are the operands of in and notIn.
	Values []any `json:"values,omitempty"`
}

// Rollout serves Variant to Percentage percent of targeting keys. A key's
// bucket depends only on the flag's key and the targeting key, so raising
// the percentage keeps every key that was in, in.
type Rollout struct {
	Variant string `json:"variant"`
	// Percentage is 0-100, in steps of 0.001; 0 serves nobody.
	Percentage float64 `json:"percentage"`
}

// Operator is a condition's comparison.
type Operator string

// The operators. Equality compares strings with strings, numbers with
// numbers and booleans with booleans; the semver operators compare
// semantic versions (a leading "v" is optional); matches is an RE2
// regular expression that must match somewhere in the attribute (anchor it
// with ^…$ for a whole match); percentage holds for a sticky share of keys.
const (
	OpEquals          Operator = "equals"
	OpNotEquals       Operator = "notEquals"
	OpIn              Operator = "in"
	OpNotIn           Operator = "notIn"
	OpMatches         Operator = "matches"
	OpSemverEquals    Operator = "semverEquals"
	OpSemverGreater   Operator = "semverGreaterThan"
	OpSemverGreaterEq Operator = "semverGreaterOrEqual"
	OpSemverLess      Operator = "semverLessThan"
	OpSemverLessEq    Operator = "semverLessOrEqual"
	OpPercentage      Operator = "percentage"
)

// Operators lists every Operator.
var Operators = []Operator{OpEquals, OpNotEquals, OpIn, OpNotIn, OpMatches,
	OpSemverEquals, OpSemverGreater, OpSemverGreaterEq, OpSemverLess, OpSemverLessEq, OpPercentage}

// Clone returns a deep copy of f (variants' object values included).
func (f Flag) Clone() Flag {
	out := f
	out.Variants = make(map[string]any, len(f.Variants))
	for k, v := range f.Variants {
		out.Variants[k] = cloneValue(v)
	}
	out.Rules = slices.Clone(f.Rules)
	for i := range out.Rules {
		out.Rules[i].When = slices.Clone(out.Rules[i].When)
	}
	if f.Rollout != nil {
		r := *f.Rollout
		out.Rollout = &r
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := maps.Clone(t)
		for k, e := range m {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		s := slices.Clone(t)
		for i, e := range s {
			s[i] = cloneValue(e)
		}
		return s
	}
	return v
}

// VariantNames returns the names of f's variants, sorted.
func (f Flag) VariantNames() []string {
	return slices.Sorted(maps.Keys(f.Variants))
}

// Summary describes f in one line for histories and audit records, such
// as "enabled, default off, 2 rules, rollout on 25%".
func (f Flag) Summary() string {
	state := "enabled"
	if f.Disabled {
		state = "disabled"
	}
	s := fmt.Sprintf("%s, default %s", state, f.DefaultVariant)
	if n := len(f.Rules); n > 0 {
		s += fmt.Sprintf(", %d rule(s)", n)
	}
	if f.Rollout != nil {
		s += fmt.Sprintf(", rollout %s %g%%", f.Rollout.Variant, f.Rollout.Percentage)
	}
	return s
}
