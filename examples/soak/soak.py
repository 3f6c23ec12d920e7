#!/usr/bin/env python3
"""Soak run of the inventory example: incident vs fixed server under the same load.

For each version (incident, fixed) this starts, on 127.0.0.1 only:

  * a catalog-backend (the catalog: WatchPrices holds every watch open for the
    whole run, like the stuck backend of the incident),
  * a second catalog-backend used only as the Discovery peer (its address is
    passed --peers times with --peer),
  * the inventory server version, with a short --discovery-interval-ms,
  * load-client (examples/soak/load_client.cc, compiled here into --out):
    --threads threads sending GetItem calls with a 1 s deadline.

Every second it samples /proc/<server pid>: threads, open fds, VmRSS, the
server's ESTABLISHED TCP sockets, the TIME_WAIT sockets on the peer's and the
catalog's port (connections opened and closed again: Linux keeps them 60 s),
and the server's CPU time. It writes <out>/<version>.csv, <out>/soak.png
(gnuplot) and <out>/summary.txt, and prints the summary.

The Discovery peer is a separate process on purpose: with gRPC's global
subchannel pool, a throw-away channel to the catalog's own address reuses the
connection that a held catalog watch keeps open, so the channel-per-poll churn
would hide behind the first stuck GetItem.

Everything started here is stopped by pid (SIGTERM, wait, SIGKILL if needed) in
a finally block, and the script checks that none of them is left.

usage: soak.py [--build DIR] [--out DIR] [--seconds 60] [--quick]
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(os.path.dirname(HERE))
VERSIONS = ("incident", "fixed")
LOOPBACK = "127.0.0.1"

# (column, label for the summary, unit)
SERIES = (
    ("threads", "threads", ""),
    ("fds", "fds", ""),
    ("rss_kb", "rss_kb", " kB"),
    ("tcp", "tcp", ""),
    ("tw_peer", "tw_peer", ""),
    ("tw_backend", "tw_backend", ""),
    ("cpu_s", "cpu_s", " s"),
)
COLUMNS = ["t"] + [s[0] for s in SERIES] + ["load"]

# A difference between the versions counts as shown when both their growth per
# minute and their change over the phase (last - first) differ by more than
# these bounds: a single extra thread or socket early in a short phase makes a
# steep slope but is no trend.
SHOWN_ABOVE = {
    "threads": 10.0,
    "fds": 10.0,
    "rss_kb": 2048.0,
    "tcp": 5.0,
    "tw_peer": 200.0,
    "tw_backend": 200.0,
    "cpu_s": 2.0,
}
SHOWN_DELTA = {
    "threads": 5,
    "fds": 5,
    "rss_kb": 1024,
    "tcp": 3,
    "tw_peer": 50,
    "tw_backend": 50,
    "cpu_s": 0.5,
}

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print("soak: " + msg, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# load client build


def build_load_client(build_dir, out_dir):
    """Compiles load_client.cc into out_dir unless an up-to-date binary is there."""
    source = os.path.join(HERE, "load_client.cc")
    gen = os.path.join(build_dir, "examples", "gen")
    lib = os.path.join(build_dir, "examples", "libinventory-proto.a")
    binary = os.path.join(out_dir, "load-client")
    headers = [os.path.join(gen, n) for n in ("inventory.pb.h", "inventory.grpc.pb.h")]
    for h in headers:
        if not os.path.exists(h):
            raise RuntimeError("%s is missing; build the inventory-proto target first" % h)
    if os.path.exists(lib):
        proto_inputs = [lib]  # already compiled with -frtti -fexceptions
    else:
        proto_inputs = [os.path.join(gen, n)
                        for n in ("inventory.pb.cc", "inventory.grpc.pb.cc")]
    deps = [source] + headers + proto_inputs
    if os.path.exists(binary) and all(
            os.path.getmtime(binary) >= os.path.getmtime(d) for d in deps):
        log("load-client is up to date (%s)" % binary)
        return binary
    try:
        pkg = subprocess.run(["pkg-config", "--cflags", "--libs", "grpc++", "protobuf"],
                             check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError("pkg-config grpc++ protobuf failed: %s" % e)
    cxx = os.environ.get("CXX") or shutil.which("c++") or "g++"
    cmd = ([cxx, "-std=c++17", "-O1", "-frtti", "-fexceptions", "-I" + gen, source]
           + proto_inputs + pkg + ["-pthread", "-o", binary + ".tmp"])
    log("building load-client: " + " ".join(cmd[:6]) + " ...")
    start = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        raise RuntimeError("compiling load_client.cc failed")
    os.replace(binary + ".tmp", binary)
    log("built load-client in %.1f s" % (time.monotonic() - start))
    return binary


# --------------------------------------------------------------------------
# /proc sampling


def read_status(pid):
    threads = rss = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return threads, rss


def socket_inodes(pid):
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    names = os.listdir(fd_dir)
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue  # closed between listdir and readlink
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return len(names), inodes


def read_tcp_table():
    """Yields (local_port, remote_port, state, inode) for IPv4 and IPv6 sockets."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if len(parts) < 10:
                        continue
                    lport = int(parts[1].rsplit(":", 1)[1], 16)
                    rport = int(parts[2].rsplit(":", 1)[1], 16)
                    yield lport, rport, parts[3], parts[9]
        except OSError:
            continue


