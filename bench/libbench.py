"""bench/libbench.py — what the Python benchmarks share: starting a server and
waiting for its --ready-fd line, stopping a process (or a server and its
workers) within a deadline, exit codes for SIGINT/SIGTERM, /proc readers (CPU
ticks, memory, socket and slab memory, kernel pages no counter shows, the CPU
model), the header facts, a median and a Markdown table.
Standard library only; the scripts import it from their own directory."""
import array
import collections
import json
import math
import os
import resource
import signal
import subprocess
import sys
import time


def nproc():
    """the CPUs this process may run on, as nproc(1) counts them"""
    return len(os.sched_getaffinity(0))


def meminfo(path="/proc/meminfo"):
    """/proc/meminfo (or a copy of it) as {"MemTotal": kB, ...}"""
    out = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields:
                out[key] = int(fields[0])
    return out


def sockstat(path="/proc/net/sockstat"):
    """/proc/net/sockstat (or /proc/PID/net/sockstat) as {"TCP": {"inuse": N, "mem": pages,
    ...}, ...}; {} if it cannot be read"""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                proto, _, rest = line.partition(":")
                words = rest.split()
                out[proto] = {k: int(v) for k, v in zip(words[0::2], words[1::2])
                              if v.isdigit()}
    except OSError:
        pass
    return out


def slabinfo(path="/proc/slabinfo"):
    """the bytes each slab cache holds in its slabs ({name: bytes}; {} without root)"""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                # name active_objs num_objs objsize objperslab pagesperslab : tunables ...
                # : slabdata active_slabs num_slabs sharedavail
                if len(w) < 16 or not w[1].isdigit():
                    continue
                out[w[0]] = int(w[14]) * int(w[5]) * 4096
    except (OSError, ValueError):
        pass
    return out


def slab_reclaimable(name):
    """the slab cache NAME is reclaimable (SReclaimable: dentries, inodes), as SLUB's
    /sys/kernel/slab/NAME/reclaim_account says; None where it does not say"""
    try:
        with open(f"/sys/kernel/slab/{name}/reclaim_account") as f:
            return f.read().strip() == "1"
    except OSError:
        return None


