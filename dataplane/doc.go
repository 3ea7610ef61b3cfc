// Package dataplane owns gantry's data plane: the process (`gantry proxy`)
// that holds every environment's listeners, routing tables and
// per-revision counters, and nothing else. It outlives the control plane
// (`gantry server`): when the server stops, crashes or loses its lead, the
// data plane keeps serving its last tables, and the next server reads them
// and their counters back and carries on.
//
// A Plane is the data plane itself; it can run inside a test or benchmark.
// Serve exposes a Plane on a control socket (a Unix socket with mode 0600
// in the server's data directory, JSON over HTTP, callers checked by their
// user ID; the counters also in a compact binary form, counterswire.go);
// Client programs it from the server. The interface is
// backend-neutral: environments are listeners, addresses and weights, never
// processes, so the same process can front instances anywhere.
//
// Each environment's desired state is sent whole with a version number;
// applying a version twice is a no-op and an older version is refused
// (ErrStale). Counters are cumulative since the Plane's boot (Boot.ID),
// so a controller that sees a new boot ID knows they started again.
//
// Upgrade hands the listening sockets to a new process over the control
// socket's directory (SCM_RIGHTS): connections waiting in the backlog are
// accepted by the new process, the old one finishes its requests in flight
// and exits. Supervisor (process.go) starts, adopts and restarts the
// process for `gantry server`.
package dataplane