TCP_ESTABLISHED = "01"
TCP_TIME_WAIT = "06"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def sample(pid, peer_port, backend_port):
    threads, rss = read_status(pid)
    nfds, inodes = socket_inodes(pid)
    tcp = tw_peer = tw_backend = 0
    for lport, rport, state, inode in read_tcp_table():
        if state == TCP_ESTABLISHED and inode in inodes:
            tcp += 1
        elif state == TCP_TIME_WAIT:
            if peer_port in (lport, rport):
                tw_peer += 1
            elif backend_port in (lport, rport):
                tw_backend += 1
    return {
        "threads": threads,
        "fds": nfds,
        "rss_kb": rss,
        "tcp": tcp,
        "tw_peer": tw_peer,
        "tw_backend": tw_backend,
        "cpu_s": round(cpu_seconds(pid), 2),
    }


# --------------------------------------------------------------------------
# processes


class Procs:
    """Every process this script starts, so that all of them can be stopped by pid."""

    def __init__(self):
        self.started = []  # (name, Popen)

    def start(self, name, argv, log_path):
        logf = open(log_path, "w")
        try:
            p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        finally:
            logf.close()
        self.started.append((name, p))
        return p

    def stop_all(self, grace=10.0):
        # The catalog first: its shutdown ends the held watches, which the
        # incident server's handlers are blocked on.
        order = sorted(self.started, key=lambda np: 0 if "backend" in np[0] or
                       "peer" in np[0] else 1)
        for _, p in order:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for name, p in order:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log("%s (pid %d) did not stop after SIGTERM; killing it" % (name, p.pid))
                p.kill()
                p.wait(timeout=5)

    def left(self):
        """Started processes (or any other child of this script) that still exist."""
        remaining = ["%s (pid %d)" % (name, p.pid)
                     for name, p in self.started if p.poll() is None]
        # None of the programs forks, but check every child of ours anyway
        # (a zombie counts too).
        me = os.getpid()
        for entry in os.listdir("/proc"):
            if entry.isdigit() and proc_ppid(int(entry)) == me:
                label = "pid %s" % entry
                if not any(label + ")" in r for r in remaining):
                    remaining.append("child " + label)
        return remaining


def proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rindex(")") + 2:].split()[1])


def wait_for_line(path, needle, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited early (rc %s); see %s"
                               % (os.path.basename(proc.args[0]), proc.returncode, path))
        try:
            with open(path) as f:
                if needle in f.read():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("'%s' did not appear in %s within %.0f s" % (needle, path, timeout))


