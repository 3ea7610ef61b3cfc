package main

import (
	"context"
	"fmt"
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
	// NonTransactional: the file runs statement by statement, outside a
	// transaction (CREATE INDEX CONCURRENTLY, ...).
	NonTransactional bool `json:"non_transactional"`
	// Reason says why an ignored migration is ignored.
	Reason string `json:"reason,omitempty"`
}

func infoEntryJSON(e migrate.Entry) infoJSON {
	j := infoJSON{Category: e.Kind.String(), Version: e.Version.String(), Description: e.Description, Type: e.Type,
		Script: e.Script, Checksum: e.Checksum, State: e.State.String(), Undoable: e.Undoable,
		NonTransactional: e.NonTransactional(), Reason: e.Reason}
	if a := e.Applied; a != nil {
		j.InstalledOn, j.InstalledRank, j.ExecutionMS = a.InstalledOn.Format(time.RFC3339), a.Rank, a.ExecutionTime.Milliseconds()
	}
	return j
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
			entries, ignored := []infoJSON{}, []infoJSON{}
			for _, e := range info.Entries {
				if e.State == migrate.Ignored {
					ignored = append(ignored, infoEntryJSON(e))
				} else {
					entries = append(entries, infoEntryJSON(e))
				}
			}
			gaps := make([]string, 0, len(info.Gaps))
			for _, g := range info.Gaps {
				gaps = append(gaps, g.After.String()+" -> "+g.Before.String())
			}
			return printJSON(out, map[string]any{"table": m.Table(), "current_version": info.Current.String(),
				"migrations": entries, "ignored": ignored, "gaps": gaps, "problems": info.Problems})
		}
		fmt.Fprintf(out, "Schema history: %s\nCurrent version: %s\n\n", m.Table(), orNone(info.Current.String()))
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CATEGORY\tVERSION\tDESCRIPTION\tTYPE\tINSTALLED ON\tSTATE\tUNDOABLE")
		for _, e := range info.Entries {
			if e.State == migrate.Ignored {
				continue // listed apart below
			}
			on := ""
			if e.Applied != nil {
				on = e.Applied.InstalledOn.Format("2006-01-02 15:04:05")
			}
			undo := "No"
			if e.Undoable {
				undo = "Yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Kind, e.Version, e.Description+nonTxMark(e), e.Type, on, e.State, undo)
		}
		tw.Flush()
		if ign := info.Ignored(); len(ign) > 0 {
			fmt.Fprintf(out, "\nIgnored (never applied; migrate skips them):\n")
			for _, e := range ign {
				fmt.Fprintf(out, "  %s  %s: %s\n", e.Version, e.Script, e.Reason)
			}
		}
		for _, g := range info.Gaps {
			fmt.Fprintf(out, "gap: versions jump from %s to %s (legal; --fail-on-gaps makes it an error)\n", g.After, g.Before)
		}
		return nil
	}
	return cmd
}

// nonTxMark marks a migration that runs outside a transaction, as the
// migrate log does.
func nonTxMark(e migrate.Entry) string {
	if e.NonTransactional() {
		return " [non-transactional]"
	}
	return ""
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
			if jerr := printJSON(cmd.OutOrStdout(), map[string]any{"from": res.From.String(), "to": res.To.String(), "applied": scriptNames(res.Applied)}); jerr != nil {
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
				if jerr := printJSON(cmd.OutOrStdout(), map[string]any{"from": res.From.String(), "to": res.To.String(), "undone": scriptNames(res.Undone)}); jerr != nil {
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
			return printJSON(cmd.OutOrStdout(), map[string]any{"removed": len(res.Removed), "realigned": len(res.Realigned), "deleted": len(res.Deleted)})
		}}
}

// scriptNames lists the file names of the migrations that ran, never nil.
func scriptNames(runs []migrate.Run) []string {
	names := []string{}
	for _, r := range runs {
		names = append(names, r.Script.Name)
	}
	return names
}
