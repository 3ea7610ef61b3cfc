package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/gantry-dev/gantry/dbbackup"
	"github.com/gantry-dev/gantry/migrate"
	"github.com/spf13/cobra"
)

func init() { register(newDBCmd) }

// dbFlags are the flags every `gantry db` command shares.
type dbFlags struct {
	url       string
	locations []string
	table     string
	backupDir string
	output    string
}

func (f *dbFlags) dbURL() string {
	if f.url != "" {
		return f.url
	}
	return os.Getenv("GANTRY_DATABASE_URL")
}

func (f *dbFlags) json() bool { return f.output == "json" }

func (f *dbFlags) check() error {
	switch f.output {
	case "", "text", "json":
		return nil
	}
	return fmt.Errorf("--output %q is not supported: use json, or leave it out for text", f.output)
}

func (f *dbFlags) open(cmd *cobra.Command) (*migrate.Migrator, error) {
	opts := migrate.Options{URL: f.dbURL(), Locations: f.locations, Table: f.table}
	if !f.json() {
		w := cmd.ErrOrStderr()
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	}
	return migrate.Open(cmd.Context(), opts)
}

func (f *dbFlags) store() (*dbbackup.Store, error) { return dbbackup.Open(f.backupDir) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newDBCmd() *cobra.Command {
	f := &dbFlags{}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Database migrations (Flyway-compatible) and backups",
		Long: `Migrations follow Flyway's conventions: V<version>__<description>.sql, U<version>__<description>.sql
and R__<description>.sql files, recorded in flyway_schema_history with Flyway's checksums.
The database comes from --url or GANTRY_DATABASE_URL; its password may also come from PGPASSWORD or
a password file (~/.pgpass, PGPASSFILE). Passwords are never printed.`,
		PersistentPreRunE: func(*cobra.Command, []string) error { return f.check() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.url, "url", "", "database URL, postgres://user@host:5432/dbname (default $GANTRY_DATABASE_URL)")
	pf.StringSliceVar(&f.locations, "locations", []string{migrate.DefaultLocation}, "directories holding the migrations (searched recursively)")
	pf.StringVar(&f.table, "table", migrate.DefaultTable, "schema history table")
	pf.StringVar(&f.backupDir, "backup-dir", "backups", "directory holding the backups")
	pf.StringVarP(&f.output, "output", "o", "", "output format: json, or empty for text")
	cmd.AddCommand(newDBInfoCmd(f), newDBMigrateCmd(f), newDBValidateCmd(f), newDBUndoCmd(f), newDBBaselineCmd(f),
		newDBRepairCmd(f), newDBBackupCmd(f), newDBBackupsCmd(f), newDBRestoreCmd(f), newDBPruneCmd(f), newDBDrillCmd(f),
		newDBRollbackCmd(f))
	return cmd
}

// planFlags adds --out-of-order, --target and --fail-on-gaps.
func planFlags(cmd *cobra.Command, target bool) func() (migrate.PlanOptions, error) {
	var (
		o       migrate.PlanOptions
		version string
	)
	cmd.Flags().BoolVar(&o.OutOfOrder, "out-of-order", false, "apply migrations older than the current version that were never applied")
	cmd.Flags().BoolVar(&o.FailOnGaps, "fail-on-gaps", false, "treat gaps between versions (2 then 4) as errors")
	if target {
		cmd.Flags().StringVar(&version, "target", "", "stop at this version (default: the latest)")
	}
	return func() (migrate.PlanOptions, error) {
		if version != "" {
			v, err := migrate.ParseVersion(version)
			if err != nil {
				return o, fmt.Errorf("--target: %w", err)
			}
			o.Target = v
		}
		return o, nil
	}
}

// infoJSON is the wire form of one info entry.
type infoJSON struct {
	Category      string `json:"category"`
	Version       string `json:"version,omitempty"`
	Description   string `json:"description"`
	Type          string `json:"type"`
	Script        string `json:"script"`
	Checksum      *int32 `json:"checksum,omitempty"`
	State         string `json:"state"`
	InstalledOn   string `json:"installed_on,omitempty"`
	InstalledRank int    `json:"installed_rank,omitempty"`
	ExecutionMS   int64  `json:"execution_time_ms,omitempty"`
	Undoable      bool   `json:"undoable"`
}

func newDBInfoCmd(f *dbFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "info", Short: "Show every migration's state, the current version and version gaps", Args: cobra.NoArgs}
	plan := planFlags(cmd, true)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		opts, err := plan()
		if err != nil {
			return err
		}
		m, err := f.open(cmd)
		if err != nil {
			return err
		}
		defer m.Close(context.WithoutCancel(cmd.Context()))
		info, err := m.Info(cmd.Context(), opts)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		if f.json() {
			entries := make([]infoJSON, 0, len(info.Entries))
			for _, e := range info.Entries {
				j := infoJSON{Category: e.Kind.String(), Version: e.Version.String(), Description: e.Description, Type: e.Type,
					Script: e.Script, Checksum: e.Checksum, State: e.State.String(), Undoable: e.Undoable}
				if a := e.Applied; a != nil {
					j.InstalledOn, j.InstalledRank, j.ExecutionMS = a.InstalledOn.Format(time.RFC3339), a.Rank, a.ExecutionTime.Milliseconds()
				}
				entries = append(entries, j)
			}
			gaps := make([]string, 0, len(info.Gaps))
			for _, g := range info.Gaps {
				gaps = append(gaps, g.After.String()+" -> "+g.Before.String())
			}
			return writeJSON(out, map[string]any{"table": m.Table(), "current_version": info.Current.String(),
				"migrations": entries, "gaps": gaps, "problems": info.Problems})
		}
		fmt.Fprintf(out, "Schema history: %s\nCurrent version: %s\n\n", m.Table(), orNone(info.Current.String()))
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CATEGORY\tVERSION\tDESCRIPTION\tTYPE\tINSTALLED ON\tSTATE\tUNDOABLE")
		for _, e := range info.Entries {
			on := ""
			if e.Applied != nil {
				on = e.Applied.InstalledOn.Format("2006-01-02 15:04:05")
			}
			undo := "No"
			if e.Undoable {
				undo = "Yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Kind, e.Version, e.Description, e.Type, on, e.State, undo)
		}
		tw.Flush()
		for _, g := range info.Gaps {
			fmt.Fprintf(out, "gap: versions jump from %s to %s (legal; --fail-on-gaps makes it an error)\n", g.After, g.Before)
		}
		return nil
	}
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func newDBMigrateCmd(f *dbFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply pending migrations, each in its own transaction", Args: cobra.NoArgs}
	plan := planFlags(cmd, true)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		opts, err := plan()
		if err != nil {
			return err
		}
		m, err := f.open(cmd)
		if err != nil {
			return err
		}
		defer m.Close(context.WithoutCancel(cmd.Context()))
		res, err := m.Migrate(cmd.Context(), opts)
		if f.json() && res != nil {
			applied := []string{}
			for _, r := range res.Applied {
				applied = append(applied, r.Script.Name)
			}
			if jerr := writeJSON(cmd.OutOrStdout(), map[string]any{"from": res.From.String(), "to": res.To.String(), "applied": applied}); jerr != nil {
				return jerr
			}
		}
		return err
	}
	return cmd
}

