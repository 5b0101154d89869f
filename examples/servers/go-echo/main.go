// go-echo — a goroutine-per-connection TCP echo server: the model Go's
// runtime offers, for connscale to measure beside its own thread-per-connection
// and epoll servers (bench/models). One goroutine per accepted connection
// copies what it reads back until the peer closes; the runtime multiplexes the
// goroutines over a few OS threads with its own netpoller (epoll).
//
//	go build -o go-echo main.go && ./go-echo -listen 127.0.0.1:0
//
// It prints "go-echo: listening on ADDR:PORT" once it accepts, and exits 0 on
// SIGINT or SIGTERM after saying how many connections it served.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (port 0: any free port)")
	flag.Parse()

	ln, err := net.Listen("tcp4", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-echo: listen %s: %v\n", *listen, err)
		os.Exit(1)
	}
	fmt.Printf("go-echo: listening on %s\n", ln.Addr())

	var served, open int64
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		fmt.Printf("go-echo: served %d connections, %d open at the end\n",
			atomic.LoadInt64(&served), atomic.LoadInt64(&open))
		os.Exit(0)
	}()

	for {
		conn, err := ln.Accept()
		if err != nil {
			// Out of descriptors or a transient error: say so, back off, keep accepting.
			fmt.Fprintf(os.Stderr, "go-echo: accept: %v\n", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		atomic.AddInt64(&served, 1)
		atomic.AddInt64(&open, 1)
		go func(c net.Conn) {
			defer atomic.AddInt64(&open, -1)
			defer c.Close()
			// io.Copy loops over partial reads and writes until EOF or an error.
			io.Copy(c, c)
		}(conn)
	}
}
