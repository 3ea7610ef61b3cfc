package featureflag_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gantry-dev/gantry/featureflag"
	"github.com/gantry-dev/gantry/spec"
)

func TestParseFile(t *testing.T) {
	f, err := featureflag.ParseFile("testdata/flags.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Environment != "production" {
		t.Errorf("environment = %q, want production", f.Environment)
	}
	var keys []string
	for _, fl := range f.Flags {
		keys = append(keys, fl.Key)
	}
	if got, want := strings.Join(keys, ","), "greeting,max-items,new-ai-agent,old-checkout,theme"; got != want {
		t.Errorf("flags = %s, want %s", got, want)
	}
	types := map[string]featureflag.Type{}
	for _, fl := range f.Flags {
		c, err := featureflag.Compile(fl)
		if err != nil {
			t.Fatalf("compile %s: %v", fl.Key, err)
		}
		types[fl.Key] = c.Flag.Type
	}
	if types["max-items"] != featureflag.Number || types["theme"] != featureflag.Object || types["greeting"] != featureflag.String {
		t.Errorf("types = %v, want max-items number, theme object, greeting string", types)
	}
}

func TestParse_bad(t *testing.T) {
	_, err := featureflag.ParseFile("testdata/bad.yaml")
	var list spec.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v, want a spec.ErrorList", err)
	}
	want := []string{
		`testdata/bad.yaml:6:16: flags.mixed.variants.on: variant type mismatch: variant on is a boolean but variant off is a string`,
		`testdata/bad.yaml:13:31: flags.unknown-op.rules[0].when[0].op: unknown operator "greaterThan": use one of equals, notEquals, in`,
		`testdata/bad.yaml:18:28: flags.too-much.rollout.percentage: percentage 120 is out of range: use 0 to 100`,
		`testdata/bad.yaml:22:5: flags.typo.rollouts: unknown field "rollouts"`,
	}
	if len(list) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		if i < len(list) && !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d:\n got %s\nwant %s…", i, list[i].Error(), w)
		}
	}
}
