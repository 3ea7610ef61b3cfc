// Package remoterouter is the router.Router that programs gantry's data
// plane (package dataplane) — a `gantry proxy` process over its control
// socket, or a Plane in the same process. It turns each environment's
// instances and traffic split into routes (router.Split) and sends the
// environment's whole desired state, versioned, on every change.
//
// Started against a data plane that already serves (the server restarted),
// it reads the tables back and keeps serving them: the split, and the
// endpoints of instances the backend has adopted but not yet probed ready,
// stay as they were until the backend reports on them.
package remoterouter
