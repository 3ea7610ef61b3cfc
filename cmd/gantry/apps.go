package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
	"github.com/gantry-dev/gantry/client"
)

func init() { register(newAppsCmd) }

// newAppsCmd lists every applied app in every environment; `gantry
// rollout list` is the same command.
func newAppsCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:     "apps",
		Aliases: []string{"app"},
		Short:   "List every app in every environment: phase, stable and new revision, traffic, ready instances",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			rows, err := listApps(cmd.Context(), c)
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), rows)
			}
			printApps(cmd.OutOrStdout(), rows)
			return nil
		},
	}
	r.addFlags(cmd, false)
	return cmd
}

// appRow is one app in one environment, as `gantry apps -o json` prints it.
type appRow struct {
	App    string     `json:"app"`
	Env    string     `json:"env"`
	Status api.Status `json:"status"`
}

// listApps reads the status of every app in every environment, by name.
func listApps(ctx context.Context, c *client.Client) ([]appRow, error) {
	apps, err := c.Apps(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	rows := []appRow{}
	for _, a := range apps {
		for _, env := range a.Environments {
			st, err := c.Status(ctx, a.Name, env)
			if err != nil {
				return nil, fmt.Errorf("status of %s in %s: %w", a.Name, env, err)
			}
			rows = append(rows, appRow{App: a.Name, Env: env, Status: st})
		}
	}
	return rows, nil
}

func printApps(w io.Writer, rows []appRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no apps: apply one with gantry apply -f gantry.yaml")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tENV\tPHASE\tSTABLE\tNEW\tTRAFFIC\tREADY\tAGE")
	for _, row := range rows {
		st := row.Status
		phase, stable, next, age := "NeverDeployed", "-", "-", "-"
		if ro := st.Rollout; ro != nil {
			phase = ro.Phase.String()
			if !ro.Phase.Final() {
				next = revisionLabel(st, ro.ToRevision)
			}
			age = humanAge(time.Since(ro.CreatedAt))
		}
		if st.Stable != 0 {
			stable = revisionLabel(st, st.Stable)
		}
		var traffic []string
		ready, total := 0, 0
		for _, rs := range st.Revisions {
			if rs.Traffic.Weight > 0 {
				traffic = append(traffic, fmt.Sprintf("%s:%.0f%%", strings.ReplaceAll(rs.Name(), " ", "/"), rs.Traffic.Weight))
			}
			for _, in := range rs.Instances {
				total++
				if in.Ready {
					ready++
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", row.App, row.Env, phase, stable, next,
			cmp.Or(strings.Join(traffic, " "), "-"), ready, total, age)
	}
	tw.Flush()
}

// revisionLabel renders "3 (v1.4.0)", or "3" when the status does not
// list the revision.
func revisionLabel(st api.Status, n int) string {
	for _, rs := range st.Revisions {
		if rs.Number == n && rs.Group == "" {
			return fmt.Sprintf("%d (%s)", n, rs.Version)
		}
	}
	return fmt.Sprint(n)
}

// humanAge renders a duration as kubectl does: 45s, 12m, 5h, 3d.
func humanAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