func newDBValidateCmd(f *dbFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "validate", Short: "Check local migrations against the schema history", Args: cobra.NoArgs}
	plan := planFlags(cmd, false)
	ignorePending := cmd.Flags().Bool("ignore-pending", false, "do not count migrations not yet applied as errors")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		opts, err := plan()
		if err != nil {
			return err
		}
		m, err := f.open(cmd)
		if err != nil {
			return err
		}
		defer m.Close(context.WithoutCancel(cmd.Context()))
		_, err = m.Validate(cmd.Context(), migrate.ValidateOptions{PlanOptions: opts, IgnorePending: *ignorePending})
		if err == nil && !f.json() {
			fmt.Fprintf(cmd.OutOrStdout(), "Validated %d migration(s) against %s: no problems\n",
				len(m.Scripts().Versioned)+len(m.Scripts().Repeatable), m.Table())
		}
		return err
	}
	return cmd
}

func newDBUndoCmd(f *dbFlags) *cobra.Command {
	var (
		target string
		count  int
	)
	cmd := &cobra.Command{Use: "undo", Short: "Undo the latest applied migrations with their U<version>__*.sql files", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := migrate.UndoOptions{Count: count}
			if target != "" {
				v, err := migrate.ParseVersion(target)
				if err != nil {
					return fmt.Errorf("--target: %w", err)
				}
				opts.Target = v
			}
			m, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer m.Close(context.WithoutCancel(cmd.Context()))
			res, err := m.Undo(cmd.Context(), opts)
			if f.json() && res != nil {
				undone := []string{}
				for _, r := range res.Undone {
					undone = append(undone, r.Script.Name)
				}
				if jerr := writeJSON(cmd.OutOrStdout(), map[string]any{"from": res.From.String(), "to": res.To.String(), "undone": undone}); jerr != nil {
					return jerr
				}
			}
			return err
		}}
	cmd.Flags().StringVar(&target, "target", "", "undo every migration above this version")
	cmd.Flags().IntVar(&count, "count", 1, "how many migrations to undo when --target is not set")
	return cmd
}

func newDBBaselineCmd(f *dbFlags) *cobra.Command {
	var version, desc string
	cmd := &cobra.Command{Use: "baseline", Short: "Start the history of an existing database at a version", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := migrate.ParseVersion(version)
			if err != nil {
				return fmt.Errorf("--baseline-version: %w", err)
			}
			m, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer m.Close(context.WithoutCancel(cmd.Context()))
			return m.Baseline(cmd.Context(), migrate.BaselineOptions{Version: v, Description: desc})
		}}
	cmd.Flags().StringVar(&version, "baseline-version", "1", "version the existing database is at")
	cmd.Flags().StringVar(&desc, "baseline-description", migrate.BaselineDescription, "description of the baseline row")
	return cmd
}

func newDBRepairCmd(f *dbFlags) *cobra.Command {
	return &cobra.Command{Use: "repair", Short: "Remove failed rows, realign checksums, mark missing files deleted", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer m.Close(context.WithoutCancel(cmd.Context()))
			res, err := m.Repair(cmd.Context())
			if err != nil || !f.json() {
				return err
			}
			return writeJSON(cmd.OutOrStdout(), map[string]any{"removed": len(res.Removed), "realigned": len(res.Realigned), "deleted": len(res.Deleted)})
		}}
}

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
				return writeJSON(cmd.OutOrStdout(), man)
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
				return writeJSON(cmd.OutOrStdout(), list)
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
				return writeJSON(cmd.OutOrStdout(), map[string]any{"backup": res.Manifest, "restore_ms": res.Duration.Milliseconds()})
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
				if jerr := writeJSON(cmd.OutOrStdout(), map[string]any{"removed": ids}); jerr != nil {
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
				if err := writeJSON(out, rep); err != nil {
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
			if !rep.OK {
				return fmt.Errorf("drill: %d table(s) do not match the backup's row counts", len(rep.Mismatches))
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
				return writeJSON(cmd.OutOrStdout(), res)
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
