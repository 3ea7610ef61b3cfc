package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseWith_Backends(t *testing.T) {
	src := `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server, image: example/api}
environments:
  - name: dev
  - name: prod
    backend: kubernetes
`
	tests := []struct {
		name     string
		backends []string
		want     []string // "line:col path fragment"; none: valid
	}{
		{name: "every backend gantry knows", backends: nil},
		{name: "both registered", backends: []string{"kubernetes", "local"}},
		{name: "kubernetes not registered", backends: []string{"local"},
			want: []string{`9:5 environments[1].backend "kubernetes" is not a backend this server runs; set backend to one of: local`}},
		{name: "the default not registered", backends: []string{"fake", "kubernetes"},
			want: []string{`7:5 environments[0].backend "local" (the default when backend is not set) is not a backend this server runs; set backend to one of: fake, kubernetes`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWith("gantry.yaml", []byte(src), ParseOptions{Backends: tt.backends})
			var list ErrorList
			if err != nil && !errors.As(err, &list) {
				t.Fatalf("ParseWith: %v, want an ErrorList", err)
			}
			if len(list) != len(tt.want) {
				t.Fatalf("ParseWith: %v, want %d problem(s): %q", err, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				e := list[i]
				pos, rest, _ := strings.Cut(w, " ")
				path, msg, _ := strings.Cut(rest, " ")
				if got := fmt.Sprintf("%d:%d", e.Line, e.Column); got != pos || e.Path != path || !strings.Contains(e.Message, msg) || e.File != "gantry.yaml" {
					t.Errorf("problem %d = %s, want at %s, %s: %s", i, e.Error(), pos, path, msg)
				}
			}
		})
	}
}
