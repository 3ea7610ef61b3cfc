package rollout

import (
	"fmt"
	"strings"
	"time"
)

// This file renders facts as the messages people read. Nothing in gantry
// reads a message back: programs read the typed fields.

// renderTransition prefixes a transition's message with its phases:
// "Progressing -> RollingBack: …". With no transition (to is zero) it
// returns message as it is.
func renderTransition(from, to Phase, message string) string {
	if to == 0 || from == 0 {
		return message
	}
	return fmt.Sprintf("%s -> %s: %s", from, to, message)
}

// backupMessage renders a DatabaseBackedUp event.
func backupMessage(b DatabaseBackup) string {
	what := "backup"
	if b.Scheduled {
		what = "scheduled backup"
	}
	return fmt.Sprintf("%s %s: %d bytes in %s, schema version %s", what, b.ID, b.SizeBytes, b.Duration.Round(time.Millisecond), orNone(b.SchemaVersion))
}

// BackupMessage renders a DatabaseBackedUp event's message from its backup.
func BackupMessage(b DatabaseBackup) string { return backupMessage(b) }

// migrationMessage renders a DatabaseMigrated (verb "applied") or
// DatabaseUndone (verb "ran") event.
func migrationMessage(m DatabaseMigration, verb, kind string) string {
	return fmt.Sprintf("schema version %s -> %s: %s %d %s(s) in %s%s",
		orNone(m.From), orNone(m.To), verb, len(m.Scripts), kind, m.Duration.Round(time.Millisecond), listed(m.Scripts))
}

// restoreMessage renders a DatabaseRestored event.
func restoreMessage(res DatabaseRestore) string {
	return fmt.Sprintf("restored backup %s in %s: schema version %s",
		res.BackupID, res.Duration.Round(time.Millisecond), orNone(res.SchemaVersion))
}

// RestoreMessage renders a DatabaseRestored event's message from its restore.
func RestoreMessage(res DatabaseRestore) string { return restoreMessage(res) }

// UndoMessage renders a DatabaseUndone event's message from what the undo did.
func UndoMessage(u DatabaseMigration) string { return migrationMessage(u, "ran", "undo migration") }

func orNone(v string) string {
	if v == "" {
		return "<none>"
	}
	return v
}

func listed(scripts []string) string {
	if len(scripts) == 0 {
		return ""
	}
	return " (" + strings.Join(scripts, ", ") + ")"
}
