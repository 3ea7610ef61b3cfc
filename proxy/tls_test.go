package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// selfSigned returns a PEM certificate for 127.0.0.1 with the given serial
// number, its PEM key, and the parsed certificate.
func selfSigned(t *testing.T, serial int64) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "gantry test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), cert
}

// writeFile replaces name's content atomically.
func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

func tlsClient(t *testing.T, roots *x509.CertPool, keepAlive bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: !keepAlive}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// servedBy fetches url and returns the serial number of the certificate
// the proxy presented, the upstream's answer, and whether the connection
// was reused.
func servedBy(t *testing.T, c *http.Client, url string) (serial int64, body string, reused bool) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
	}))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), string(b), reused
}

func TestProxy_TLSReloadsCertificate(t *testing.T) {
	up := startUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Forwarded-Proto"))
	}))
	dir := t.TempDir()
	files := TLSFiles{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	certA, keyA, a := selfSigned(t, 1)
	certB, keyB, b := selfSigned(t, 2)
	writeFile(t, files.CertFile, certA)
	writeFile(t, files.KeyFile, keyA)
	p := startProxy(t, Options{TLS: &files})
	p.SetTable(table(rev(1, 100, up)))
	roots := x509.NewCertPool()
	roots.AddCert(a)
	roots.AddCert(b)
	url := "https://" + p.Addr() + "/"

	kept := tlsClient(t, roots, true)
	if serial, body, _ := servedBy(t, kept, url); serial != 1 || body != "https" {
		t.Fatalf("got certificate %d and X-Forwarded-Proto %q, want certificate 1 and https", serial, body)
	}

	writeFile(t, files.KeyFile, keyB)
	writeFile(t, files.CertFile, certB)
	fresh := tlsClient(t, roots, false)
	eventually(t, "new connections to get the new certificate", func() bool {
		serial, _, _ := servedBy(t, fresh, url)
		return serial == 2
	})
	if serial, body, reused := servedBy(t, kept, url); serial != 1 || body != "https" || !reused {
		t.Errorf("kept-alive connection: certificate %d, body %q, reused %v; want it still open with certificate 1",
			serial, body, reused)
	}

	writeFile(t, files.CertFile, []byte("not a certificate"))
	time.Sleep(2 * certReloadEvery) // let a check see the broken file
	if serial, _, _ := servedBy(t, fresh, url); serial != 2 {
		t.Errorf("after a broken certificate file: certificate %d, want 2 still served", serial)
	}
}

func TestListen_TLSFilesMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := Listen(Options{Addr: "127.0.0.1:0", TLS: &TLSFiles{CertFile: filepath.Join(dir, "c"), KeyFile: filepath.Join(dir, "k")}})
	if err == nil {
		t.Fatal("Listen with missing certificate files succeeded")
	}
}
