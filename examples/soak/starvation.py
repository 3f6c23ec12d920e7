#!/usr/bin/env python3
"""Starvation run of the price board: how long an unrelated RPC waits while
callback handlers block, incident vs fixed.

For each version (incident, fixed) and each number of blocking callers in
--blockers, this starts, on 127.0.0.1 only:

  * a catalog-backend that holds every WatchPrices watch open for the whole
    run (the incident server's GetItem handler reads it synchronously until
    its 2 s catalog deadline; the fixed one reads it with a client reactor),
  * price-board-<version>,
  * starvation-probe (examples/soak/starvation_probe.cc): one Discovery.Ping
    every --interval-ms for --idle seconds, then the same while N threads send
    GetItem calls one after the other for --load seconds. Ping is answered at
    once by its own callback handler: it only waits if no callback thread is
    free.

It writes <out>/<version>-b<N>.csv (phase,t_ms,latency_ms,code per ping) and
<out>/starvation.txt (per run: ping latency p50/p90/p99/max and failures in
each phase, and the number of GetItem calls served), and prints the summary.
Every process is stopped by pid (SIGTERM, wait, SIGKILL if needed) in a
finally block, and the script checks that none is left.

usage: starvation.py [--build DIR] [--out DIR] [--blockers 1,2,8] [--idle 3]
                     [--load 8] [--interval-ms 100] [--quick]
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import soak  # noqa: E402  (Procs, free_port, wait_for_line, log)

VERSIONS = ("incident", "fixed")
PING_DEADLINE_MS = 5000


def parse_summary(path):
    """{phase: {key: value}} from the probe's summary lines, and its GetItem count."""
    phases, items = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("summary,"):
                parts = line.split(",")
                phases[parts[1]] = {k: float(v) for k, v in
                                    (p.split("=") for p in parts[2:])}
            elif line.startswith("getitem_calls="):
                items = int(line.split("=")[1])
    return phases, items


