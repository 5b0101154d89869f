#!/usr/bin/python3
"""A small thread-per-connection TCP echo server (standard library only): the
"another server" that `server --watch` measures in test_watch.sh.

usage: echo_server.py [--host ADDR] [--port PORT]
With --port 0 (the default) the kernel picks a free port; the port is printed
on one line on stdout once the server listens.
"""
import argparse
import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            try:
                data = self.request.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                self.request.sendall(data)
            except OSError:
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    with Server((args.host, args.port), Echo) as srv:
        print(srv.server_address[1], flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
