package querycheck

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

const errQuery = `sum(rate(http_requests_total{app="{{.App}}",env="{{.Env}}",revision="{{.Revision}}",status=~"5.."}[1m]))`

func TestCompile_badSpecs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  Spec
		field string
		want  string
	}{
		{"template", Spec{Query: `up{app="{{.App}"}`, SuccessCondition: "result < 1"}, "query", "template"},
		{"unknown field", Spec{Query: `up{app="{{.Service}}"}`, SuccessCondition: "result < 1"}, "query", "Service"},
		{"promql", Spec{Query: `sum(rate(up[1m])`, SuccessCondition: "result < 1"}, "query", "not valid PromQL"},
		{"empty query", Spec{SuccessCondition: "result < 1"}, "query", "required"},
		{"condition syntax", Spec{Query: "up", SuccessCondition: "result <"}, "successCondition", "result"},
		{"condition not bool", Spec{Query: "up", SuccessCondition: "result + 1"}, "successCondition", "bool"},
		{"condition unknown name", Spec{Query: "up", SuccessCondition: "value < 1"}, "successCondition", "value"},
		{"interval", Spec{Query: "up", SuccessCondition: "result < 1", IntervalSeconds: -1}, "intervalSeconds", "between"},
		{"failure limit", Spec{Query: "up", SuccessCondition: "result < 1", FailureLimit: -2}, "failureLimit", "between"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.spec)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Message, tc.want) {
				t.Errorf("got %s: %s; want field %s mentioning %q", fe.Field, fe.Message, tc.field, tc.want)
			}
		})
	}
}

func TestCheck_Render(t *testing.T) {
	c, err := Compile(Spec{Name: "errors", Query: errQuery, SuccessCondition: "result < 0.05"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Render(Vars{App: "web", Env: "prod", Revision: 7, Version: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `sum(rate(http_requests_total{app="web",env="prod",revision="7",status=~"5.."}[1m]))`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if c.Interval != DefaultInterval {
		t.Errorf("interval %s, want the default %s", c.Interval, DefaultInterval)
	}
}

func TestJudge(t *testing.T) {
	c, err := Compile(Spec{Name: "errors", Query: errQuery, SuccessCondition: "result < 0.05 && result >= 0", FailureLimit: 1})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	m := func(values []float64, err error) Measurement {
		at = at.Add(time.Second)
		return Measure(c, at, values, err)
	}
	for _, tc := range []struct {
		name     string
		ms       []Measurement
		fail     bool
		failures int
		reason   string
	}{
		{"none", nil, false, 0, "not measured yet"},
		{"passing", []Measurement{m([]float64{0.01}, nil), m([]float64{0.02}, nil)}, false, 0, "result 0.02"},
		{"within the limit", []Measurement{m([]float64{0.2}, nil), m([]float64{0.01}, nil)}, false, 1, "1 failure(s) of 1 allowed"},
		{"over the limit", []Measurement{m([]float64{0.2}, nil), m([]float64{0.01}, nil), m([]float64{0.3}, nil)}, true, 2, `"result < 0.05 && result >= 0" was false for result 0.2 at 12:00:05, 0.3 at 12:00:07`},
		{"no data counts neither way", []Measurement{m(nil, nil), m([]float64{math.NaN()}, nil), m(nil, nil), m(nil, nil), m(nil, nil)}, false, 0, "no data"},
		{"errors in a row", []Measurement{m(nil, errors.New("bad gateway")), m([]float64{1, 2}, nil), m(nil, errors.New("x")), m(nil, errors.New("timeout"))}, true, 0, "4 times in a row: timeout"},
		{"errors broken by a pass", []Measurement{m(nil, errors.New("x")), m(nil, errors.New("x")), m(nil, errors.New("x")), m([]float64{0}, nil), m(nil, errors.New("x"))}, false, 0, "last measurement error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(c, tc.ms)
			if v.Fail != tc.fail || v.Failures != tc.failures || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("got %+v; want fail %v, %d failures, reason with %q", v, tc.fail, tc.failures, tc.reason)
			}
		})
	}
}
