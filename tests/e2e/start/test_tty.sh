#!/bin/bash
# e2e.start.tty: on a terminal (a pty from script(1)), no log line lands on the
# refreshing status line. A local run's coordinator, server and agents all
# write to it; replayed through a small terminal model:
#  - after each erase-to-end-of-line that ends a status line comes a carriage
#    return or a newline, never text (the children's lines came glued: "...
#    agents 0/0\e[Kagent local-2: joined");
#  - on the final screen no line holds a status and anything else, and at most
#    the last status line is left (each was erased before a log line, then redrawn);
#  - a status line was drawn after the last agent joined.
COORD=$1
. "$(dirname "$0")/../agent/lib.sh"
command -v script >/dev/null || { echo "SKIP: no script(1) (util-linux)"; exit 77; }

cat >"$WORK/plan.json" <<PLAN
{
  "name": "tty",
  "target": {"host": "127.0.0.1", "port": 0},
  "agents": {"count": 2, "join_timeout_s": 20},
  "connections": 40,
  "steps": [20, 40],
  "hold_s": 1,
  "local": {"agents": 2, "server": {"model": "epoll"}}
}
PLAN
script -qec "'$COORD' --report '$WORK/report.json' '$WORK/plan.json'" /dev/null \
	>"$WORK/tty.out" 2>&1 </dev/null
expect "exit" $? 0

/usr/bin/python3 - "$WORK/tty.out" <<'PY' || fail "terminal output: see above"
import re, sys

raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
status = re.compile(r"\[ *[0-9.]+s\] ")
bad = 0

# 1. What follows each erase-to-end-of-line that ends a status ("\r\x1b[K" starts a line).
for m in re.finditer(r"(?<!\r)\x1b\[K(.?)", raw, re.S):
    if m.group(1) not in ("", "\r", "\n"):
        print("glued onto the status line:", repr(raw[max(0, m.start() - 60):m.end() + 40]))
        bad += 1
        break

# 2. The screen: \r to column 0, \x1b[K erases to the end, \n a new line.
lines, line, col = [], [], 0
i = 0
while i < len(raw):
    if raw.startswith("\x1b[K", i):
        del line[col:]
        i += 3
        continue
    c = raw[i]
    i += 1
    if c == "\r":
        col = 0
    elif c == "\n":
        lines.append("".join(line))
        line, col = [], 0
    else:
        if col < len(line):
            line[col] = c
        else:
            line.append(c)
        col += 1
lines.append("".join(line))
statuses = [l for l in lines if status.search(l)]
for l in statuses:
    if not status.match(l) or "agent local-" in l or "coordinator:" in l:
        print("a status line shares its line:", repr(l))
        bad += 1
# The run's last one is kept, unless a child's line erased it at the very end.
if len(statuses) > 1:
    print("%d status lines left on the screen (expected the last one only):" % len(statuses))
    for l in statuses[:5]:
        print("  ", l)
    bad += 1

# 3. Redrawn after the log: a status drawn after the last join line.
joined = raw.rfind("agent local-2 joined")
if joined < 0 or not status.search(raw[joined:]):
    print("no status line drawn after the last join")
    bad += 1
print("screen: %d lines, %d status" % (len(lines), len(statuses)))
sys.exit(1 if bad else 0)
PY
echo "ok: no log line on the status line; no stale status lines"
echo PASS