def run_one(version, blockers, args, examples, procs):
    out = args.out
    backend_port, server_port = soak.free_port(), soak.free_port()
    while server_port == backend_port:
        server_port = soak.free_port()
    lifetime = str(args.idle + args.load + 20)
    tag = "%s-b%d" % (version, blockers)
    b = procs.start("%s catalog-backend" % tag,
                    [os.path.join(examples, "catalog-backend"), "--port", str(backend_port),
                     "--run-seconds", lifetime, "--hold-seconds", lifetime],
                    os.path.join(out, "%s-backend.log" % tag))
    soak.wait_for_line(os.path.join(out, "%s-backend.log" % tag), "listening on", b)
    server_log = os.path.join(out, "%s-server.log" % tag)
    s = procs.start("price-board-%s" % tag,
                    [os.path.join(examples, "price-board-" + version),
                     "--port", str(server_port),
                     "--backend", "%s:%d" % (soak.LOOPBACK, backend_port),
                     "--run-seconds", lifetime, "--backend-timeout-ms", "2000"],
                    server_log)
    soak.wait_for_line(server_log, "listening on", s)
    csv = os.path.join(out, "%s.csv" % tag)
    p = procs.start("%s starvation-probe" % tag,
                    [os.path.join(examples, "starvation-probe"),
                     "--target", "%s:%d" % (soak.LOOPBACK, server_port),
                     "--blockers", str(blockers), "--idle-seconds", str(args.idle),
                     "--load-seconds", str(args.load),
                     "--interval-ms", str(args.interval_ms),
                     "--ping-deadline-ms", str(PING_DEADLINE_MS)],
                    csv)
    # The probe ends by itself: idle + load, plus one GetItem in flight.
    p.wait(timeout=args.idle + args.load + 30)
    if p.returncode != 0:
        raise RuntimeError("starvation-probe failed (rc %s); see %s" % (p.returncode, csv))
    # Stop this run's server and backend before the next run.
    for proc in (s, b):
        proc.terminate()
    for proc in (s, b):
        try:
            proc.wait(timeout=15)
        except Exception:  # noqa: BLE001 - stopped again in the finally block
            pass
    return parse_summary(csv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(soak.SRC_ROOT, "build"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--blockers", default="1,2,8",
                    help="comma-separated numbers of concurrent GetItem callers")
    ap.add_argument("--idle", type=int, default=3)
    ap.add_argument("--load", type=int, default=8)
    ap.add_argument("--interval-ms", type=int, default=100)
    ap.add_argument("--quick", action="store_true",
                    help="one run per version with 8 callers, 2 s idle, 5 s load")
    args = ap.parse_args()
    if args.quick:
        args.blockers, args.idle, args.load = "8", 2, 5
    blockers = [int(n) for n in args.blockers.split(",") if n.strip()]
    if not blockers or any(n < 0 or n > 64 for n in blockers):
        ap.error("--blockers: numbers from 0 to 64")
    if not (1 <= args.idle <= 120 and 1 <= args.load <= 600):
        ap.error("--idle 1..120, --load 1..600")
    args.out = args.out or os.path.join(args.build, "starvation")
    os.makedirs(args.out, exist_ok=True)
    examples = os.path.join(args.build, "examples")
    for prog in ("catalog-backend", "price-board-incident", "price-board-fixed",
                 "starvation-probe"):
        if not os.path.exists(os.path.join(examples, prog)):
            sys.exit("starvation: %s is missing; build it first" % os.path.join(examples, prog))

    procs = soak.Procs()
    results = {}
    try:
        for n in blockers:
            for version in VERSIONS:
                soak.log("%s with %d blocking caller(s)" % (version, n))
                results[(version, n)] = run_one(version, n, args, examples, procs)
    finally:
        procs.stop_all()
        left = procs.left()
        if left:
            soak.log("processes left: " + ", ".join(left))
        else:
            soak.log("no processes left")

    lines = ["starvation: Discovery.Ping every %d ms (deadline %d ms), %d s alone, then "
             "%d s while N threads send GetItem calls one after the other; the catalog "
             "holds every watch open, GetItem's catalog deadline is 2 s; latencies in ms"
             % (args.interval_ms, PING_DEADLINE_MS, args.idle, args.load)]
    lines.append("%-9s %3s | %-5s %5s %6s %8s %8s %8s %8s | %s"
                 % ("version", "N", "phase", "pings", "failed", "p50", "p90", "p99",
                    "max", "GetItem calls"))
    for n in blockers:
        for version in VERSIONS:
            phases, items = results[(version, n)]
            for phase in ("idle", "load"):
                r = phases.get(phase, {})
                lines.append("%-9s %3d | %-5s %5d %6d %8.1f %8.1f %8.1f %8.1f | %s"
                             % (version, n, phase, r.get("pings", 0), r.get("failed", 0),
                                r.get("p50_ms", 0), r.get("p90_ms", 0),
                                r.get("p99_ms", 0), r.get("max_ms", 0),
                                items if phase == "load" else ""))
    with open(os.path.join(args.out, "starvation.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.quick:
        for version in VERSIONS:
            phases, _ = results[(version, blockers[0])]
            print("direction: %s ping p50 idle %.1f ms, under load %.1f ms, failed %d"
                  % (version, phases["idle"]["p50_ms"], phases["load"]["p50_ms"],
                     phases["load"]["failed"]))
        return check_direction(results[("incident", blockers[0])][0],
                               results[("fixed", blockers[0])][0])
    return 0


def check_direction(incident, fixed):
    """Directions only, not amounts: under load the incident server's pings
    wait (their median is 10 times the idle one, and at least 100 ms longer,
    or some fail), the fixed server's do not (median under 50 ms, none fail)."""
    problems = []
    idle, load = incident["idle"]["p50_ms"], incident["load"]["p50_ms"]
    if not (incident["load"]["failed"] > 0 or
            (load >= 10 * max(idle, 1.0) and load - idle >= 100)):
        problems.append("incident pings did not wait under load (p50 %.1f ms idle, "
                        "%.1f ms under load)" % (idle, load))
    if fixed["load"]["failed"] > 0 or fixed["load"]["p50_ms"] >= 50:
        problems.append("fixed pings waited under load (p50 %.1f ms, %d failed)"
                        % (fixed["load"]["p50_ms"], fixed["load"]["failed"]))
    if problems:
        print("starvation direction FAILED: " + "; ".join(problems))
        return 1
    print("starvation direction ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
