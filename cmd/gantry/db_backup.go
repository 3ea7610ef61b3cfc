package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gantry-dev/gantry/dbbackup"
)

func newDBBackupCmd(f *dbFlags) *cobra.Command {
	var revision string
	cmd := &cobra.Command{Use: "backup", Short: "Dump the database with pg_dump into the backup directory", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.store()
			if err != nil {
				return err
			}
			man, err := s.Backup(cmd.Context(), f.dbURL(), dbbackup.BackupOptions{AppRevision: revision, HistoryTable: f.table})
			if err != nil {
				return err
			}
			if f.json() {
				return printJSON(cmd.OutOrStdout(), man)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Backup %s: %d bytes in %v, schema version %s, %d tables\n",
				man.ID, man.SizeBytes, man.Duration(), orNone(man.SchemaVersion), len(man.TableRows))
			return nil
		}}
	cmd.Flags().StringVar(&revision, "app-revision", "", "application revision to record with the backup")
	return cmd
}

func newDBBackupsCmd(f *dbFlags) *cobra.Command {
	return &cobra.Command{Use: "backups", Short: "List backups, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.store()
			if err != nil {
				return err
			}
			list, err := s.List()
			if err != nil {
				return err
			}
			if f.json() {
				if list == nil {
					list = []*dbbackup.Manifest{}
				}
				return printJSON(cmd.OutOrStdout(), list)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCREATED\tDATABASE\tSIZE\tSCHEMA VERSION\tAPP REVISION")
			for _, m := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, m.CreatedAt.Format(time.RFC3339), m.Database, m.SizeBytes,
					orNone(m.SchemaVersion), m.AppRevision)
			}
			return tw.Flush()
		}}
}

func newDBRestoreCmd(f *dbFlags) *cobra.Command {
	return &cobra.Command{Use: "restore BACKUP-ID|latest", Short: "Verify a backup and restore it into the database (replaces its objects)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := f.store()
			if err != nil {
				return err
			}
			id := args[0]
			if id == "latest" {
				list, err := s.List()
				if err != nil {
					return err
				}
				if len(list) == 0 {
					return fmt.Errorf("no backups in %s", s.Dir)
				}
				id = list[0].ID
			}
			res, err := s.Restore(cmd.Context(), id, f.dbURL())
			if err != nil {
				return err
			}
			if f.json() {
				return printJSON(cmd.OutOrStdout(), map[string]any{"backup": res.Manifest, "restore_ms": res.Duration.Milliseconds()})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored backup %s (schema version %s) in %v\n", id, orNone(res.Manifest.SchemaVersion), res.Duration)
			return nil
		}}
}

func newDBPruneCmd(f *dbFlags) *cobra.Command {
	policy := dbbackup.DefaultRetention
	cmd := &cobra.Command{Use: "prune", Short: "Remove backups older than --max-age, keeping the newest --keep-last", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.store()
			if err != nil {
				return err
			}
			removed, err := s.Prune(policy, time.Now())
			if f.json() {
				ids := []string{}
				for _, m := range removed {
					ids = append(ids, m.ID)
				}
				if jerr := printJSON(cmd.OutOrStdout(), map[string]any{"removed": ids}); jerr != nil {
					return jerr
				}
			} else {
				for _, m := range removed {
					fmt.Fprintf(cmd.OutOrStdout(), "removed %s (%s)\n", m.ID, m.CreatedAt.Format(time.RFC3339))
				}
			}
			return err
		}}
	cmd.Flags().DurationVar(&policy.MaxAge, "max-age", dbbackup.DefaultMaxAge, "keep backups younger than this (0: no age rule)")
	cmd.Flags().IntVar(&policy.KeepLast, "keep-last", 0, "always keep this many newest backups")
	return cmd
}

