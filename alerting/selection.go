package alerting

import (
	"fmt"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Selection says which series a History keeps: those that a vector
// selector of some PromQL expression selects. A nil *Selection keeps
// every series; an empty one keeps none.
type Selection struct {
	// byName holds the selectors with an equality matcher on the metric
	// name (the common case), by that name; other holds the rest
	// ({__name__=~"..."}, {job="x"}), tried on every series.
	byName map[string][][]*labels.Matcher
	other  [][]*labels.Matcher
}

// SelectionOf returns the Selection of the vector selectors of exprs.
// Only label matchers that the expressions spell out narrow it, so a
// series it keeps is one some expression may read.
func SelectionOf(exprs ...string) (*Selection, error) {
	s := &Selection{byName: map[string][][]*labels.Matcher{}}
	for _, e := range exprs {
		sels, err := selectorsOf(e)
		if err != nil {
			return nil, err
		}
		for _, ms := range sels {
			s.add(ms)
		}
	}
	return s, nil
}

func selectorsOf(expr string) ([][]*labels.Matcher, error) {
	x, err := promqlParser.ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", expr, err)
	}
	return parser.ExtractSelectors(x), nil
}

func (s *Selection) add(ms []*labels.Matcher) {
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			s.byName[m.Value] = append(s.byName[m.Value], ms)
			return
		}
	}
	s.other = append(s.other, ms)
}

// Keeps reports whether some selector of s selects the series l.
func (s *Selection) Keeps(l labels.Labels) bool {
	if s == nil {
		return true
	}
	for _, ms := range s.byName[l.Get(labels.MetricName)] {
		if matches(l, ms) {
			return true
		}
	}
	for _, ms := range s.other {
		if matches(l, ms) {
			return true
		}
	}
	return false
}

// keepsName reports whether some selector of s may select series named
// name, whatever their other labels.
func (s *Selection) keepsName(name string) bool {
	if s == nil || len(s.byName[name]) > 0 {
		return true
	}
	for _, ms := range s.other {
		ok := true
		for _, m := range ms {
			if m.Name == labels.MetricName && !m.Matches(name) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// Empty reports whether s keeps no series at all.
func (s *Selection) Empty() bool { return s != nil && len(s.byName) == 0 && len(s.other) == 0 }

// Names lists the metric names s selects by name, sorted; Others counts
// its selectors without an exact metric name.
func (s *Selection) Names() (names []string, others int) {
	if s == nil {
		return nil, 0
	}
	for n := range s.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, len(s.other)
}

// selectionFor is the Selection that rules and the extra expressions
// need: the selectors of the alerting rules and of extra, then, until
// nothing changes, those of every recording rule whose output one of
// them may read (its record name). Recording rules nothing reads add
// nothing.
func selectionFor(rules []Rule, extra []string) (*Selection, error) {
	var exprs []string
	for _, r := range rules {
		if r.Alert != "" {
			exprs = append(exprs, r.Expr)
		}
	}
	exprs = append(exprs, extra...)
	sel, err := SelectionOf(exprs...)
	if err != nil {
		return nil, err
	}
	used := make([]bool, len(rules))
	for grew := true; grew; {
		grew = false
		for i, r := range rules {
			if r.Record == "" || used[i] || !sel.keepsName(r.Record) {
				continue
			}
			used[i], grew = true, true
			sels, err := selectorsOf(r.Expr)
			if err != nil {
				return nil, err
			}
			for _, ms := range sels {
				sel.add(ms)
			}
		}
	}
	return sel, nil
}
