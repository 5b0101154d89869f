#!/usr/bin/env python3
"""A TCP server that is not an echo server, for e2e.coordinator.not_echo.

    not_echo.py PORT MODE

MODE sink: accepts and reads, never writes. garble: answers every read with as
many bytes of 'x'. noaccept: listens and never calls accept() (the kernel
completes the handshakes and queues the bytes). closer: accepts and closes at once.
dies: an echo server that exits with status 7 one second after its 40th reply.
"""
import os
import socket
import sys
import threading
import time


replies = 0
lock = threading.Lock()


def die_soon():
    time.sleep(1)
    os._exit(7)


def serve(conn, mode):
    global replies
    with conn:
        while True:
            try:
                data = conn.recv(65536)
                if not data:
                    return
                if mode == "garble":
                    conn.sendall(b"x" * len(data))
                elif mode == "dies":
                    conn.sendall(data)
                    with lock:
                        replies += 1
                        if replies == 40:
                            threading.Thread(target=die_soon, daemon=True).start()
            except OSError:
                return


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(1024)
    print("not_echo.py: %s on 127.0.0.1:%d" % (mode, lsock.getsockname()[1]), flush=True)
    if mode == "noaccept":
        while True:
            time.sleep(3600)
    while True:
        conn, _ = lsock.accept()
        if mode == "closer":
            conn.close()
            continue
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
