// Package sample is the workload that ships with gantry: a small HTTP
// service that can fake every failure a rollout must catch, so the demo and
// the tests exercise each rollback trigger for real.
//
// Its behaviour is chosen by knobs, given as flags or embedded in the
// version string after a '+', the way a real artifact's version selects
// its code:
//
//	gantry-sample --port 8080 --version 'v2+errors=0.05,latency=200ms,crash-after=10s'
//
// Endpoints:
//
//	/health  liveness, application/health+json; "warn" with a failing database check under db-down
//	/ready   readiness: 200, or 503 with the reason
//	/db      a request that needs the database: 503 under db-down
//	/echo    echoes the request body
//	/ws      WebSocket echo of text and binary messages
//	/metrics Prometheus metrics: http_requests_total, http_request_duration_seconds, validations_total{result}
//	/...     anything else: 200 with {"version","instance","path","validation"}, counted in validations_total
//
// On SIGTERM or SIGINT it stops accepting connections, finishes the
// requests in flight and exits 0.
package sample
