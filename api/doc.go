// Package api is gantry's HTTP API, version 1: the JSON wire types the
// server and the client share, and the handlers that serve them under
// /api/v1. Handlers only translate between HTTP and the rollout engine;
// every decision is the engine's. Errors are JSON objects with a stable
// code and a message that says what to fix:
//
//	{"error": {"code": "invalid_spec", "message": "...", "details": [...]}}
package api
