// Package featureflag owns gantry's feature flags: their definition
// (variants of one type, a default variant, targeting rules, a sticky
// percentage rollout, a kill switch), strict decoding of flag files with
// file:line errors, evaluation against an evaluation context, and the
// Catalog that keeps every environment's flags versioned, cached and
// counted.
//
// A flag belongs to one environment. Evaluation is a plain function of a
// Flag and a Context: Evaluate returns the variant, its value and the
// OpenFeature reason (STATIC, TARGETING_MATCH, SPLIT, DEFAULT, DISABLED), or
// an *EvalError with an OpenFeature error code. Percentages bucket a key
// by a hash of the flag's key and the targeting key into 100,000 buckets,
// so a key that is in at 10% stays in at 25%.
//
// The package imports no database driver or HTTP framework: Catalog keeps
// versions in a Store (store/sqlite, store/postgres), the api package
// serves OFREP from it, and featureflag/inprocess evaluates a synced
// snapshot inside a Go program.
package featureflag
