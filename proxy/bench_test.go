package proxy

import (
	"bufio"
	"bytes"
	"net"
	"testing"
)

// benchClient sends keep-alive GETs on one raw connection and reads each
// response without allocating.
type benchClient struct {
	c  net.Conn
	br *bufio.Reader
}

var benchRequest = []byte("GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")

func (bc *benchClient) do() error {
	if _, err := bc.c.Write(benchRequest); err != nil {
		return err
	}
	length := 0
	for {
		line, err := bc.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && eqFold(line[:15], "content-length:") {
			n, _ := parseLength(trimOWS(bytes.TrimRight(line[15:], "\r\n")))
			length = int(n)
		}
	}
	_, err := bc.br.Discard(length)
	return err
}

func benchmarkThrough(b *testing.B, addr string) {
	b.ReportAllocs()
	b.SetParallelism(16) // 16×GOMAXPROCS client connections
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		bc := &benchClient{c: c, br: bufio.NewReader(c)}
		for pb.Next() {
			if err := bc.do(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProxy measures keep-alive GETs through the proxy to two fast
// upstreams split 95/5, with metrics on. allocs/op counts the whole process
// (client and upstream allocate nothing per request).
func BenchmarkProxy(b *testing.B) {
	stable := startRaw(b, fixedResponder("hello from stable\n"))
	canary := startRaw(b, fixedResponder("hello from canary\n"))
	p := startProxy(b, Options{Logf: func(string, ...any) {}})
	p.SetTable(table(rev(1, 95, stable.addr()), rev(2, 5, canary.addr())))
	benchmarkThrough(b, p.Addr())
}

// BenchmarkProxySticky is BenchmarkProxy with a sticky cookie to look up.
func BenchmarkProxySticky(b *testing.B) {
	stable := startRaw(b, fixedResponder("hello from stable\n"))
	canary := startRaw(b, fixedResponder("hello from canary\n"))
	p := startProxy(b, Options{StickyCookie: "gantry_rev", Logf: func(string, ...any) {}})
	p.SetTable(table(rev(1, 95, stable.addr()), rev(2, 5, canary.addr())))
	benchmarkThrough(b, p.Addr())
}

// BenchmarkDirect is the same load straight to an upstream: the floor the
// proxy adds to.
func BenchmarkDirect(b *testing.B) {
	up := startRaw(b, fixedResponder("hello from stable\n"))
	benchmarkThrough(b, up.addr())
}

func BenchmarkHistogramObserve(b *testing.B) {
	var l liveHistogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.observe(1234567)
		}
	})
}
