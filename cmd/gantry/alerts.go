package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/api"
)

func init() { register(newAlertsCmd) }

func newAlertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Alerts of the server's alert rules (Prometheus rule files, gantry server --alert-rules)",
	}
	var r remote
	var rules bool
	list := &cobra.Command{
		Use:   "list [--rules]",
		Short: "List pending, firing and recently resolved alerts (with --rules: every rule and its last evaluation), and what the alerting history keeps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := r.checkOutput(); err != nil {
				return err
			}
			c, err := r.client()
			if err != nil {
				return err
			}
			res, err := c.Alerts(cmd.Context())
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if rules {
				printAlertRules(cmd.OutOrStdout(), res)
			} else {
				printAlerts(cmd.OutOrStdout(), res, time.Now())
			}
			printAlertHistory(cmd.OutOrStdout(), res.History, time.Now())
			return nil
		},
	}
	list.Flags().BoolVar(&rules, "rules", false, "list the rules instead, with where they are and their last evaluation's error")
	r.addFlags(list, false)
	cmd.AddCommand(list)
	return cmd
}

func printAlerts(w io.Writer, res api.Alerts, now time.Time) {
	if len(res.RuleFiles) == 0 {
		fmt.Fprintln(w, "no alert rules: start the server with --alert-rules FILE (Prometheus's rule file format, docs/monitoring.md)")
		return
	}
	if len(res.Alerts) == 0 {
		fmt.Fprintf(w, "no alerts (%d rules from %s)\n", len(res.Rules), strings.Join(res.RuleFiles, ", "))
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ALERT\tSTATE\tSINCE\tVALUE\tLABELS\tSUMMARY")
	for _, a := range res.Alerts {
		since := a.ActiveAt
		switch a.State {
		case "firing":
			since = a.FiredAt
		case "resolved":
			since = a.ResolvedAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4g\t%s\t%s\n", a.Name, a.State, humanAge(now.Sub(since)), a.Value, labelText(a.Labels), a.Annotations["summary"])
	}
	tw.Flush()
}

func printAlertRules(w io.Writer, res api.Alerts) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tKIND\tWHERE\tFOR\tLAST ERROR")
	for _, r := range res.Rules {
		errText := r.LastError
		if errText == "" {
			errText = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Kind, r.Rule, time.Duration(r.ForSeconds*float64(time.Second)), errText)
	}
	tw.Flush()
}

// labelText writes labels as {a="1", b="2"}, sorted, without alertname.
func labelText(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		if k != "alertname" {
			parts = append(parts, fmt.Sprintf("%s=%q", k, l[k]))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
