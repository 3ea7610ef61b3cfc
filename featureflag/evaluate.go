package featureflag

import (
	"fmt"
	"regexp"
	"strconv"

	"golang.org/x/mod/semver"
)

// Context is an evaluation context: attribute names to values, as an
// OpenFeature SDK sends them. TargetingKey holds the key percentages
// bucket by.
type Context map[string]any

// TargetingKey is the context attribute that identifies the subject of an
// evaluation (a user, a session), as OpenFeature names it.
const TargetingKey = "targetingKey"

// Reason says why an evaluation returned its variant, with OpenFeature's
// names.
type Reason string

// The reasons.
const (
	// ReasonStatic: the flag has no rules and no rollout.
	ReasonStatic Reason = "STATIC"
	// ReasonTargetingMatch: a rule matched.
	ReasonTargetingMatch Reason = "TARGETING_MATCH"
	// ReasonSplit: the percentage rollout took the key.
	ReasonSplit Reason = "SPLIT"
	// ReasonDefault: nothing matched; the default variant.
	ReasonDefault Reason = "DEFAULT"
	// ReasonDisabled: the flag is switched off (its kill switch).
	ReasonDisabled Reason = "DISABLED"
	// ReasonError: the evaluation failed; see the error.
	ReasonError Reason = "ERROR"
)

// ErrorCode is an OpenFeature error code.
type ErrorCode string

// The error codes evaluation and OFREP use.
const (
	CodeFlagNotFound        ErrorCode = "FLAG_NOT_FOUND"
	CodeParseError          ErrorCode = "PARSE_ERROR"
	CodeTargetingKeyMissing ErrorCode = "TARGETING_KEY_MISSING"
	CodeInvalidContext      ErrorCode = "INVALID_CONTEXT"
	CodeTypeMismatch        ErrorCode = "TYPE_MISMATCH"
	CodeGeneral             ErrorCode = "GENERAL"
)

// EvalError is a failed evaluation: an OpenFeature error code and what
// went wrong.
type EvalError struct {
	Code    ErrorCode
	Message string
}

func (e *EvalError) Error() string { return string(e.Code) + ": " + e.Message }

// Result is a successful evaluation.
type Result struct {
	Key     string `json:"key"`
	Value   any    `json:"value"`
	Variant string `json:"variant"`
	Reason  Reason `json:"reason"`
	// Rule is the name of the rule that matched, "" when none did (or it
	// has no name).
	Rule string `json:"-"`
}

// Buckets is how many buckets percentages divide keys into: a percentage
// is exact to 0.001.
const Buckets = 100_000

// Bucket returns the bucket, 0 to Buckets-1, of key for the flag salt: a
// 64-bit FNV-1a hash of both, finished with a 64-bit mixer so that close
// keys spread evenly. It never allocates.
func Bucket(salt, key string) uint32 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(salt); i++ {
		h = (h ^ uint64(salt[i])) * prime
	}
	h = (h ^ 0) * prime // separator: ("ab","c") and ("a","bc") differ
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return uint32(h % Buckets)
}

// threshold turns a percentage into the number of buckets it covers.
func threshold(pct float64) uint32 { return uint32(pct*1000 + 0.5) }

// Compiled is a flag ready to evaluate: its regular expressions compiled
// and versions and percentages normalized. It is immutable and safe for
// concurrent use.
type Compiled struct {
	Flag  Flag
	rules []compiledRule
	// rollout covers buckets [0, rollout) of the rollout variant.
	rollout uint32
}

type compiledRule struct {
	name    string
	variant string
	when    []compiledCondition
}

type compiledCondition struct {
	Condition
	re        *regexp.Regexp
	semver    string // canonical, with a leading "v"
	threshold uint32
}

// Compile checks f and prepares it for evaluation. Flags that came through
// ParseFile or ParseFlag always compile.
func Compile(f Flag) (*Compiled, error) {
	if errs := Validate(f); len(errs) > 0 {
		return nil, fmt.Errorf("flag %s: %w", f.Key, errs)
	}
	inferType(&f)
	c := &Compiled{Flag: f}
	for _, r := range f.Rules {
		cr := compiledRule{name: r.Name, variant: r.Variant}
		for _, cond := range r.When {
			cc := compiledCondition{Condition: cond}
			switch {
			case cond.Op == OpMatches:
				cc.re = regexp.MustCompile(cond.Value.(string)) // Validate compiled it
			case isSemverOp(cond.Op):
				cc.semver = canonicalSemver(cond.Value.(string))
			case cond.Op == OpPercentage:
				p, _ := toFloat(cond.Value)
				cc.threshold = threshold(p)
			}
			cr.when = append(cr.when, cc)
		}
		c.rules = append(c.rules, cr)
	}
	if f.Rollout != nil {
		c.rollout = threshold(f.Rollout.Percentage)
	}
	return c, nil
}

// Evaluate decides f's variant for ctx. See Compiled.Evaluate.
func Evaluate(f Flag, ctx Context) (Result, error) {
	c, err := Compile(f)
	if err != nil {
		return Result{Key: f.Key, Reason: ReasonError}, &EvalError{Code: CodeGeneral, Message: err.Error()}
	}
	return c.Evaluate(ctx)
}

