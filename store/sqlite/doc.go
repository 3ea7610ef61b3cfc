// Package sqlite is gantry's default rollout.Store: one SQLite file, through
// the pure-Go modernc.org/sqlite driver (no cgo).
//
// The database runs in WAL mode with synchronous=NORMAL: a transaction is
// committed once its pages are in the write-ahead log, without waiting for
// the disk. Killing gantry (even with SIGKILL) loses nothing it committed,
// because the log is in the operating system's cache; only a power cut or
// kernel crash may lose the last transactions, never corrupt the file. On
// restart gantry reconciles its state with the backend anyway, and a commit
// then costs no fsync (see BenchmarkUpdateRollout for both settings).
//
// Writes go through one connection, so writers queue in Go instead of
// retrying on SQLITE_BUSY; its transactions begin IMMEDIATE so another
// process writing the same file (a second gantry command) waits up to the
// busy timeout instead of failing. Reads use a pool of read-only
// connections and never wait for writers.
//
// Open applies gantry's schema migrations (the numbered files in
// migrations/, in order, in one transaction) and refuses a database written
// by a newer gantry.
package sqlite