func newDBDrillCmd(f *dbFlags) *cobra.Command {
	var opts dbbackup.DrillOptions
	cmd := &cobra.Command{Use: "drill", Short: "Restore the newest good backup into a scratch database and measure RTO and RPO", Args: cobra.NoArgs,
		Long: `Restores the newest backup that passes verification into a scratch database, compares every
table's row count with the backup's manifest, and judges the restore time against --rto and the
backup's age against --rpo. Exit codes: 0 every check passed, 5 a target was missed (RTO or RPO),
1 anything else (row counts differ, no usable backup, the restore failed).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.store()
			if err != nil {
				return err
			}
			opts.URL = f.dbURL()
			rep, err := s.Drill(cmd.Context(), opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json() {
				if err := printJSON(out, rep); err != nil {
					return err
				}
			} else {
				for _, sk := range rep.Skipped {
					fmt.Fprintf(out, "skipped %s: %s\n", sk.ID, sk.Reason)
				}
				fmt.Fprintf(out, "Backup %s (%s) restored into %s\n", rep.BackupID, rep.BackupTime.Format(time.RFC3339), rep.Scratch)
				fmt.Fprintf(out, "RTO: restore took %v (target %v: %s)\n", rep.RestoreTime.Round(time.Millisecond), rep.RTOTarget, meets(rep.MeetsRTO))
				fmt.Fprintf(out, "RPO: newest good backup is %v old (target %v: %s)\n", rep.RPO.Round(time.Second), rep.RPOTarget, meets(rep.MeetsRPO))
				fmt.Fprintf(out, "Row counts: %d table(s), %d mismatch(es)\n", len(rep.Tables), len(rep.Mismatches))
				for _, m := range rep.Mismatches {
					fmt.Fprintf(out, "  %s: backup recorded %d rows, restore has %d\n", m.Table, m.Want, m.Got)
				}
			}
			err = rep.Verdict()
			if errors.Is(err, dbbackup.ErrTargetMissed) {
				return &codedError{exitDrillMissed, fmt.Errorf("drill: %w", err)}
			}
			if err != nil {
				return fmt.Errorf("drill: %w", err)
			}
			return nil
		}}
	cmd.Flags().StringVar(&opts.Scratch, "scratch", "", "scratch database name (default gantry_drill_<unix time>)")
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "keep the scratch database afterwards")
	cmd.Flags().DurationVar(&opts.RTOTarget, "rto", dbbackup.DefaultRTOTarget, "recovery time objective to judge the restore time against")
	cmd.Flags().DurationVar(&opts.RPOTarget, "rpo", dbbackup.DefaultRPOTarget, "recovery point objective to judge the backup's age against")
	return cmd
}

func meets(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func newDBRollbackCmd(f *dbFlags) *cobra.Command {
	var r remote
	var to string
	cmd := &cobra.Command{
		Use:   "rollback APP --env ENV --to BACKUP|latest|VERSION",
		Short: "Restore an app's database through the gantry server and restart the matching revision",
		Long: `Asks the gantry server to roll the database of APP in ENV back: its proxy answers 503 with
Retry-After while every instance is drained and stopped, the backup is restored (or the schema
undone to VERSION), and the app restarts at the revision the backup was taken with. Refused when the
environment has no spec.database, the backup is unknown or corrupt, or a rollout is in progress.
The database URL comes from the spec; --url is not used.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return fmt.Errorf("--to is required: a backup ID (gantry db backups), latest, or a schema version")
			}
			r.output = f.output
			ctx := cmd.Context()
			c, env, err := r.target(ctx, args[0])
			if err != nil {
				return err
			}
			res, err := c.RollbackDatabase(ctx, args[0], env, to)
			if err != nil {
				return err
			}
			if f.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			what := "schema undone to version " + res.SchemaVersion
			if res.BackupID != "" {
				what = fmt.Sprintf("backup %s restored (schema version %s)", res.BackupID, res.SchemaVersion)
			}
			restart := fmt.Sprintf("revision %d restarted in place", res.Revision)
			if res.RolloutID != 0 {
				restart = fmt.Sprintf("rollout %d restarts revision %d (gantry rollout status %s --env %s --watch)", res.RolloutID, res.Revision, args[0], env)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s; %d instance(s) stopped; proxy in maintenance for %s; %s\n",
				what, res.StoppedInstances, res.Maintenance().Round(time.Millisecond), restart)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "backup ID, latest, or schema version to undo to")
	cmd.Flags().StringVar(&r.server, "server", "", "gantry server URL (default $GANTRY_SERVER)")
	cmd.Flags().StringVar(&r.token, "token", "", "API token (default $GANTRY_TOKEN)")
	cmd.Flags().StringVarP(&r.env, "env", "e", "", "environment (may be left out when the app has only one)")
	return cmd
}
