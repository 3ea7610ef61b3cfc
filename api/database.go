package api

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// DatabaseRollbackRequest is the body of POST
// /api/v1/apps/{app}/environments/{env}/database/rollback.
type DatabaseRollbackRequest struct {
	// To is a backup ID (see `gantry db backups`), "latest", or a schema
	// version to undo to.
	To string `json:"to"`
}

// DatabaseRollback says what a database rollback did.
type DatabaseRollback struct {
	// BackupID is the backup restored; empty when the schema was undone.
	BackupID string `json:"backupId,omitempty"`
	// SchemaVersion is the schema version after the rollback; "" when none.
	SchemaVersion string `json:"schemaVersion"`
	// Revision is the app revision restarted, the one the backup was taken with.
	Revision int `json:"revision"`
	// RolloutID is the rollout that restarts Revision; 0 when Revision was
	// already the stable one and was restarted in place.
	RolloutID int64 `json:"rolloutId,omitempty"`
	// StoppedInstances is how many instances were stopped for the restore.
	StoppedInstances int `json:"stoppedInstances"`
	// MaintenanceMillis is how long the proxy answered 503, in milliseconds.
	MaintenanceMillis int64 `json:"maintenanceMs"`
}

// DatabaseRollbackFunc runs a database rollback of app in env on behalf
// of actor. Errors wrapping rollout.ErrInvalid are the caller's mistakes.
type DatabaseRollbackFunc func(ctx context.Context, app, env, to, actor string) (DatabaseRollback, error)

// Maintenance returns how long the proxy was in maintenance.
func (d DatabaseRollback) Maintenance() time.Duration {
	return time.Duration(d.MaintenanceMillis) * time.Millisecond
}

func (h *handler) databaseRollback(w http.ResponseWriter, r *http.Request) {
	app, env, ok := h.appEnv(w, r)
	if !ok {
		return
	}
	var req DatabaseRollbackRequest
	if !decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.To) == "" {
		writeError(w, http.StatusBadRequest, Error{Code: CodeBadRequest, Message: "to is empty: name a backup ID (see gantry db backups), latest, or a schema version"})
		return
	}
	if h.opts.DatabaseRollback == nil {
		writeError(w, http.StatusNotImplemented, Error{Code: CodeBadRequest, Message: "this gantry server does not roll databases back"})
		return
	}
	res, err := h.opts.DatabaseRollback(r.Context(), app, env, req.To, actor(r))
	if err != nil {
		engineError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
