#!/usr/bin/python3
"""watch_exitmid.py SERVER SOURCE_IP RUNS [CONNS] — for test_watch.sh, case exitmid.

A watched process holding CONNS (default 1000) connections is SIGKILLed while
stats requests arrive back to back, RUNS times. While the kernel tears a
process down (its descriptors closing, its memory going) it is not a zombie
yet; a watcher that samples it then would answer with part of its numbers.
Every reply must be the whole process's: conns_current CONNS, fds >= CONNS,
threads 2 (the holder's main thread and its accepting one); above all never
connections with no descriptors or no threads. Each time the watcher must end
within 2 s of the kill, exit 1, saying the process exited.

The holder is a Python process on 127.0.0.1 port 0 (its accepting thread keeps
every connection, reads none); the clients are this process's sockets, bound to
SOURCE_IP; the watcher's stats endpoint is bound to a free loopback port (its
--ready-fd line says which). Prints one line a run; exit 0 if every run held,
1 if not. Runs under /usr/bin/python3 (Debian's python3-zmq, from scripts/deps).
"""
import json
import os
import random
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import zmq

HOLDER = r"""
import resource, socket, sys, threading, time
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4096)
held = []
def accept():
    while True:
        c, _ = s.accept(); held.append(c)
threading.Thread(target=accept, daemon=True).start()
print(s.getsockname()[1], flush=True)
time.sleep(60)
"""


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def ready_line(fd, proc, deadline_s):
    """The watcher's --ready-fd line: JSON, once it serves."""
    buf = b""
    end = time.monotonic() + deadline_s
    os.set_blocking(fd, False)
    while time.monotonic() < end:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            chunk = None
        if chunk:
            buf += chunk
            if b"\n" in buf:
                return json.loads(buf.split(b"\n", 1)[0])
        elif chunk == b"" or proc.poll() is not None:
            break
        time.sleep(0.02)
    return None


def one_run(run, server, source, n, ctx):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE)
    port = int(holder.stdout.readline())
    clients = []
    watcher = None
    try:
        for _ in range(n):
            c = socket.socket()
            c.bind((source, 0))
            c.connect(("127.0.0.1", port))
            clients.append(c)
        rfd, wfd = os.pipe()
        err = open(os.environ.get("WORK", "/tmp") + "/exitmid.%d.err" % run, "w+")
        watcher = subprocess.Popen(
            [server, "--watch", str(holder.pid), "--stats", "tcp://127.0.0.1:*",
             "--ready-fd", str(wfd)], pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=err)
        os.close(wfd)
        ready = ready_line(rfd, watcher, 30)
        os.close(rfd)
        if ready is None:
            err.seek(0)
            fail("run %d: the watcher was not ready: %s" % (run, err.read()))
        d = ctx.socket(zmq.DEALER)
        d.setsockopt(zmq.LINGER, 0)
        d.connect(ready["stats"])
        seq = 0

        def ask(timeout_ms):
            """One request, its reply; None after timeout_ms, or once the watcher ended."""
            nonlocal seq
            seq += 1
            d.send_multipart([struct.pack("<Q", seq), b'{"v":1,"type":"stats_req"}'])
            end = time.monotonic() + timeout_ms / 1000
            while time.monotonic() < end:
                if d.poll(50):
                    return json.loads(d.recv_multipart()[-1])
                if watcher.poll() is not None:
                    return json.loads(d.recv_multipart()[-1]) if d.poll(100) else None
            return None

        # Every connection accepted and counted before the kill.
        for _ in range(150):
            j = ask(5000)
            if j is None:
                fail("run %d: no reply before the kill" % run)
            if j["conns_current"] == n:
                break
            time.sleep(0.1)
        else:
            fail("run %d: conns_current %d, expected %d" % (run, j["conns_current"], n))
        # The kill lands at a random moment of the back-to-back requests.
        killed = []

        def kill():
            time.sleep(random.uniform(0.15, 0.45))
            killed.append(time.monotonic())
            os.kill(holder.pid, signal.SIGKILL)

        threading.Thread(target=kill).start()
        replies = []  # (after the kill was sent, conns, fds, threads)
        while True:
            j = ask(2500)
            if j is None:
                break
            replies.append((bool(killed), j["conns_current"], j["fds"], j["threads"]))
        try:
            rc = watcher.wait(timeout=max(0.1, killed[0] + 2.0 - time.monotonic()))
        except subprocess.TimeoutExpired:
            rc = None
        ended_ms = (time.monotonic() - killed[0]) * 1000
        d.close()
        err.seek(0)
        said = err.read()
        err.close()
        bad = [r for r in replies if r[1] > 0 and (r[2] == 0 or r[3] == 0)]
        partial = [r for r in replies if (r[1], r[3]) != (n, 2) or r[2] < n]
        after = [r for r in replies if r[0]]
        print("run %d: %d replies, %d after the kill was sent (last %s); watcher exit %s in "
              "%.0f ms" % (run, len(replies), len(after),
                           [r[1:] for r in replies[-2:]], rc, ended_ms), flush=True)
        if bad:
            fail("run %d: connections with no descriptors or threads: %s" % (run, bad[:5]))
        if partial:
            fail("run %d: a dying process's partial numbers (conns, fds, threads): %s"
                 % (run, [r[1:] for r in partial[:5]]))
        if rc is None:
            fail("run %d: the watcher still runs 2 s after the kill" % run)
        if rc != 1:
            fail("run %d: the watcher's exit %s, expected 1: %s" % (run, rc, said))
        want = "server: watched process %d (python3) exited" % holder.pid
        if not said.startswith(want):
            fail("run %d: stderr: %s" % (run, said))
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
            watcher.wait()
        if holder.poll() is None:
            holder.kill()
        holder.wait()
        for c in clients:
            c.close()


def main():
    if len(sys.argv) not in (4, 5):
        print("usage: watch_exitmid.py SERVER SOURCE_IP RUNS [CONNS]", file=sys.stderr)
        return 2
    server, source, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) == 5 else 1000
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard < n + 100:
        fail("the open-files hard limit %d is below %d" % (hard, n + 100))
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = zmq.Context()
    for run in range(1, runs + 1):
        one_run(run, server, source, n, ctx)
    ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
