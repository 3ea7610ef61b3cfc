// Package dashboard serves gantry's web dashboard: the page at / on the
// API's address, its sign-in with an API token, and the live event stream
// (/api/v1/stream) the page follows.
//
// The dashboard owns no permissions of its own. Signing in seals the
// token's secret into an HttpOnly, SameSite=Strict cookie (AES-GCM under a
// key kept in the data directory, so sessions survive a restart); each
// request that carries the cookie is passed to the API as if it carried the
// token, so the API authenticates it, checks its role on the environment
// and audits it exactly as a CLI call. Requests that change anything must
// also carry the session's CSRF token (X-CSRF-Token).
//
// The stream is cheap by construction: one goroutine reads every app's
// status once per tick while anyone listens, encodes each environment once,
// and fans the result out; each client gets the environments its token may
// read. Events carry their store ID as the SSE id, so a browser that
// reconnects (after a server restart too) with Last-Event-ID misses none.
//
// The page's assets are embedded (go:embed): plain JavaScript modules and
// uPlot for the charts (assets/vendor/uplot, MIT licence); no CDN, no
// build step.
package dashboard
