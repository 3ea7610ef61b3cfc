// Package proxyrouter is the in-process router.Router: gantry's data plane
// (package dataplane: one gantry proxy per app environment, plus a preview
// listener for environments that ask for one) inside the caller's process,
// programmed by router/remoterouter. gantry server runs the data plane as
// its own process instead (`gantry proxy`); this one serves tests,
// benchmarks and embedders that want a single process.
package proxyrouter
