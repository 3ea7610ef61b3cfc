//go:build !linux

package proxy

// evLoop is an event loop serving client connections; only Linux has
// them (evloop_linux.go): elsewhere every connection has its goroutine.
type evLoop struct{}

func (l *evLoop) kill(c *clientConn) {}

func (p *Proxy) startLoops() {}

func (p *Proxy) stopLoops() {}

func (p *Proxy) sweepLoops() {}

func (p *Proxy) acceptToLoops() bool { return false }

func (p *Proxy) wakeAccept() {}