def pcp_free_kb(path="/proc/zoneinfo"):
    """kB of free pages on the per-CPU lists (the pagesets' count in /proc/zoneinfo), which
    MemFree leaves out: the lists fill and drain by tens of MB (their high mark is tuned
    as the load goes), and MemFree moves the other way; None if it cannot be read"""
    pages = 0
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) == 2 and w[0] == "count:":
                    pages += int(w[1])
    except (OSError, ValueError):
        return None
    return pages * (os.sysconf("SC_PAGE_SIZE") // 1024)


# /proc/kpageflags bits (Documentation/admin-guide/mm/pagemap.rst)
KPF_COMPOUND_HEAD, KPF_COMPOUND_TAIL = 1 << 15, 1 << 16


def unflagged_compound_kb(path="/proc/kpageflags"):
    """kB in compound pages (multi-page allocations) that carry no flag but head or tail:
    not slab, not on an LRU (anon or page cache), not free, not a page table. That is what
    the network stack's page fragments are (a thread's or a socket's page_frag holds up to
    32 KB, order 3, while it lives), and large kmalloc()s (> 8 KB, which SUnreclaim counts
    too). No /proc/meminfo field counts page fragments. None without root; the scan
    reads 8 bytes a page (about 1.5 s for 24 GiB)."""
    counts = collections.Counter()
    try:
        with open(path, "rb") as f:
            while True:
                chunk = f.read(8 << 20)
                if not chunk:
                    break
                a = array.array("Q")
                a.frombytes(chunk[:len(chunk) - len(chunk) % 8])
                counts.update(a)
    except OSError:
        return None
    # the low 32 bits are the documented flags; the high ones are kernel-hacking detail
    pages = sum(v for k, v in counts.items()
                if k & 0xffffffff in (KPF_COMPOUND_HEAD, KPF_COMPOUND_TAIL))
    return pages * (os.sysconf("SC_PAGE_SIZE") // 1024)


def kernel_config(option):
    """OPTION's value in the running kernel's config ("y", "m", ...), "" if unset, None
    if no config is readable (/proc/config.gz, /boot/config-RELEASE)"""
    import gzip
    for path, opener in (("/proc/config.gz", gzip.open),
                         (f"/boot/config-{os.uname().release}", open)):
        try:
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith(option + "="):
                        return line.strip().partition("=")[2]
            return ""
        except OSError:
            continue
    return None


def proc_status(pid, key):
    """one number of /proc/PID/status (VmPTE, Threads), None if the process or key is gone"""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def children(pid):
    """the pids whose parent is PID, lowest first"""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses: split after the last ')'
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            out.append(int(d))
    return sorted(out)


def open_files_limit():
    """the soft RLIMIT_NOFILE, as `ulimit -n` prints it"""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return "unlimited" if soft == resource.RLIM_INFINITY else str(soft)


def exit_on_signals(codes):
    """{signal: exit code}: the signal ends the script with SystemExit(code), so that
    its `finally` cleanup runs. A signal ignored on entry stays ignored, as a shell's
    trap leaves it (a background job's SIGINT)."""
    def handler(signum, _frame):
        sys.exit(codes[signum])
    for sig in codes:
        if signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, handler)


def hold_signals(sigs=(signal.SIGINT, signal.SIGTERM)):
    """ignore SIGS from here on: a cleanup under way runs to its end (it is bounded)"""
    for sig in sigs:
        signal.signal(sig, signal.SIG_IGN)


def returncode(rc):
    """a Popen returncode as a shell reports it: 128 + N for a death by signal N"""
    return 128 - rc if rc is not None and rc < 0 else rc


def stop(proc, sig=signal.SIGTERM, timeout=30):
    """signal PROC, wait up to TIMEOUT s, then SIGKILL it; reaps it either way"""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_server(prefix, cmd):
    """starts CMD (the server's command line, or a wrapper that execs it) with
    `--ready-fd FD` appended: FD on PREFIX.ready, stdout on PREFIX.out, stderr on
    PREFIX.err. Returns the process at once, for the caller to own and stop;
    wait_ready() then waits for its line."""
    with open(prefix + ".ready", "w") as ready_f, open(prefix + ".out", "w") as out, \
            open(prefix + ".err", "w") as err:
        fd = ready_f.fileno()
        return subprocess.Popen(cmd + ["--ready-fd", str(fd)], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, pass_fds=(fd,))


def wait_ready(proc, prefix, cmd, wait_s=None):
    """the ready line of the server start_server(PREFIX, CMD) started, as a dict
    ({"port", "stats", "pid"}); waits READY_WAIT_S seconds (default 10) at most. None,
    after saying why on stderr with the server's stderr, if it exited or was not ready
    in time."""
    if wait_s is None:
        wait_s = int(os.environ.get("READY_WAIT_S", "10"))

    def look():
        # The server writes the whole line, then closes the descriptor: a line that
        # does not parse is not written yet.
        try:
            with open(prefix + ".ready") as f:
                line = json.loads(f.read())
        except (OSError, ValueError):
            return None
        return line if isinstance(line, dict) and (line.get("port") or 0) > 0 else None

    deadline = time.monotonic() + wait_s + 1
    ready = None
    while time.monotonic() < deadline:
        ready = look()
        if ready or proc.poll() is not None:
            break
        time.sleep(0.05)
    # a line written just before the server died
    ready = ready or look()
    if ready is None:
        if proc.poll() is None:
            why = f"was not ready after {wait_s} s"
        else:
            why = f"exited (status {returncode(proc.returncode)}) before it was ready"
        print(f"the server {why} ({' '.join(cmd)}); its stderr, {prefix}.err:", file=sys.stderr)
        with open(prefix + ".err") as f:
            for line in f:
                print("  " + line, end="", file=sys.stderr)
    return ready


def md_table(header, rows):
    """a Markdown table: HEADER a list of column titles, ROWS lists of cells"""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return lines


def get(d, *path):
    """d[path[0]][path[1]]..., None where a key or an index is not there"""
    for k in path:
        if isinstance(d, dict):
            d = d.get(k)
        elif isinstance(d, list) and isinstance(k, int) and -len(d) <= k < len(d):
            d = d[k]
        else:
            return None
    return d


def jq_num(x):
    """a number as jq prints it (12, not 12.0)"""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e17:
        return str(int(x))
    return str(x)


def jq_round(x):
    """jq's round: half away from zero"""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def stop_server(proc, sig=signal.SIGTERM, timeout=30):
    """stop(PROC), then SIGKILL the children it had (a server's workers) if any
    outlived it: a worker ignores SIGTERM and is left behind when the supervisor
    had to be killed"""
    if proc is None:
        return
    workers = children(proc.pid) if proc.poll() is None else []
    stop(proc, sig, timeout)
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def cpu_ticks(pid):
    """utime + stime of PID in clock ticks (fields 14 and 15 of /proc/PID/stat), 0 if it is gone"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return 0


def clk_tck():
    """clock ticks a second, as getconf CLK_TCK prints it"""
    return os.sysconf("SC_CLK_TCK")


def mem_gib():
    """MemTotal as the bench headers print it: "7.8 GiB" """
    return f"{meminfo()['MemTotal'] / 1048576:.1f} GiB"


def cpu_model():
    """the first "model name" of /proc/cpuinfo, "" without one"""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, sep, value = line.partition(": ")
                if sep and key.strip() == "model name":
                    return value.rstrip("\n")
    except OSError:
        pass
    return ""


def utc_minute():
    """now as `date -u +%Y-%m-%dT%H:%MZ` prints it"""
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())


def median(values):
    """the median of a non-empty list of numbers (the mean of the middle two for an even count)"""
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
