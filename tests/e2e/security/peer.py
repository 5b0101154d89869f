"""A hostile (or merely odd) ZeroMQ peer of the coordinator, for the security tests.

    peer.py ENDPOINT forge       ID_HEX SECONDS   hello, bye and an absurd result under a
                                                  routing id given as hex bytes, repeated
    peer.py ENDPOINT liar        NAME             joins as an agent and breaks the protocol
                                                  at every step, then finishes honestly
    peer.py ENDPOINT cheat       NAME LIE         honest but for one lie in its numbers
    peer.py ENDPOINT worklie     NAME LIE         a load's figures with one lie in them
    peer.py ENDPOINT flood       NAME SECONDS KB  sends KB-sized junk as fast as it can
    peer.py ENDPOINT join-leave  NAME PUB SEC SRV joins with a CURVE key, then leaves
    peer.py ENDPOINT impostor    NAME PUB SEC SRV sends under NAME with another key

Every loop is bounded in time; the peer prints what it did as "peer: ..." lines.
Runs under /usr/bin/python3 (Debian's python3-zmq, installed by scripts/deps).
"""
import json
import sys
import time

import zmq

V = 1


def msg(type_, **fields):
    return json.dumps(dict(v=V, type=type_, **fields)).encode()


def counts(current=0, established=0, attempted=0, echo_ok=0):
    failed = {k: 0 for k in ("refused", "timeout", "reset", "addr_not_available",
                             "eof_early", "mismatch", "other")}
    return dict(attempted=attempted, established=established, current=current,
                max_concurrent=max(current, established), failed=failed, echo_ok=echo_ok,
                echo_errors=0, lost=0)


EMPTY_HIST = dict(count=0, clamped=0, min=0, max=0, sum=0, b=[])
NO_LATENCY = dict(connect=EMPTY_HIST, echo=EMPTY_HIST)


def hello(name):
    return msg("hello", name=name, version="0", host="peer", max_connections=100000,
               threads=1, nofile=100000, ports_per_source=28232,
               sources=[], capacity="capacity 100000 connections")


def dealer(ctx, endpoint, ident, keys=None):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 500)
    s.setsockopt(zmq.ROUTING_ID, ident)
    if keys:
        pub, sec, srv = (open(p).read().strip().encode() for p in keys)
        s.curve_publickey, s.curve_secretkey, s.curve_serverkey = pub, sec, srv
    s.connect(endpoint)
    return s


def recv(s, timeout_ms):
    if s.poll(timeout_ms) == 0:
        return None
    return json.loads(s.recv())


def forge(ctx, endpoint, ident_hex, seconds):
    s = dealer(ctx, endpoint, bytes.fromhex(ident_hex))
    name = bytes.fromhex(ident_hex).split(b"\0")[0].decode()
    absurd = dict(counts=counts(999999, 1000000, 1000000, 1000000), hist=NO_LATENCY)
    sent = 0
    until = time.time() + seconds
    while time.time() < until:
        for body in (hello(name), msg("bye", reason="forged"), msg("result", **absurd)):
            s.send(body)
            sent += 1
        time.sleep(0.2)
    print(f"peer: forge sent {sent}")


def liar(ctx, endpoint, name):
    """Joins, then tries every out-of-order message before answering properly."""
    s = dealer(ctx, endpoint, name.encode())
    s.send(hello(name))
    until = time.time() + 60
    assigned = 0
    while time.time() < until:
        m = recv(s, 500)
        s.send(msg("heartbeat"))
        if m is None:
            continue
        t = m["type"]
        if t == "welcome":
            # A result nobody asked for.
            s.send(msg("result", counts=counts(5, 5, 5), hist=NO_LATENCY))
            print("peer: sent an early result")
        elif t == "assign":
            assigned = m["connections"]
            s.send(msg("ready"))
            print("peer: sent ready")
        elif t == "go" and m["phase"] == "connect":
            step = m["step"]
            s.send(hello(name))  # a second hello in the middle of the run
            s.send(msg("phase_done", phase="connect", step=step,
                       counts=counts(999999, 999999, 999999)))
            s.send(msg("result", counts=counts(assigned, assigned, assigned), hist=NO_LATENCY))
            s.send(msg("phase_done", phase="connect", step=step,
                       counts=counts(assigned, assigned, assigned)))
            print("peer: claimed 999999, sent a result mid-run, then the truth")
        elif t == "go":
            cur = 0 if m["phase"] == "close" else assigned
            s.send(msg("phase_done", phase=m["phase"], step=m["step"],
                       counts=counts(cur, assigned, assigned, assigned)))
            if m["phase"] == "close":
                s.send(msg("result", counts=counts(0, assigned, assigned, assigned),
                           hist=NO_LATENCY))
        elif t == "result_ack":
            print("peer: result acknowledged")
            return
        elif t == "stop":
            print("peer: stopped: " + m.get("reason", ""))
            return


def play(ctx, endpoint, name, on_go):
    """An agent's side of a run, honest by default: hello, heartbeats, ready for
    any assignment; each go goes to on_go(socket, go, steps), which answers it
    and may return a number of seconds to cut the remaining time to (60 s in
    all). Ends at result_ack or stop."""
    s = dealer(ctx, endpoint, name.encode())
    s.send(hello(name))
    until = time.time() + 60
    steps = []
    while time.time() < until:
        m = recv(s, 500)
        s.send(msg("heartbeat"))
        if m is None:
            continue
        t = m["type"]
        if t == "assign":
            steps = m["steps"]
            s.send(msg("ready"))
        elif t == "go":
            cut = on_go(s, m, steps)
            if cut is not None:
                until = min(until, time.time() + cut)
        elif t in ("result_ack", "stop"):
            print(f"peer: {t} {m.get('reason', '')}", flush=True)
            return


