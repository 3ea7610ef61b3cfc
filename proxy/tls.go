package proxy

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// TLSFiles names the PEM files of the certificate the proxy presents when
// it terminates TLS.
type TLSFiles struct {
	// CertFile holds the certificate chain, leaf first.
	CertFile string
	// KeyFile holds the private key of the leaf certificate.
	KeyFile string
}

// certReloadEvery is how often, at most, the certificate files are checked
// for a change (on a handshake, so an idle proxy does nothing).
const certReloadEvery = time.Second

// certReloader serves the certificate of a pair of files and loads it again
// when either file changes (size or modification time). Connections keep
// the certificate they were set up with; new handshakes get the new one. A
// pair that fails to load (say, one file written and not yet the other)
// keeps the previous certificate in service and is retried.
type certReloader struct {
	files TLSFiles
	logf  func(string, ...any)
	cert  atomic.Pointer[tls.Certificate]

	mu       sync.Mutex
	checked  time.Time
	loadedAt [2]fileStamp // of the files the current certificate came from
}

type fileStamp struct {
	size int64
	mod  time.Time
}

func newCertReloader(files TLSFiles, logf func(string, ...any)) (*certReloader, error) {
	r := &certReloader{files: files, logf: logf}
	stamps, err := r.stamps()
	if err == nil {
		err = r.load(stamps)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) stamps() ([2]fileStamp, error) {
	var s [2]fileStamp
	for i, name := range []string{r.files.CertFile, r.files.KeyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return s, fmt.Errorf("tls: %w", err)
		}
		s[i] = fileStamp{size: fi.Size(), mod: fi.ModTime()}
	}
	return s, nil
}

func (r *certReloader) load(stamps [2]fileStamp) error {
	cert, err := tls.LoadX509KeyPair(r.files.CertFile, r.files.KeyFile)
	if err != nil {
		return fmt.Errorf("tls: load certificate %s and key %s: %w", r.files.CertFile, r.files.KeyFile, err)
	}
	r.cert.Store(&cert)
	r.loadedAt = stamps
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.maybeReload()
	return r.cert.Load(), nil
}

func (r *certReloader) maybeReload() {
	if !r.mu.TryLock() {
		return // another handshake is checking
	}
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.checked) < certReloadEvery {
		return
	}
	r.checked = now
	stamps, err := r.stamps()
	if err != nil || stamps == r.loadedAt {
		return
	}
	if err := r.load(stamps); err != nil {
		r.logf("%v; still serving the previous certificate", err)
		return
	}
	r.logf("tls: loaded the changed certificate %s", r.files.CertFile)
}

// tlsConfig returns the server configuration for files: TLS 1.2 and up,
// HTTP/1.1 offered by ALPN, the certificate reloaded as the files change.
func tlsConfig(files TLSFiles, logf func(string, ...any)) (*tls.Config, error) {
	r, err := newCertReloader(files, logf)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: r.getCertificate,
	}, nil
}

// rioConn is a client connection read and written through its rawIO, so
// that TLS on top of it keeps the raw system calls and the deadlines.
type rioConn struct {
	net.Conn
	rio *rawIO
}

func (c *rioConn) Read(p []byte) (int, error)  { return c.rio.Read(p) }
func (c *rioConn) Write(p []byte) (int, error) { return c.rio.Write(p) }
