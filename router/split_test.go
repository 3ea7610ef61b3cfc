package router

import (
	"reflect"
	"testing"

	"github.com/gantry-dev/gantry/rollout"
)

func ready(id string, rev int) rollout.Instance {
	return rollout.Instance{ID: id, Revision: rev, Version: "v" + string(rune('0'+rev)), Addr: id + ":80", State: rollout.Running, Ready: true}
}

func route(rev, weight int, ids ...string) Route {
	rt := Route{Revision: rev, Version: "v" + string(rune('0'+rev)), Weight: weight}
	for _, id := range ids {
		rt.Endpoints = append(rt.Endpoints, Endpoint{ID: id, Addr: id + ":80"})
	}
	return rt
}

func inGroup(in rollout.Instance) rollout.Instance {
	in.Group = rollout.GroupBaseline
	return in
}

func baselineRoute(rt Route) Route {
	rt.Group = rollout.GroupBaseline
	return rt
}

func TestSplit(t *testing.T) {
	unready := ready("u", 2)
	unready.Ready = false
	terminating := ready("t", 1)
	terminating.State = rollout.Terminating
	starting := ready("s", 2)
	starting.State = rollout.Starting
	tests := []struct {
		name      string
		instances []rollout.Instance
		traffic   rollout.Traffic
		want      []Route
	}{
		{name: "nothing", want: nil},
		{
			name:      "even over instances without weights",
			instances: []rollout.Instance{ready("b", 2), ready("a", 1), ready("c", 1)},
			want:      []Route{route(1, 2, "a", "c"), route(2, 1, "b")},
		},
		{
			name:      "weights",
			instances: []rollout.Instance{ready("a", 1), ready("b", 1), ready("c", 2)},
			traffic:   rollout.Traffic{Weights: map[int]int{1: 95, 2: 5}},
			want:      []Route{route(1, 95, "a", "b"), route(2, 5, "c")},
		},
		{
			name:      "a revision the weights leave out gets nothing",
			instances: []rollout.Instance{ready("a", 1), ready("c", 2)},
			traffic:   rollout.Traffic{Weights: map[int]int{2: 100}},
			want:      []Route{route(1, 0, "a"), route(2, 100, "c")},
		},
		{
			name:      "weights naming only revisions without ready instances fall back to even",
			instances: []rollout.Instance{ready("a", 1), ready("b", 1)},
			traffic:   rollout.Traffic{Weights: map[int]int{2: 100}},
			want:      []Route{route(1, 2, "a", "b")},
		},
		{
			name:      "only ready running instances take traffic",
			instances: []rollout.Instance{ready("a", 1), unready, terminating, starting},
			traffic:   rollout.Traffic{Weights: map[int]int{1: 50, 2: 50}},
			want:      []Route{route(1, 50, "a")},
		},
		{
			name:      "a baseline group is a route of its own with the baseline share",
			instances: []rollout.Instance{ready("a", 1), inGroup(ready("b", 1)), ready("c", 2)},
			traffic:   rollout.Traffic{Weights: map[int]int{1: 90, 2: 5}, Baseline: 5},
			want:      []Route{route(1, 90, "a"), baselineRoute(route(1, 5, "b")), route(2, 5, "c")},
		},
		{
			name:      "a baseline group without a baseline share gets nothing",
			instances: []rollout.Instance{ready("a", 1), inGroup(ready("b", 1)), ready("c", 2)},
			traffic:   rollout.Traffic{Weights: map[int]int{1: 95, 2: 5}},
			want:      []Route{route(1, 95, "a"), baselineRoute(route(1, 0, "b")), route(2, 5, "c")},
		},
		{
			name:      "negative weights count as zero",
			instances: []rollout.Instance{ready("a", 1), ready("c", 2)},
			traffic:   rollout.Traffic{Weights: map[int]int{1: -5, 2: 100}},
			want:      []Route{route(1, 0, "a"), route(2, 100, "c")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Split(tt.instances, tt.traffic); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestPreviewSplit(t *testing.T) {
	instances := []rollout.Instance{ready("a", 1), ready("b", 2), ready("c", 2)}
	if got := PreviewSplit(instances, rollout.Traffic{Weights: map[int]int{1: 100}}); got != nil {
		t.Errorf("without a preview revision: %+v, want none", got)
	}
	got := PreviewSplit(instances, rollout.Traffic{Weights: map[int]int{1: 100}, Preview: 2})
	if want := []Route{route(2, 2, "b", "c")}; !reflect.DeepEqual(got, want) {
		t.Errorf("preview of revision 2 = %+v, want %+v", got, want)
	}
}

func TestShares(t *testing.T) {
	tests := []struct {
		name   string
		routes []Route
		want   map[Key]float64
	}{
		{"none", nil, map[Key]float64{}},
		{"weights", []Route{route(1, 75), route(2, 25)}, map[Key]float64{{Revision: 1}: 75, {Revision: 2}: 25}},
		{"instances", []Route{route(1, 2), route(2, 1), route(3, 1)}, map[Key]float64{{Revision: 1}: 50, {Revision: 2}: 25, {Revision: 3}: 25}},
		{"no weight at all", []Route{route(1, 0)}, map[Key]float64{}},
		{"baseline", []Route{route(1, 90), {Revision: 1, Group: rollout.GroupBaseline, Weight: 5}, route(2, 5)},
			map[Key]float64{{Revision: 1}: 90, {Revision: 1, Group: rollout.GroupBaseline}: 5, {Revision: 2}: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Shares(tt.routes); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Shares() = %v, want %v", got, tt.want)
			}
		})
	}
}