def honest_done(m, steps):
    """The phase_done fields an honest agent would send for go m."""
    phase, step = m["phase"], m["step"]
    level = 0 if phase == "close" else steps[step]
    return dict(phase=phase, step=step,
                counts=counts(level, steps[step], steps[step], steps[step]))


def cheat(ctx, endpoint, name, lie):
    """Runs the protocol honestly but for one lie in its numbers:
    wrapfail   its result's failure counters sum past 2^63 (to wrap to a small number)
    fasthist   its result claims 10^15 echo latencies of 1 us
    overstep   its first verify claims the whole assignment held at the first step
               (then tells the truth)"""
    def on_go(s, m, steps):
        phase, step = m["phase"], m["step"]
        if lie == "overstep" and phase == "verify" and step == 0:
            s.send(msg("phase_done", phase=phase, step=step,
                       counts=counts(steps[-1], steps[-1], steps[-1])))
            print("peer: claimed the whole assignment at step 0")
        s.send(msg("phase_done", **honest_done(m, steps)))
        if phase != "close":
            return None
        c = counts(0, steps[-1], steps[-1], steps[-1])
        hist = NO_LATENCY
        if lie == "wrapfail":
            c["failed"]["refused"] = 2**63 - 1
            c["failed"]["timeout"] = 2**63 - 1 - 98
        elif lie == "fasthist":
            many = dict(count=10**15, clamped=0, min=1, max=1, sum=10**15, b=[[1, 10**15]])
            hist = dict(connect=EMPTY_HIST, echo=many)
        s.send(msg("result", counts=c, hist=hist))
        print(f"peer: sent a result with the lie {lie}")
        return 3  # a refused lie gets no ack

    play(ctx, endpoint, name, on_go)


def worklie(ctx, endpoint, name, lie):
    """Answers every phase honestly but a load's, whose figures carry one lie:
    unsent      verified 1,000 of 0 sent
    slowclock   10^6 s elapsed in a phase that has minutes at most
    nolatency   100 verified with no latency for any of them
    Then waits for what the coordinator says (a stop, for a lie it caught)."""
    def on_go(s, m, steps):
        fields = honest_done(m, steps)
        if m["phase"] == "load":
            load = dict(sub=m["load"]["sub"], scheduled=100, sent=100, verified=100,
                        errors=0, behind=0, elapsed_s=1.0, cpu_user_s=0.1, cpu_sys_s=0.1)
            hist = dict(count=100, clamped=0, min=100, max=100, sum=10000, b=[[100, 100]])
            if lie == "unsent":
                load.update(scheduled=0, sent=0, verified=1000)
                hist.update(count=1000, sum=100000, b=[[100, 1000]])
            elif lie == "slowclock":
                load["elapsed_s"] = 1e6
            elif lie == "nolatency":
                hist = EMPTY_HIST
            fields.update(load=load, hist=hist)
            print(f"peer: load answered with the lie {lie}", flush=True)
        s.send(msg("phase_done", **fields))
        if m["phase"] == "close":
            s.send(msg("result", counts=counts(0, steps[-1], steps[-1], steps[-1]),
                       hist=NO_LATENCY))
        return None

    play(ctx, endpoint, name, on_go)


def flood(ctx, endpoint, name, seconds, kb):
    s = dealer(ctx, endpoint, name.encode())
    s.setsockopt(zmq.SNDHWM, 100)
    junk = b"x" * (kb * 1024)
    sent = 0
    until = time.time() + seconds
    while time.time() < until:
        try:
            s.send(junk, zmq.NOBLOCK)
            sent += 1
        except zmq.Again:
            time.sleep(0.001)
    print(f"peer: flood sent {sent}")


def join_leave(ctx, endpoint, name, keys, seconds):
    s = dealer(ctx, endpoint, name.encode(), keys)
    s.send(hello(name))
    m = recv(s, 5000)
    print("peer: joined" if m and m["type"] == "welcome" else f"peer: not welcomed: {m}")
    until = time.time() + seconds
    while time.time() < until:
        s.send(msg("heartbeat"))
        time.sleep(0.5)
    s.close()


def impostor(ctx, endpoint, name, keys, seconds):
    s = dealer(ctx, endpoint, name.encode(), keys)
    until = time.time() + seconds
    sent = 0
    while time.time() < until:
        s.send(msg("bye", reason="impostor"))
        sent += 1
        time.sleep(0.2)
    print(f"peer: impostor sent {sent}")


def main(argv):
    ctx = zmq.Context()
    endpoint, what, args = argv[1], argv[2], argv[3:]
    if what == "forge":
        forge(ctx, endpoint, args[0], float(args[1]))
    elif what == "liar":
        liar(ctx, endpoint, args[0])
    elif what == "cheat":
        cheat(ctx, endpoint, args[0], args[1])
    elif what == "worklie":
        worklie(ctx, endpoint, args[0], args[1])
    elif what == "flood":
        flood(ctx, endpoint, args[0], float(args[1]), int(args[2]))
    elif what == "join-leave":
        join_leave(ctx, endpoint, args[0], args[1:4], float(args[4]))
    elif what == "impostor":
        impostor(ctx, endpoint, args[0], args[1:4], float(args[4]))
    else:
        sys.exit(f"peer: unknown action {what}")
    ctx.destroy(linger=500)


if __name__ == "__main__":
    main(sys.argv)
