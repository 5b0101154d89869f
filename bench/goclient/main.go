// goclient: the goroutine-per-connection baseline for bench/agent — the
// shape of the original Go client. Opens n connections, one goroutine each,
// sends one unique payload per connection, verifies the echo, holds every
// connection until all are done (so they are concurrent), then closes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	target := flag.String("target", "127.0.0.1:1234", "echo server HOST:PORT")
	n := flag.Int("n", 1000, "connections")
	size := flag.Int("payload", 64, "bytes per echo")
	hold := flag.Duration("hold", 0, "hold every connection this long once all are verified")
	flag.Parse()

	var ok, failed int64
	var done, release sync.WaitGroup
	release.Add(1)
	start := time.Now()
	for i := 0; i < *n; i++ {
		done.Add(1)
		go func(id int) {
			conn, err := net.DialTimeout("tcp", *target, 3*time.Second)
			if err != nil {
				atomic.AddInt64(&failed, 1)
				done.Done()
				return
			}
			defer conn.Close()
			msg := bytes.Repeat([]byte(fmt.Sprintf("%08x", id)), *size/8+1)[:*size]
			got := make([]byte, *size)
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err = conn.Write(msg); err == nil {
				_, err = io.ReadFull(conn, got)
			}
			if err == nil && bytes.Equal(msg, got) {
				atomic.AddInt64(&ok, 1)
			} else {
				atomic.AddInt64(&failed, 1)
			}
			done.Done()
			release.Wait()
		}(i)
	}
	done.Wait()
	elapsed := time.Since(start)
	time.Sleep(*hold)
	release.Done()
	fmt.Printf("verified %d failed %d in %.3f s\n", ok, failed, elapsed.Seconds())
	if failed > 0 {
		os.Exit(1)
	}
}
