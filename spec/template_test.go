package spec

import (
	"slices"
	"strings"
	"testing"
)

func TestWorkload_Render(t *testing.T) {
	w := Workload{
		Command:    "./bin/{{.App}}",
		Args:       []string{"--port", "{{.Port}}", "--version={{.Version}}", "plain"},
		Env:        []EnvVar{{Name: "INSTANCE", Value: "{{.Instance}}"}, {Name: "REV", Value: "r{{.Revision}}-{{.Env}}"}},
		WorkingDir: "/srv/{{.Env}}",
		Image:      "registry.example.com/api:{{.Version}}",
		Port:       8080,
	}
	v := TemplateVars{Version: "v1.2.3", App: "api", Env: "staging", Instance: "api-7", Port: 40001, Revision: 7}
	got, err := w.Render(v)
	if err != nil {
		t.Fatal(err)
	}
	want := Workload{
		Command:    "./bin/api",
		Args:       []string{"--port", "40001", "--version=v1.2.3", "plain"},
		Env:        []EnvVar{{Name: "INSTANCE", Value: "api-7"}, {Name: "REV", Value: "r7-staging"}},
		WorkingDir: "/srv/staging",
		Image:      "registry.example.com/api:v1.2.3",
		Port:       8080,
	}
	if got.Command != want.Command || !slices.Equal(got.Args, want.Args) || !slices.Equal(got.Env, want.Env) ||
		got.WorkingDir != want.WorkingDir || got.Image != want.Image || got.Port != want.Port {
		t.Errorf("Render() =\n%+v\nwant\n%+v", got, want)
	}
	if w.Args[1] != "{{.Port}}" || w.Env[0].Value != "{{.Instance}}" {
		t.Errorf("Render changed its receiver: %+v", w)
	}
}

func TestWorkload_RenderErrors(t *testing.T) {
	tests := []struct {
		name     string
		w        Workload
		fragment string
	}{
		{"unknown variable", Workload{Args: []string{"{{.Nope}}"}}, "can't evaluate field Nope"},
		{"syntax", Workload{Command: "{{.Port"}, "placeholder syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.w.Render(TemplateVars{})
			if err == nil || !strings.Contains(err.Error(), tt.fragment) {
				t.Errorf("Render() error = %v, want one containing %q", err, tt.fragment)
			}
		})
	}
}

func TestCheckTemplate(t *testing.T) {
	tests := []struct {
		text     string
		fragment string // empty: valid
	}{
		{"plain text", ""},
		{"{{.Port}}", ""},
		{"{{if .Version}}v={{.Version}}{{end}}", ""},
		{"{{.Verson}}", "did you mean {{.Version}}?"},
		{"{{.Zzzzzzzz}}", "known placeholders: {{.App}}, {{.Env}}"},
		{"{{if .Foo}}x{{end}}", "unknown placeholder {{.Foo}}"},
		{"{{.Port.Number}}", "cannot be rendered"},
		{"{{nofunc .Port}}", "placeholder syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			err := checkTemplate(tt.text)
			switch {
			case tt.fragment == "" && err != nil:
				t.Errorf("checkTemplate() = %v, want nil", err)
			case tt.fragment != "" && (err == nil || !strings.Contains(err.Error(), tt.fragment)):
				t.Errorf("checkTemplate() = %v, want an error containing %q", err, tt.fragment)
			}
		})
	}
}
