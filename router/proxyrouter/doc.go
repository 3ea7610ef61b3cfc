// Package proxyrouter is the router.Router of gantry's embedded default:
// one gantry proxy (package proxy) per app environment, plus a preview
// listener for environments that ask for one. It turns the environment's
// instances and traffic split into the proxy's routing table (router.Split)
// and swaps the table atomically whenever either changes, so the request
// path never waits for it.
package proxyrouter
