package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/audit"
	"github.com/gantry-dev/gantry/client"
)

func init() { register(newAuditCmd) }

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify the audit log",
		Long: `The audit log records every mutating API call (who, what, when, from where,
and the result) and every automatic decision of the rollout engine (rollbacks,
promotions, aborts, phase changes). It is append-only and hash-chained:
gantry audit verify finds any record that was edited or deleted. Reading it
needs role admin on every environment.`,
	}
	cmd.AddCommand(newAuditListCmd(), newAuditVerifyCmd())
	return cmd
}

func newAuditListCmd() *cobra.Command {
	var (
		r     remote
		q     client.AuditQuery
		since time.Duration
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List audit records, oldest first",
		Example: "  gantry audit list --env production --since 24h\n  gantry audit list --actor ci --action deploy -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			if since < 0 {
				return fmt.Errorf("--since %v is negative: give how far back to look, such as 1h", since)
			}
			if since > 0 {
				q.Since = time.Now().Add(-since)
			}
			q.Env = r.env
			rs, err := c.Audit(cmd.Context(), q)
			if err != nil {
				return err
			}
			if r.json() {
				return printJSON(cmd.OutOrStdout(), rs)
			}
			printAudit(cmd.OutOrStdout(), rs)
			return nil
		},
	}
	r.addFlags(cmd, true)
	cmd.Flags().StringVar(&q.Actor, "actor", "", "only records by this actor (a token's name, or gantry)")
	cmd.Flags().StringVar(&q.Action, "action", "", "only records of this action, such as deploy, apply, token.create or RolledBack")
	cmd.Flags().DurationVar(&since, "since", 0, "only records this recent, such as 1h (default: all)")
	cmd.Flags().IntVar(&q.Limit, "limit", 1000, "at most this many records, the newest")
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var r remote
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain; exit 1 when a record was edited or deleted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := r.client()
			if err != nil {
				return err
			}
			rep, err := c.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if r.json() {
				if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else if rep.OK() {
				fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d records, head %d (%.16s…)\n", rep.Records, rep.Head.Seq, rep.Head.Hash)
			}
			if rep.OK() {
				return nil
			}
			first := rep.Problems[0]
			if !r.json() {
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "audit log DAMAGED: %d problem(s) in %d records; the first bad record is %d (%s)\n", len(rep.Problems), rep.Records, first.Seq, first.Kind)
				for _, p := range rep.Problems {
					fmt.Fprintf(w, "  %s\n", p)
				}
			}
			return fmt.Errorf("audit log damaged: record %d: %s", first.Seq, first.Kind)
		},
	}
	r.addFlags(cmd, false)
	return cmd
}

func printAudit(w io.Writer, rs []audit.Record) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tAPP/ENV\tTARGET\tRESULT\tFROM\tMESSAGE")
	for _, r := range rs {
		where := r.App
		if r.Env != "" {
			where += "/" + r.Env
		}
		result := r.Outcome
		if r.Status != 0 {
			result = fmt.Sprintf("%d %s", r.Status, r.Outcome)
		}
		actor := r.Actor
		if actor == "" {
			actor = "(none)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.Local().Format(time.DateTime), actor, r.Action,
			where, r.Target, result, r.RemoteAddr, oneLine(r.Message, 80))
	}
	tw.Flush()
}

func oneLine(s string, n int) string {
	runes := []rune(s)
	for i, c := range runes {
		if c == '\n' {
			runes = runes[:i]
			break
		}
	}
	if len(runes) > n {
		return string(runes[:n-1]) + "…"
	}
	return string(runes)
}
