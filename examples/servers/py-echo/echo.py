#!/usr/bin/env python3
"""py-echo: a tiny thread-per-connection TCP echo server (standard library only).

Every byte a client sends comes back, in order, whatever the reads split it
into. One thread per connection, until the client closes. For connscale's
"Measuring your own server" (README) and its tests:

    python3 examples/servers/py-echo/echo.py --port 7000 [--host 127.0.0.1]

Exit 0 on SIGINT/SIGTERM, 1 if it cannot listen, 2 on bad usage.
"""
import argparse
import signal
import socket
import sys
import threading


def serve(conn):
    """Echoes until EOF or an error; sendall() finishes what a short write left."""
    with conn:
        while True:
            try:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)
            except OSError:
                return


def main():
    ap = argparse.ArgumentParser(description="thread-per-connection TCP echo server")
    ap.add_argument("--port", type=int, required=True, help="TCP port (0: any free one)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on")
    ap.add_argument("--backlog", type=int, default=4096, help="listen backlog")
    args = ap.parse_args()
    if not 0 <= args.port <= 65535:
        ap.error("--port: expected 0..65535, got %d" % args.port)
    # SIGTERM exits like Ctrl-C: the coordinator stops it that way.
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(0))
    threading.stack_size(256 * 1024)  # a thread's stack: 256 KiB, not the 8 MiB default
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        lsock.bind((args.host, args.port))
        lsock.listen(args.backlog)
    except OSError as e:
        print("echo.py: cannot listen on %s:%d: %s" % (args.host, args.port, e.strerror),
              file=sys.stderr)
        return 1
    host, port = lsock.getsockname()
    print("echo.py: listening on %s:%d" % (host, port), flush=True)
    try:
        while True:
            try:
                conn, _ = lsock.accept()
            except OSError:
                continue  # EMFILE, ECONNABORTED...: the listener goes on
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    except (KeyboardInterrupt, SystemExit):
        return 0


if __name__ == "__main__":
    sys.exit(main())
