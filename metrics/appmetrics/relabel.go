package appmetrics

import (
	"cmp"
	"slices"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"
)

// ExportedPrefix is put before an exposed label that gantry's target
// labels would hide (an instance exporting its own app or version label
// keeps it as exported_app, exported_version, as Prometheus does), and
// before a metric name Options.Reserved keeps for gantry.
const ExportedPrefix = "exported_"

// Relabel returns fams as gantry re-exposes them for t: every series with
// t's labels (app, env, revision, version, instance, and group when set)
// added and sorted; an exposed label of the same name renamed with
// ExportedPrefix (again, until free); a reserved metric name
// (reserved(name) true; nil: none) renamed the same way, until the name
// is neither reserved nor another family's; timestamps
// dropped (the samples are as of gantry's scrape); a series repeated in
// the exposition kept once. fams is not modified.
func Relabel(fams []*dto.MetricFamily, t Target, reserved func(name string) bool) []*dto.MetricFamily {
	targetLabels := t.labels()
	names := make(map[string]bool, len(fams))
	for _, mf := range fams {
		names[mf.GetName()] = true
	}
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, mf := range fams {
		name := mf.GetName()
		if reserved != nil && reserved(name) {
			name = ExportedPrefix + name
			for names[name] || reserved(name) { // go_x and exported_go_x both exported
				name = ExportedPrefix + name
			}
			names[name] = true
		}
		nf := &dto.MetricFamily{Name: proto.String(name), Help: mf.Help, Type: mf.Type}
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			nm := &dto.Metric{Label: relabelPairs(m.GetLabel(), targetLabels),
				Counter: m.Counter, Gauge: m.Gauge, Untyped: m.Untyped, Summary: m.Summary, Histogram: m.Histogram}
			key := labelKey(nm.Label)
			if seen[key] {
				continue
			}
			seen[key] = true
			nf.Metric = append(nf.Metric, nm)
		}
		out = append(out, nf)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return out
}

// relabelPairs returns the exposed labels, renamed where a target label
// takes their name, plus the target labels, sorted by name.
func relabelPairs(exposed []*dto.LabelPair, target []*dto.LabelPair) []*dto.LabelPair {
	taken := make(map[string]bool, len(exposed)+len(target))
	for _, lp := range target {
		taken[lp.GetName()] = true
	}
	for _, lp := range exposed {
		if !isTarget(target, lp.GetName()) {
			taken[lp.GetName()] = true
		}
	}
	out := make([]*dto.LabelPair, 0, len(exposed)+len(target))
	out = append(out, target...)
	for _, lp := range exposed {
		name := lp.GetName()
		if isTarget(target, name) {
			for taken[name] {
				name = ExportedPrefix + name
			}
			taken[name] = true
			lp = &dto.LabelPair{Name: proto.String(name), Value: lp.Value}
		}
		out = append(out, lp)
	}
	slices.SortFunc(out, func(a, b *dto.LabelPair) int { return cmp.Compare(a.GetName(), b.GetName()) })
	return out
}

func isTarget(target []*dto.LabelPair, name string) bool {
	return slices.ContainsFunc(target, func(lp *dto.LabelPair) bool { return lp.GetName() == name })
}

// labelKey identifies a sorted label set.
func labelKey(ls []*dto.LabelPair) string {
	b := make([]byte, 0, 64)
	for _, lp := range ls {
		b = append(b, lp.GetName()...)
		b = append(b, model.SeparatorByte)
		b = append(b, lp.GetValue()...)
		b = append(b, model.SeparatorByte)
	}
	return string(b)
}

// labels are the target labels gantry adds to t's series.
func (t Target) labels() []*dto.LabelPair {
	ls := []*dto.LabelPair{
		{Name: proto.String("app"), Value: proto.String(t.App)},
		{Name: proto.String("env"), Value: proto.String(t.Env)},
		{Name: proto.String("instance"), Value: proto.String(t.Instance)},
		{Name: proto.String("revision"), Value: proto.String(strconv.Itoa(t.Revision))},
		{Name: proto.String("version"), Value: proto.String(t.Version)},
	}
	if t.Group != "" {
		ls = append(ls, &dto.LabelPair{Name: proto.String("group"), Value: proto.String(t.Group)})
	}
	return ls
}
