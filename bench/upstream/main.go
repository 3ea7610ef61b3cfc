// Command upstream is a tiny, fast HTTP/1.1 server for proxy benchmarks: it
// answers every request with a small fixed body, keeping connections alive.
// It prints its listen address on the first line of standard output.
//
//	upstream -addr 127.0.0.1:0 -body "hello from stable"
//	upstream -free-port   # print a free TCP port on 127.0.0.1 and exit
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	body := flag.String("body", "hello", "response body (a newline is appended)")
	freePort := flag.Bool("free-port", false, "print a free port on 127.0.0.1 and exit")
	flag.Parse()
	if *freePort {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "upstream:", err)
			os.Exit(1)
		}
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		return
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	b := *body + "\n"
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
		strconv.Itoa(len(b)) + "\r\n\r\n" + b)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "upstream: accept:", err)
			continue
		}
		go serve(c, resp)
	}
}

// serve answers each request head on c with resp, discarding any
// Content-Length body. Pipelined requests are answered in one write.
func serve(c net.Conn, resp []byte) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 8<<10)
	bw := bufio.NewWriterSize(c, 8<<10)
	for {
		length := 0
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 && (len(line) == 1 || line[0] == '\r') {
				break
			}
			if len(line) > 15 && bytes.EqualFold(line[:15], []byte("content-length:")) {
				length, _ = strconv.Atoi(string(bytes.TrimSpace(line[15:])))
			}
		}
		if length > 0 {
			if _, err := br.Discard(length); err != nil {
				return
			}
		}
		bw.Write(resp)
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return
			}
		}
	}
}
