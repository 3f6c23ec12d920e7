#!/usr/bin/env python3
"""Run grpc-leak-tidy over every .cpp in a directory and print the results.

  run_package.py --tidy BINARY [--jobs N] [--checks GLOB] [--tidy-arg=ARG ...]
                 [--glob PATTERN ...] DIR -- COMPILER ARGS

Each translation unit DIR/PATTERN (default *.cpp; several --glob options
select the union), sorted by name, is analysed with
`BINARY -checks=GLOB ARG... TU -- COMPILER ARGS` in a pool of N processes
(default 2).
For each TU, in order, the driver prints its standard output and then its
standard error unchanged (no prefix), so every diagnostic reaches FileCheck.
Last it prints one summary line:

  checked N translation units: W grpc-leak warnings, F failed

where W counts the lines that end in `[grpc-leak-...]` and F the runs that
exited with a status other than 0. The driver exits with 1 if any run failed
or no TU was found, else 0.
"""

import argparse
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FINDING = re.compile(r"\[grpc-leak-[a-z-]+(,[^\]]*)?\]$")


def run_one(tidy, checks, tidy_args, tu, compiler_args):
    cmd = [tidy, "-checks=" + checks] + tidy_args + [str(tu), "--"]
    cmd += compiler_args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    return tu, p.returncode, p.stdout, p.stderr


def main():
    argv = sys.argv[1:]
    compiler_args = []
    if "--" in argv:
        i = argv.index("--")
        argv, compiler_args = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tidy", required=True)
    ap.add_argument("--checks", default="-*,grpc-leak-*")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--tidy-arg", action="append", default=[],
                    help="one more argument for BINARY (write --tidy-arg=X)")
    ap.add_argument("--glob", action="append", default=[],
                    help="which files of DIR to analyse (default *.cpp)")
    ap.add_argument("dir")
    args = ap.parse_args(argv)

    tus = sorted({tu for pattern in (args.glob or ["*.cpp"])
                  for tu in Path(args.dir).glob(pattern)})
    if not tus:
        print("error: no translation units in %s" % args.dir)
        return 1
    findings = failed = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = pool.map(
            lambda tu: run_one(args.tidy, args.checks, args.tidy_arg, tu,
                              compiler_args), tus)
        for tu, rc, out, err in results:
            sys.stdout.write(out)
            sys.stdout.write(err)
            findings += sum(1 for line in out.splitlines()
                            if FINDING.search(line))
            if rc != 0:
                failed += 1
                print("error: %s: %s exited with status %d" % (
                    tu.name, Path(args.tidy).name, rc))
            sys.stdout.flush()
    print("checked %d translation units: %d grpc-leak warnings, %d failed" % (
        len(tus), findings, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
