// Package leader decides which of several gantry servers leads: only the
// leader runs the rollout engine and drives the backend; the others
// (followers) serve reads and pass writes to the leader.
//
// Two Electors:
//
//   - Postgres, for servers sharing one PostgreSQL database. Leadership is a
//     session-level advisory lock held on a connection of its own. The lock
//     is released the instant that connection ends, so when a leader's
//     process dies (even by kill -9) PostgreSQL frees the lock at once and a
//     follower, trying every Options.Poll, takes over within a poll. The
//     leader also writes its identity (ID, advertised API URL, term) into the
//     gantry_leader row, which followers read to find it; the row counts only
//     while its holder holds the lock. A leader that cannot reach its
//     connection for Options.LostAfter gives leadership up (Lost closes) and
//     must stop acting, so two leaders never drive the same environment for
//     long. TCP keepalives on the lock connection let PostgreSQL notice a
//     leader whose host vanished within about KeepaliveWindow.
//
//   - Local, for the embedded SQLite store: one server per data directory,
//     enforced by an flock on a file in it. A second server on the same data
//     directory is refused with a message naming the holder.
package leader
