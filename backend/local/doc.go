// Package local is gantry's embedded backend: it runs each instance of a
// revision as a child process listening on a free loopback port, and
// supervises it the way the kubelet supervises a container.
//
// What runs where:
//
//   - Scale records the wish and returns; each instance has its own
//     supervisor goroutine that starts the process, runs its readiness and
//     liveness probes (a process that has not answered yet may fail
//     liveness for StartupGrace, 30 s, after a start: slow to listen on a
//     busy machine is not dead), restarts it with exponential back-off
//     after an exit or a liveness failure (state BackingOff, like CrashLoopBackOff), and stops
//     it gracefully: out of traffic (Options.OnChange), drained
//     (Options.Drain), SIGTERM to its process group, SIGKILL after the
//     revision's terminationGracePeriodSeconds.
//   - One sampler goroutine reads /proc every Options.StatsInterval and
//     fills each instance's CPU use (utime+stime of its process group) and
//     resident memory.
//
// Each process runs in its own process group (Setpgid), with stdout and
// stderr appended to DataDir/logs/<app>/<env>/<instance>.log through a file
// descriptor handed to the child, so no pipe ties the child to gantry and a
// gantry restart does not kill its instances.
//
// # Crash safety and adoption
//
// Before an instance counts as started, its state (pid, the process start
// time from /proc/<pid>/stat, port, app, environment, revision, version,
// instance id) is written atomically to DataDir/instances/<id>.json, with
// the instance's history: its restarts, how its last run ended (message,
// exit code or signal, time) and its last known readiness. An instance
// backing off keeps its record (no pid, the time its next run is due); the
// record is removed once the instance is stopped for good. A new Backend on
// the same DataDir calls Recover: a record whose process is still alive,
// with the same start time (so the pid was not reused) and
// GANTRY_INSTANCE=<id> in its environment, is adopted and supervised again,
// ready if it was (until a probe says otherwise), so traffic goes on; an
// instance that was backing off is adopted backing off and restarted when
// its back-off ends; a record whose process is gone counts as one more exit
// and the instance restarts, so a crash loop survives a gantry restart; an
// adopted instance whose revision is unknown is stopped.
//
// An adopted process is not gantry's child, so its exit cannot be waited
// for: the supervisor polls /proc/<pid>/stat instead and learns that it
// exited, but not its exit status. Signals go to its process group only
// after checking that the pid still has the recorded start time.
//
// Restarts counts a restart as soon as the exit or liveness failure that
// causes it is seen, so an instance backing off already shows it. Memory
// limits are not enforced here: the engine compares RSSBytes with the
// revision's limit and calls Kill, whose reason (such as "OOMKilled: ...")
// becomes the instance's LastExit.
//
// The package reads /proc and so runs on Linux only.
package local
