// Package pgtest starts a throwaway PostgreSQL server for tests that need a
// real database.
//
// Start runs initdb into a temporary directory, starts postgres on a free
// 127.0.0.1 port (and a unix socket in a temporary directory), and stops it
// when the test ends. It looks for the PostgreSQL programs on PATH, then in
// /usr/lib/postgresql/*/bin (newest version first). When they are missing the
// test is skipped, unless GANTRY_REQUIRE_POSTGRES=1 is set (as CI does), in
// which case it fails.
//
// initdb and postgres refuse to run as root. When the test runs as root,
// pgtest runs them as the "postgres" OS user (created by the Debian packages)
// and hands the data directory to that user; when there is no such user the
// test is skipped (or fails under GANTRY_REQUIRE_POSTGRES=1) with a message
// saying so.
//
// Launch does the same for programs that are not tests (bench/store): it
// returns an error wrapping ErrUnavailable instead of skipping, and the
// caller stops the cluster with Stop.
//
// The server trusts every local connection and runs with fsync and
// synchronous_commit off: it is fast, and nothing it holds survives the test.
package pgtest
