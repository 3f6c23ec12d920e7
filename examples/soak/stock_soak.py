#!/usr/bin/env python3
"""Runtime evidence for stock-sync: incident vs fixed, on 127.0.0.1 only.

The two findings of examples/incident/stock_sync.cc, and what they do:

  * grpc-leak-stream-finish: UploadCounts() calls Finish() on its client
    stream without WritesDone(); the peer (here the instance itself) reads
    until the client half-closes, so every upload waits out its whole
    deadline and fails with DEADLINE_EXCEEDED instead of returning at once.
  * grpc-leak-reactor-finish: Reserve() returns its DefaultReactor() without
    Finish() for an unknown SKU; those calls end only at the client's
    deadline, their call state stays in the server, and
    Server::Shutdown(deadline) does not return.

For each run (the incident version; the incident version without
unknown-SKU calls, as a control for the shutdown; the fixed version) this
starts `stock-sync-<version>` uploading to itself every --upload-interval-ms
with a --upload-deadline-ms deadline, then runs the same binary in client
mode twice: --calls Reserve calls for a known SKU, then (except in the
control) --calls for an unknown one, from --threads threads with a
--deadline-ms deadline. It samples the server's threads and VmRSS from /proc
before and after the unknown-SKU calls, then sends SIGTERM (the server's
stopper calls Shutdown(now + 1 s) and prints how long it took) and waits at
most --shutdown-wait seconds for the process to exit; a server still there
then is recorded as "did not exit" and killed by its pid. Every process
started is stopped by pid, and the script checks that none is left.

It prints a summary (also written to <out>/stock-summary.txt); with --check
it also prints one `direction:` line per fact and `stock soak direction ok`
when each points the way the findings say, and exits 1 otherwise.

usage: stock_soak.py [--build DIR] [--out DIR] [--calls N] [--quick] [--check]
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import soak as inventory_soak  # noqa: E402  (Procs, free_port, wait_for_line, read_status)

RUNS = (
    ("incident", "incident", True),
    ("incident, known SKUs only", "incident", False),
    ("fixed", "fixed", True),
)
CODE_NAMES = {0: "OK", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND"}


def log(msg):
    print("stock-soak: " + msg, flush=True)


def codes(line):
    """{code: count} from a `... code C: N code C: N` line."""
    return {int(c): int(n) for c, n in re.findall(r"code (\d+): (\d+)", line)}


def client(binary, port, sku, args, out, name, procs):
    path = os.path.join(out, name + ".log")
    p = procs.start(name, [binary, "--reserve", "127.0.0.1:%d" % port, "--sku", sku,
                           "--calls", str(args.calls), "--threads", str(args.threads),
                           "--deadline-ms", str(args.deadline_ms)], path)
    # Bounded: every call has a deadline.
    p.wait(timeout=60 + args.calls * args.deadline_ms / 1000.0 / args.threads)
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.startswith("reserve:")]
    if not lines:
        raise RuntimeError("%s printed no result; see %s" % (name, path))
    m = re.search(r"in (\d+) ms", lines[-1])
    return {"codes": codes(lines[-1]), "ms": int(m.group(1)) if m else None}


def one_run(label, version, unknown, args, procs):
    binary = os.path.join(args.build, "examples", "stock-sync-" + version)
    tag = label.replace(",", "").replace(" ", "-")
    port = inventory_soak.free_port()
    server_log = os.path.join(args.out, "stock-%s-server.log" % tag)
    s = procs.start("stock-sync-" + version,
                    [binary, "--port", str(port), "--run-seconds", "300",
                     "--upload-interval-ms", str(args.upload_interval_ms),
                     "--upload-deadline-ms", str(args.upload_deadline_ms)], server_log)
    inventory_soak.wait_for_line(server_log, "listening on", s)
    time.sleep(args.warmup)
    result = {"label": label}
    result["known"] = client(binary, port, "widget", args, args.out,
                             "stock-%s-known" % tag, procs)
    threads0, rss0 = inventory_soak.read_status(s.pid)
    if unknown:
        result["unknown"] = client(binary, port, "no-such-sku", args, args.out,
                                   "stock-%s-unknown" % tag, procs)
    time.sleep(1)  # let the server settle after the last deadline
    threads1, rss1 = inventory_soak.read_status(s.pid)
    result.update(threads=(threads0, threads1), rss_kb=(rss0, rss1))

    start = time.monotonic()
    s.send_signal(signal.SIGTERM)
    try:
        s.wait(timeout=args.shutdown_wait)
        result["exit_s"] = time.monotonic() - start
    except subprocess.TimeoutExpired:
        result["exit_s"] = None
        log("%s: still running %d s after SIGTERM; killing pid %d"
            % (label, args.shutdown_wait, s.pid))
        s.kill()
        s.wait(timeout=10)
    with open(server_log) as f:
        text = f.read()
    m = re.search(r"uploads: (\d+), mean (\d+) ms;(.*)", text)
    result["uploads"] = (int(m.group(1)), int(m.group(2)), codes(m.group(3))) if m else None
    m = re.search(r"Shutdown returned after (\d+) ms", text)
    result["shutdown_ms"] = int(m.group(1)) if m else None
    return result


def fmt_codes(c):
    return ", ".join("%s %d" % (CODE_NAMES.get(k, "code %d" % k), n)
                     for k, n in sorted(c.items())) or "-"


def summarize(args, results):
    lines = [
        "stock-sync: uploads to itself every %d ms with a %d ms deadline; %d Reserve "
        "calls per client run from %d threads, %d ms deadline; SIGTERM, then at most "
        "%d s for the process to exit (its Shutdown has a 1 s deadline)"
        % (args.upload_interval_ms, args.upload_deadline_ms, args.calls, args.threads,
           args.deadline_ms, args.shutdown_wait),
        "",
        "%-27s %-28s %-34s %-34s %-15s %-16s %s" % (
            "run", "uploads (mean time)", "Reserve, known SKU", "Reserve, unknown SKU",
            "threads", "RSS kB", "shutdown"),
    ]
    for r in results:
        up = r["uploads"]
        uploads = ("%d (%d ms): %s" % (up[0], up[1], fmt_codes(up[2]))) if up else "?"
        known = "%s in %s ms" % (fmt_codes(r["known"]["codes"]), r["known"]["ms"])
        unknown = ("%s in %s ms" % (fmt_codes(r["unknown"]["codes"]), r["unknown"]["ms"])
                   if "unknown" in r else "(none sent)")
        if r["shutdown_ms"] is not None:
            shutdown = "returned after %d ms, exit %.1f s" % (r["shutdown_ms"], r["exit_s"])
        else:
            shutdown = ("never returned: no exit in %d s, killed" % args.shutdown_wait
                        if r["exit_s"] is None else "exit %.1f s, no report" % r["exit_s"])
        lines.append("%-27s %-28s %-34s %-34s %-15s %-16s %s" % (
            r["label"], uploads, known, unknown, "%d -> %d" % r["threads"],
            "%d -> %d" % r["rss_kb"], shutdown))
    return "\n".join(lines) + "\n"


def directions(args, results):
    """(fact, ok) pairs for --check."""
    by = {r["label"]: r for r in results}
    inc, ctl, fix = by["incident"], by["incident, known SKUs only"], by["fixed"]
    deadline = args.upload_deadline_ms
    facts = []

    def uploads(r, code):
        up = r["uploads"]
        return up is not None and up[0] > 0 and set(up[2]) == {code}

    facts.append(("incident uploads all end DEADLINE_EXCEEDED after about their deadline",
                  uploads(inc, 4) and inc["uploads"][1] >= 0.8 * deadline))
    facts.append(("fixed uploads all end OK well before their deadline",
                  uploads(fix, 0) and fix["uploads"][1] < 0.5 * deadline))
    facts.append(("incident unknown-SKU Reserve calls all end DEADLINE_EXCEEDED",
                  set(inc["unknown"]["codes"]) == {4}))
    facts.append(("fixed unknown-SKU Reserve calls all end NOT_FOUND",
                  set(fix["unknown"]["codes"]) == {5}))
    facts.append(("known-SKU Reserve calls end OK in every run",
                  all(set(r["known"]["codes"]) == {0} for r in results)))
    facts.append(("incident Shutdown(deadline) does not return after unknown-SKU calls",
                  inc["shutdown_ms"] is None and inc["exit_s"] is None))
    facts.append(("incident Shutdown returns without them (control)",
                  ctl["shutdown_ms"] is not None and ctl["exit_s"] is not None))
    facts.append(("fixed Shutdown returns", fix["shutdown_ms"] is not None and
                  fix["exit_s"] is not None))
    return facts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--deadline-ms", type=int, default=100)
    ap.add_argument("--upload-interval-ms", type=int, default=200)
    ap.add_argument("--upload-deadline-ms", type=int, default=1000)
    ap.add_argument("--shutdown-wait", type=int, default=10)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--quick", action="store_true",
                    help="200 calls per client run, 5 s shutdown wait")
    ap.add_argument("--check", action="store_true",
                    help="print and check the direction of each fact")
    args = ap.parse_args()
    if args.quick:
        args.calls, args.shutdown_wait = 200, 5
    if not (1 <= args.calls <= 100000 and 1 <= args.threads <= 64 and
            1 <= args.shutdown_wait <= 120):
        ap.error("--calls, --threads or --shutdown-wait out of range")
    args.build = os.path.abspath(args.build)
    args.out = os.path.abspath(args.out or os.path.join(args.build, "soak"))
    os.makedirs(args.out, exist_ok=True)
    for version in ("incident", "fixed"):
        if not os.access(os.path.join(args.build, "examples", "stock-sync-" + version),
                         os.X_OK):
            sys.stderr.write("stock-soak: build the stock-sync-%s target first\n" % version)
            return 2

    results, failure = [], None
    for label, version, unknown in RUNS:
        procs = inventory_soak.Procs()
        try:
            log("%s" % label)
            results.append(one_run(label, version, unknown, args, procs))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            failure = "%s: %s" % (label, e)
        finally:
            procs.stop_all(grace=5)
            left = procs.left()
            if left:
                failure = failure or "%s: processes left: %s" % (label, ", ".join(left))
        if failure:
            break
    if failure:
        sys.stderr.write("stock-soak: failed: %s\n" % failure)
        return 1
    print("no processes left", flush=True)
    summary = summarize(args, results)
    with open(os.path.join(args.out, "stock-summary.txt"), "w") as f:
        f.write(summary)
    print(summary, end="")
    if args.check:
        facts = directions(args, results)
        for fact, ok in facts:
            print("direction: %s: %s" % (fact, "yes" if ok else "NO"))
        if not all(ok for _, ok in facts):
            return 1
        print("stock soak direction ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
