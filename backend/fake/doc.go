// Package fake is an in-process backend.Backend for tests of what sits
// above a backend (the server, the engine, routers). Each instance is the
// sample workload (package sample) served by a goroutine on its own
// loopback port, so routers and analyses see real requests; readiness is
// probed over HTTP on /ready. Its output goes to an in-memory log.
//
// The instances live in a Cluster, which outlives any one Backend as a
// Kubernetes cluster outlives its controller: after Release, a new Backend
// over the same Cluster adopts them with Recover. It passes
// backend/backendtest.
//
// Not simulated: liveness probes, restarts after a crash (a crashed
// instance stays BackingOff), CPU and memory figures.
package fake
