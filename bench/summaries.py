#!/usr/bin/env python3
"""What summaries cost a whole CI run, measured (never a timed test).

Times scripts/grpc-leak-ci.py over the example project (every file of the
build's compile database under examples/, generated code included) with
the same grpc-leak-tidy binary and the same files, in four ways, runs
interleaved:
  off         --no-summaries: nothing read or written
  warm        the summaries of the run before on disk (callee-first order)
  warm 2-pass the same with --two-pass (compares, re-runs nothing new)
  cold 2-pass an empty summaries directory, --two-pass
and prints, per way, the median wall time and CPU time (user + system of
every process: steadier than wall time on a shared machine) with their
spread (min..max), their ratios to `off`, and how many files the second
pass re-ran.

Usage: bench/summaries.py [--build BUILD] [--tidy BINARY] [--reps N] [-j N]
(--tidy: a copy of the binary, when the build may replace it meanwhile)
"""
import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CI = os.path.join(ROOT, "scripts", "grpc-leak-ci.py")
MODES = [("off", ["--no-summaries"], None),
         ("warm", [], "warm"),
         ("warm 2-pass", ["--two-pass"], "warm"),
         ("cold 2-pass", ["--two-pass"], "cold")]


def run_ci(build, tidy, jobs, summaries, extra):
    """One CI run; returns (wall seconds, CPU seconds of it and every
    process it started, files the second pass re-ran or None)."""
    command = [sys.executable, CI, "-p", build, "--tidy", tidy, "-j", str(jobs), "--quiet",
               "--exit-zero", "--include", "/examples/", "--summaries-dir", summaries] + extra
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit("bench: grpc-leak-ci.py failed:\n" + done.stderr)
    again = re.search(r"second pass re-ran (\d+) file", done.stderr)
    return wall, cpu, int(again.group(1)) if again else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--tidy", help="grpc-leak-tidy to time (default: BUILD/bin/grpc-leak-tidy)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    opts = ap.parse_args()
    build = os.path.abspath(opts.build)
    tidy = os.path.abspath(opts.tidy or os.path.join(build, "bin", "grpc-leak-tidy"))
    if not os.path.exists(tidy):
        sys.exit(f"bench: {tidy} not built")
    work = tempfile.mkdtemp(prefix="grpc-leak-bench-summaries-")
    warm = os.path.join(work, "warm")
    # The run before: what a warm run finds on disk.
    run_ci(build, tidy, opts.jobs, warm, [])

    times = {name: [] for name, _, _ in MODES}
    cpus = {name: [] for name, _, _ in MODES}
    again = {name: set() for name, _, _ in MODES}
    for _ in range(opts.reps):  # interleaved: off, warm, warm 2-pass, cold, off, ...
        for name, extra, state in MODES:
            directory = warm if state == "warm" else os.path.join(work, "other")
            if state != "warm":
                shutil.rmtree(directory, ignore_errors=True)
            wall, cpu, rerun = run_ci(build, tidy, opts.jobs, directory, extra)
            times[name].append(wall)
            cpus[name].append(cpu)
            if rerun is not None:
                again[name].add(rerun)
    shutil.rmtree(work, ignore_errors=True)

    print(f"grpc-leak-tidy: {tidy}")
    print(f"machine: {os.cpu_count()} cores; -j {opts.jobs}; {opts.reps} interleaved runs per way")
    print("wall and CPU (user + system, every process) seconds: median (min..max), ratio to off\n")
    print(f"{'way':12} {'wall s':>22} {'/ off':>6} {'CPU s':>22} {'/ off':>6} {'re-ran':>7}")
    for name, _, _ in MODES:
        rerun = "/".join(str(n) for n in sorted(again[name])) or "-"
        row = f"{name:12}"
        for values, base in ((times[name], times["off"]), (cpus[name], cpus["off"])):
            row += (f" {statistics.median(values):8.2f} ({min(values):.2f}..{max(values):.2f})"
                    f" {statistics.median(values) / statistics.median(base):6.3f}")
        print(f"{row} {rerun:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