def run_version(version, args, examples, client, procs):
    out = args.out
    margin = 15
    backend_port, peer_port, server_port = free_port(), free_port(), free_port()
    while len({backend_port, peer_port, server_port}) < 3:
        peer_port, server_port = free_port(), free_port()
    backend = "%s:%d" % (LOOPBACK, backend_port)
    peer = "%s:%d" % (LOOPBACK, peer_port)
    lifetime = str(args.idle + args.seconds + margin)

    b = procs.start("%s catalog-backend" % version,
                    [os.path.join(examples, "catalog-backend"), "--port", str(backend_port),
                     "--run-seconds", lifetime, "--hold-seconds", lifetime],
                    os.path.join(out, "%s-backend.log" % version))
    pp = procs.start("%s peer (catalog-backend)" % version,
                     [os.path.join(examples, "catalog-backend"), "--port", str(peer_port),
                      "--run-seconds", lifetime, "--hold-seconds", "0"],
                     os.path.join(out, "%s-peer.log" % version))
    wait_for_line(os.path.join(out, "%s-backend.log" % version), "listening on", b)
    wait_for_line(os.path.join(out, "%s-peer.log" % version), "listening on", pp)

    server_argv = [os.path.join(examples, "inventory-server-" + version),
                   "--port", str(server_port), "--backend", backend,
                   "--run-seconds", lifetime,
                   "--discovery-interval-ms", str(args.interval_ms)]
    for _ in range(args.peers):
        server_argv += ["--peer", peer]
    server_log = os.path.join(out, "%s-server.log" % version)
    s = procs.start("inventory-server-" + version, server_argv, server_log)
    wait_for_line(server_log, "listening on", s)

    # t = 0 is the first sample after the server is up. Discovery polls run
    # from the start; the GetItem load starts at t = idle.
    rows = []
    start = time.monotonic()
    c = None
    total = args.idle + args.seconds
    for i in range(0, total + 1):
        delay = start + i - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if s.poll() is not None:
            raise RuntimeError("inventory-server-%s exited during the run (rc %s); see %s"
                               % (version, s.returncode, server_log))
        rows.append(dict(t=i, load=1 if c else 0, **sample(s.pid, peer_port, backend_port)))
        if i == args.idle:
            c = procs.start("%s load-client" % version,
                            [client, "--target", "%s:%d" % (LOOPBACK, server_port),
                             "--threads", str(args.threads), "--seconds", str(args.seconds),
                             "--deadline-ms", "1000",
                             "--max-requests", str(args.threads * args.seconds * 50)],
                            os.path.join(out, "%s-client.log" % version))

    try:
        c.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass  # stopped with the rest in the finally block
    with open(os.path.join(out, "%s.csv" % version), "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(str(r[c]) for c in COLUMNS) + "\n")
    with open(os.path.join(out, "%s-client.log" % version)) as f:
        client_line = f.read().strip().splitlines()
    log("%s: %s" % (version, client_line[-1] if client_line else "(no client output)"))
    return rows


# --------------------------------------------------------------------------
# analysis and output


def slope_per_minute(rows, col):
    xs = [float(r["t"]) for r in rows]
    ys = [float(r[col]) for r in rows]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def fmt(v):
    if abs(v) >= 100 or float(v).is_integer():
        return "%.0f" % v
    return "%.2f" % v


def phases(rows):
    """The whole run, the discovery-only part and the part under GetItem load."""
    idle = [r for r in rows if not r["load"]]
    load = [r for r in rows if r["load"]]
    if idle and load:
        load = [idle[-1]] + load  # the load phase starts at the last idle sample
    return {"run": rows, "idle": idle, "load": load}


def change(rows, col):
    return float(rows[-1][col]) - float(rows[0][col]) if rows else 0.0


def differs(col, slopes, changes):
    return (abs(slopes[0] - slopes[1]) > SHOWN_ABOVE[col]
            and abs(changes[0] - changes[1]) > SHOWN_DELTA[col])


def summarize(args, data):
    growth = {}
    deltas = {}
    for v in VERSIONS:
        ph = phases(data[v])
        deltas[v] = {name: {c: change(rows, c) for c, _, _ in SERIES}
                     for name, rows in ph.items()}
        growth[v] = {name: {c: slope_per_minute(rows, c) if len(rows) > 1 else 0.0
                            for c, _, _ in SERIES}
                     for name, rows in ph.items()}
    lines = []
    lines.append("soak: per version %d s of Discovery polling only, then %d s with GetItem "
                 "load; %d Discovery peers polled every %d ms; %d GetItem client threads, "
                 "1 s client deadline; the catalog holds every watch open for the whole run"
                 % (args.idle, args.seconds, args.peers, args.interval_ms, args.threads))
    lines.append("growth/min = least-squares slope over the 1 s samples x 60, over the whole "
                 "run, the idle part (t <= %d s) and the load part (t >= %d s)"
                 % (args.idle, args.idle))
    lines.append("tcp = the server's ESTABLISHED sockets; tw_peer / tw_backend = TIME_WAIT "
                 "sockets on the Discovery peer's / catalog's port (connections opened and "
                 "closed in the last 60 s)")
    lines.append("")
    lines.append("%-11s %-9s %9s %9s %13s %13s %13s" % (
        "series", "version", "first", "last", "growth/min", "idle/min", "load/min"))
    for col, label, unit in SERIES:
        for v in VERSIONS:
            rows = data[v]
            lines.append("%-11s %-9s %9s %9s %13s %13s %13s" % (
                label, v, fmt(float(rows[0][col])), fmt(float(rows[-1][col])),
                "%+.1f%s" % (growth[v]["run"][col], unit),
                "%+.1f" % growth[v]["idle"][col], "%+.1f" % growth[v]["load"][col]))
    lines.append("")

    def cmp(col, phase):
        slopes = (growth["incident"][phase][col], growth["fixed"][phase][col])
        changes = (deltas["incident"][phase][col], deltas["fixed"][phase][col])
        return "%s %+.1f vs %+.1f/min: %s" % (
            col, slopes[0], slopes[1],
            "DIFFERENCE" if differs(col, slopes, changes) else "no difference")

    lines.append("findings -> runtime series (incident vs fixed growth per minute; a difference "
                 "counts when the growth per minute differs by more than %s and the change "
                 "over the phase by more than %s):" % (
                     ", ".join("%s %g" % kv for kv in SHOWN_ABOVE.items()),
                     ", ".join("%s %g" % kv for kv in SHOWN_DELTA.items())))
    lines.append("  grpc-leak-channel-in-loop (a new Discovery channel per peer per poll), "
                 "idle part: " + "; ".join(cmp(c, "idle") for c in
                                            ("tw_peer", "cpu_s", "tcp", "threads", "fds")))
    lines.append("    mechanism: each channel is destroyed when PingTarget returns, so its cost "
                 "is a connection opened and closed per peer per poll (churn, CPU), not a "
                 "growing number of open connections, threads or fds")
    lines.append("  grpc-leak-channel-per-request + grpc-leak-stream-deadline (a catalog channel "
                 "per GetItem; its watch, without deadline, held by the stuck catalog), load "
                 "part: " + "; ".join(cmp(c, "load") for c in
                                      ("threads", "rss_kb", "fds", "tcp", "tw_backend")))
    lines.append("    mechanism: every GetItem stays blocked, holding a server thread and its "
                 "own channel, for as long as the catalog holds the watch; the per-request "
                 "channels to the one catalog address share a connection through gRPC's "
                 "global subchannel pool, so they add no sockets. The two findings act "
                 "together and this run does not separate them: the missing deadline holds "
                 "the thread, the per-request channel adds its memory to each held call")
    lines.append("  grpc-leak-core-handle (C-core channel leaked on the start-up probe's error "
                 "path): not exercised, the catalog is reachable at start-up; it would leak "
                 "one channel once, not a growing series")
    lines.append("  grpc-leak-core-handle (completion queue destroyed without shutdown) and "
                 "grpc-leak-server-shutdown (--require-backend 1 error path): not exercised "
                 "by this run")
    return "\n".join(lines) + "\n", growth


def plot(args, out):
    png = os.path.join(out, "soak.png")
    inc = os.path.join(out, "incident.csv")
    fix = os.path.join(out, "fixed.csv")
    title = ("inventory-server soak, incident vs fixed: Discovery polling of %d peers every "
             "%d ms from t = 0, GetItem load (%d client threads) from t = %d s (dotted line)"
             % (args.peers, args.interval_ms, args.threads, args.idle))

    def line(path, expr, color, title, style="lw 2"):
        return "'%s' using 1:(%s) with lines %s lc rgb '%s' title '%s'" % (
            path, expr, style, color, title)

    def panel(name, ylabel, expr, extra=()):
        plots = [line(inc, expr, "#d62728", "incident"), line(fix, expr, "#1f77b4", "fixed")]
        if extra:
            plots = list(extra)
        return "set title '%s'\nset ylabel '%s'\nplot %s\n" % (name, ylabel, ", ".join(plots))

    script = (
        "set terminal pngcairo size 1400,1200 font 'sans,10'\n"
        "set output '%s'\n"
        "set datafile separator ','\n"
        "set key top left\n"
        "set grid\n"
        "set yrange [0:*]\n"
        "set xlabel 'seconds'\n"
        "set arrow from %d, graph 0 to %d, graph 1 nohead dt 3 lc rgb '#555555'\n"
        "set multiplot layout 3,2 title \"%s\"\n"
        % (png, args.idle, args.idle, title))
    # The first line of each CSV is its header; gnuplot skips it as non-numeric.
    script += panel("threads", "threads", "$2")
    script += panel("open file descriptors", "fds", "$3")
    script += panel("RSS", "MiB", "$4/1024.0")
    script += panel("ESTABLISHED TCP connections of the server", "connections", "$5")
    script += panel("TCP connections closed in the last 60 s (TIME\\_WAIT)", "connections", "", (
        line(inc, "$6", "#d62728", "incident, peer port"),
        line(fix, "$6", "#1f77b4", "fixed, peer port"),
        line(inc, "$7", "#d62728", "incident, catalog port", "lw 1 dt 2"),
        line(fix, "$7", "#1f77b4", "fixed, catalog port", "lw 1 dt 2")))
    script += panel("server CPU time (user + system)", "seconds", "$8")
    script += "unset multiplot\n"
    with open(os.path.join(out, "soak.gnuplot"), "w") as f:
        f.write(script)
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("gnuplot not found; %s not written (script in soak.gnuplot)" % png)
        return
    res = subprocess.run([gnuplot, os.path.join(out, "soak.gnuplot")],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise RuntimeError("gnuplot failed")
    log("wrote " + png)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC_ROOT, "build"),
                    help="build directory with examples/ (default: <repo>/build)")
    ap.add_argument("--out", default=None, help="output directory (default: <build>/soak)")
    ap.add_argument("--seconds", type=int, default=None,
                    help="load duration per version (default 60, 10 with --quick)")
    ap.add_argument("--quick", action="store_true", help="about 10 s per version")
    ap.add_argument("--idle", type=int, default=None,
                    help="seconds of Discovery polling before the GetItem load starts "
                         "(default 15, 3 with --quick)")
    ap.add_argument("--peers", type=int, default=12, help="--peer copies (default 12)")
    ap.add_argument("--interval-ms", type=int, default=50,
                    help="--discovery-interval-ms (default 50)")
    ap.add_argument("--threads", type=int, default=4, help="load-client threads (default 4)")
    args = ap.parse_args()
    if args.seconds is None:
        args.seconds = 10 if args.quick else 60
    if args.idle is None:
        args.idle = 3 if args.quick else 15
    if not 1 <= args.idle <= 600:
        ap.error("--idle must be between 1 and 600")
    if not 3 <= args.seconds <= 3600:
        ap.error("--seconds must be between 3 and 3600")
    args.build = os.path.abspath(args.build)
    args.out = os.path.abspath(args.out or os.path.join(args.build, "soak"))
    os.makedirs(args.out, exist_ok=True)

    examples = os.path.join(args.build, "examples")
    for name in ("catalog-backend", "inventory-server-incident", "inventory-server-fixed"):
        if not os.access(os.path.join(examples, name), os.X_OK):
            sys.stderr.write("soak: %s/%s is missing; build the examples first\n"
                             % (examples, name))
            return 2
    try:
        client = build_load_client(args.build, args.out)
    except RuntimeError as e:
        sys.stderr.write("soak: %s\n" % e)
        return 2

    data = {}
    failure = None
    for version in VERSIONS:
        procs = Procs()
        try:
            log("%s: %d s idle + %d s load" % (version, args.idle, args.seconds))
            data[version] = run_version(version, args, examples, client, procs)
        except (RuntimeError, OSError) as e:
            failure = "%s: %s" % (version, e)
        finally:
            t0 = time.monotonic()
            procs.stop_all()
            left = procs.left()
            log("%s: stopped %d processes in %.1f s" % (version, len(procs.started),
                                                         time.monotonic() - t0))
            if left:
                failure = failure or "%s: processes left: %s" % (version, ", ".join(left))
        if failure:
            break
    if failure:
        sys.stderr.write("soak: failed: %s\n" % failure)
        return 1
    print("no processes left", flush=True)

    summary, growth = summarize(args, data)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(summary)
    try:
        plot(args, args.out)
    except (RuntimeError, OSError) as e:
        sys.stderr.write("soak: %s\n" % e)
        return 1
    print(summary, end="")
    if args.quick:
        for col, _, _ in SERIES:
            print("direction: incident %s %+.1f/min, fixed %s %+.1f/min"
                  % (col, growth["incident"]["run"][col], col, growth["fixed"]["run"][col]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
