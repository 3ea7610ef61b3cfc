package spec

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// TemplateVars are the values of a workload's placeholders for one
// instance: {{.Version}}, {{.App}}, {{.Env}}, {{.Instance}}, {{.Port}} and
// {{.Revision}}.
type TemplateVars struct {
	// Version is the version being deployed, such as "v1.4.2".
	Version string
	// App is the app's metadata.name.
	App string
	// Env is the environment's name.
	Env string
	// Instance is the instance's name, unique within the app and environment.
	Instance string
	// Port is the port the instance must listen on: a free loopback port on
	// the local backend, the workload's port on Kubernetes.
	Port int
	// Revision is the revision number, from 1.
	Revision int
}

// templateVarNames lists TemplateVars' fields, sorted, for messages.
var templateVarNames = []string{"App", "Env", "Instance", "Port", "Revision", "Version"}

// Render returns w with its placeholders filled from v in Command, Args,
// Env values, WorkingDir and Image. Text without placeholders is kept as is.
func (w Workload) Render(v TemplateVars) (Workload, error) {
	out := w
	var err error
	if out.Command, err = render("command", w.Command, v); err != nil {
		return Workload{}, err
	}
	out.Args = make([]string, len(w.Args))
	for i, a := range w.Args {
		if out.Args[i], err = render(fmt.Sprintf("args[%d]", i), a, v); err != nil {
			return Workload{}, err
		}
	}
	if w.Args == nil {
		out.Args = nil
	}
	out.Env = slices.Clone(w.Env)
	for i, e := range w.Env {
		if out.Env[i].Value, err = render("env "+e.Name, e.Value, v); err != nil {
			return Workload{}, err
		}
	}
	if out.WorkingDir, err = render("workingDir", w.WorkingDir, v); err != nil {
		return Workload{}, err
	}
	if out.Image, err = render("image", w.Image, v); err != nil {
		return Workload{}, err
	}
	return out, nil
}

func render(name, text string, v TemplateVars) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := newTemplate(name, text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", fmt.Errorf("render %s %q: %w", name, text, err)
	}
	return b.String(), nil
}

func newTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("placeholder syntax in %q: %s", text, templateErrText(err))
	}
	return t, nil
}

// checkTemplate parses text as a placeholder template and returns why it
// cannot be rendered: a syntax error or an unknown variable.
func checkTemplate(text string) error {
	if !strings.Contains(text, "{{") {
		return nil
	}
	t, err := newTemplate("field", text)
	if err != nil {
		return err
	}
	if t.Tree != nil {
		if name, ok := unknownVar(t.Tree.Root); ok {
			if s, ok := closest(name, templateVarNames); ok {
				return fmt.Errorf("unknown placeholder {{.%s}}; did you mean {{.%s}}?", name, s)
			}
			return fmt.Errorf("unknown placeholder {{.%s}}; known placeholders: %s", name, placeholderList())
		}
	}
	sample := TemplateVars{Version: "v1", App: "app", Env: "env", Instance: "app-1", Port: DefaultPort, Revision: 1}
	if err := t.Execute(new(strings.Builder), sample); err != nil {
		return fmt.Errorf("placeholder in %q cannot be rendered: %s", text, templateErrText(err))
	}
	return nil
}

// unknownVar finds the first {{.Field}} whose name is not a TemplateVars
// field, outside the bodies of with and range (where dot changes).
func unknownVar(n parse.Node) (string, bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return "", false
		}
		for _, c := range n.Nodes {
			if name, ok := unknownVar(c); ok {
				return name, true
			}
		}
	case *parse.ActionNode:
		return unknownVar(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return "", false
		}
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				if name, ok := unknownVar(a); ok {
					return name, true
				}
			}
		}
	case *parse.FieldNode:
		if len(n.Ident) > 0 && !slices.Contains(templateVarNames, n.Ident[0]) {
			return n.Ident[0], true
		}
	case *parse.IfNode:
		if name, ok := unknownVar(n.Pipe); ok {
			return name, true
		}
		if name, ok := unknownVar(n.List); ok {
			return name, true
		}
		return unknownVar(n.ElseList)
	case *parse.WithNode:
		return unknownVar(n.Pipe)
	case *parse.RangeNode:
		return unknownVar(n.Pipe)
	}
	return "", false
}

func placeholderList() string {
	parts := make([]string, len(templateVarNames))
	for i, n := range templateVarNames {
		parts[i] = "{{." + n + "}}"
	}
	return strings.Join(parts, ", ")
}

// templateErrText drops text/template's "template: name:1:2: " prefix,
// which names our internal template rather than the user's field.
func templateErrText(err error) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, "template: "); ok {
		// rest is "name:line:col: message" or "name:line: message".
		if i := strings.LastIndex(rest, ": "); i >= 0 {
			return rest[i+2:]
		}
	}
	return s
}
