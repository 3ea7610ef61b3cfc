// Package router owns how gantry splits an app environment's traffic
// between revisions. It declares Router, the contract every traffic router
// fulfils (gantry's own proxy in router/proxyrouter today; Gateway API or
// ingress-nginx weights on Kubernetes later), and the pure function that
// turns instances and a rollout.Traffic split into weighted routes (Split).
//
// A router knows addresses and weights, never processes: the server pushes
// each environment's instances (SetInstances) whenever a backend reports a
// change, the engine sets the split (SetTraffic), and the backend asks the
// router to drain an address before it stops the instance behind it
// (Drain). Every implementation passes the suite in router/routertest
// (the routers that write Kubernetes objects: router/objectroutertest).
// Registry names the routers an environment's spec may choose.
package router