// Evaluate decides the flag's variant for ctx: disabled → the default
// variant (DISABLED); else the first rule whose conditions all hold
// (TARGETING_MATCH); else the rollout when it takes the targeting key
// (SPLIT); else the default variant (STATIC when the flag has neither rules
// nor rollout, DEFAULT otherwise). A percentage that needs the targeting
// key when ctx has none fails with TARGETING_KEY_MISSING. It does not
// allocate on success.
func (c *Compiled) Evaluate(ctx Context) (Result, error) {
	f := &c.Flag
	if f.Disabled {
		return c.result(f.DefaultVariant, ReasonDisabled, ""), nil
	}
	for i := range c.rules {
		r := &c.rules[i]
		ok, err := c.holds(r.when, ctx)
		if err != nil {
			return Result{Key: f.Key, Reason: ReasonError}, err
		}
		if ok {
			return c.result(r.variant, ReasonTargetingMatch, r.name), nil
		}
	}
	if f.Rollout != nil && c.rollout > 0 {
		if c.rollout >= Buckets {
			return c.result(f.Rollout.Variant, ReasonSplit, ""), nil
		}
		key, ok := ctx[TargetingKey].(string)
		if !ok || key == "" {
			return Result{Key: f.Key, Reason: ReasonError}, &EvalError{Code: CodeTargetingKeyMissing,
				Message: fmt.Sprintf("flag %s rolls out to %g%% of targeting keys: send a targetingKey in the evaluation context", f.Key, f.Rollout.Percentage)}
		}
		if Bucket(f.Key, key) < c.rollout {
			return c.result(f.Rollout.Variant, ReasonSplit, ""), nil
		}
	}
	if len(c.rules) == 0 && f.Rollout == nil {
		return c.result(f.DefaultVariant, ReasonStatic, ""), nil
	}
	return c.result(f.DefaultVariant, ReasonDefault, ""), nil
}

func (c *Compiled) result(variant string, reason Reason, rule string) Result {
	return Result{Key: c.Flag.Key, Value: c.Flag.Variants[variant], Variant: variant, Reason: reason, Rule: rule}
}

// holds reports whether every condition holds for ctx.
func (c *Compiled) holds(when []compiledCondition, ctx Context) (bool, error) {
	for i := range when {
		ok, err := c.test(&when[i], ctx)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// test evaluates one condition. A missing attribute fails every operator
// but notEquals and notIn, which it passes.
func (c *Compiled) test(cc *compiledCondition, ctx Context) (bool, error) {
	if cc.Op == OpPercentage {
		attr := cc.Attribute
		if attr == "" {
			attr = TargetingKey
		}
		key, ok := attrString(ctx[attr])
		if !ok {
			if attr == TargetingKey {
				return false, &EvalError{Code: CodeTargetingKeyMissing,
					Message: fmt.Sprintf("flag %s has a percentage rule: send a targetingKey in the evaluation context", c.Flag.Key)}
			}
			return false, nil
		}
		return Bucket(c.Flag.Key, key) < cc.threshold, nil
	}
	v, present := ctx[cc.Attribute]
	if !present || v == nil {
		return cc.Op == OpNotEquals || cc.Op == OpNotIn, nil
	}
	switch cc.Op {
	case OpEquals:
		return equal(v, cc.Value), nil
	case OpNotEquals:
		return !equal(v, cc.Value), nil
	case OpIn, OpNotIn:
		in := false
		for _, w := range cc.Values {
			if equal(v, w) {
				in = true
				break
			}
		}
		return in == (cc.Op == OpIn), nil
	case OpMatches:
		s, ok := attrString(v)
		return ok && cc.re.MatchString(s), nil
	}
	s, ok := v.(string)
	if !ok {
		return false, nil
	}
	if len(s) == 0 || s[0] != 'v' {
		s = "v" + s
	}
	if !semver.IsValid(s) {
		return false, nil
	}
	cmp := semver.Compare(s, cc.semver)
	switch cc.Op {
	case OpSemverEquals:
		return cmp == 0, nil
	case OpSemverGreater:
		return cmp > 0, nil
	case OpSemverGreaterEq:
		return cmp >= 0, nil
	case OpSemverLess:
		return cmp < 0, nil
	case OpSemverLessEq:
		return cmp <= 0, nil
	}
	return false, &EvalError{Code: CodeGeneral, Message: fmt.Sprintf("flag %s: unknown operator %q", c.Flag.Key, cc.Op)}
}

// attrString returns a string attribute, or a number's decimal form (so an
// integer user id can be bucketed and matched).
func attrString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, t != ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	}
	return "", false
}

// equal compares a context value with an operand: strings with strings,
// numbers with numbers (of any Go numeric type), booleans with booleans.
func equal(v, operand any) bool {
	switch o := operand.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == o
	case bool:
		b, ok := v.(bool)
		return ok && b == o
	}
	a, ok1 := toFloat(v)
	b, ok2 := toFloat(operand)
	return ok1 && ok2 && a == b
}

// toFloat returns a number of any Go numeric type as a float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	}
	return 0, false
}

func isSemverOp(op Operator) bool {
	switch op {
	case OpSemverEquals, OpSemverGreater, OpSemverGreaterEq, OpSemverLess, OpSemverLessEq:
		return true
	}
	return false
}

// canonicalSemver adds the leading "v" golang.org/x/mod/semver wants.
func canonicalSemver(s string) string {
	if len(s) > 0 && s[0] == 'v' {
		return s
	}
	return "v" + s
}
