package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/client"
	"github.com/gantry-dev/gantry/spec"
)

func init() { register(newDiffCmd) }

func newDiffCmd() *cobra.Command {
	var r remote
	var file string
	cmd := &cobra.Command{
		Use:   "diff [-f FILE]",
		Short: "Show what applying a gantry.yaml would change, field by field (nothing is changed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			d, err := diffWithServer(cmd, c, file)
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), d)
			}
			d.print(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "gantry.yaml", "gantry.yaml to compare with what the server has")
	r.addFlags(cmd, false)
	return cmd
}

// specDiff is what applying a spec would change.
type specDiff struct {
	App string `json:"app"`
	// Created: the server has no app of this name yet.
	Created bool         `json:"created"`
	Changes []specChange `json:"changes"`
}

// specChange is one field that differs: Old is absent for an added field,
// New for a removed one.
type specChange struct {
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// diffWithServer parses file (every problem reported, as validate does)
// and compares it with the app the server holds.
func diffWithServer(cmd *cobra.Command, c *client.Client, file string) (specDiff, error) {
	app, err := spec.ParseFile(file)
	if err != nil {
		return specDiff{}, err
	}
	d := specDiff{App: app.Metadata.Name, Changes: []specChange{}}
	cur, err := c.App(cmd.Context(), app.Metadata.Name)
	if client.IsNotFound(err) {
		d.Created = true
		cur.Spec = spec.App{}
	} else if err != nil {
		return d, err
	}
	d.Changes = diffApps(cur.Spec, *app)
	return d, nil
}

// diffApps compares two specs field by field, by their JSON form, with
// environments keyed by name rather than position.
func diffApps(old, new spec.App) []specChange {
	a, b := map[string]any{}, map[string]any{}
	flatten("", toJSON(old), a)
	flatten("", toJSON(new), b)
	paths := map[string]bool{}
	for p := range a {
		paths[p] = true
	}
	for p := range b {
		paths[p] = true
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	var out []specChange
	for _, p := range sorted {
		ov, inOld := a[p]
		nv, inNew := b[p]
		switch {
		case inOld && inNew && fmt.Sprint(ov) == fmt.Sprint(nv):
		case inOld && inNew:
			out = append(out, specChange{Path: p, Old: ov, New: nv})
		case inOld:
			out = append(out, specChange{Path: p, Old: ov})
		default:
			out = append(out, specChange{Path: p, New: nv})
		}
	}
	return out
}

func toJSON(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// flatten puts every leaf of v into out by its path: spec.replicas,
// environments[production].proxy.listen, spec.workload.args[1].
func flatten(path string, v any, out map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			flatten(join(path, k), e, out)
		}
	case []any:
		for i, e := range t {
			key := strconv.Itoa(i)
			if m, ok := e.(map[string]any); ok {
				if name, ok := m["name"].(string); ok && name != "" {
					key = name
				}
			}
			flatten(fmt.Sprintf("%s[%s]", path, key), e, out)
		}
	case nil:
	default:
		out[path] = t
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d specDiff) print(w io.Writer) {
	switch {
	case len(d.Changes) == 0:
		fmt.Fprintf(w, "app %s: no changes\n", d.App)
		return
	case d.Created:
		fmt.Fprintf(w, "app %s would be created:\n", d.App)
	default:
		fmt.Fprintf(w, "app %s would change in %s:\n", d.App, countNoun(len(d.Changes), "field"))
	}
	for _, c := range d.Changes {
		switch {
		case c.Old == nil:
			fmt.Fprintf(w, "  + %s: %s\n", c.Path, value(c.New))
		case c.New == nil:
			fmt.Fprintf(w, "  - %s: %s\n", c.Path, value(c.Old))
		default:
			fmt.Fprintf(w, "  ~ %s: %s → %s\n", c.Path, value(c.Old), value(c.New))
		}
	}
}

func value(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, _ := json.Marshal(v)
	return strings.TrimSpace(string(b))
}
