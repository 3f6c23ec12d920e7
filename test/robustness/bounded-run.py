#!/usr/bin/env python3
"""Run a command under a time limit and report how it ended, for FileCheck.

Usage:
  bounded-run.py --timeout SECS -- COMMAND [ARG...]

Prints the command's standard output, then its standard error (always in
that order, so FileCheck sees a stable text), then one line

  exit status: N

when the command exited by itself (any N: clang-tidy exits 1 on compiler
errors), and exits 0.  If the command was killed by a signal, or ran longer
than SECS and was killed, it prints `CRASH: signal N` or
`HANG: no exit within SECS s` instead and exits 1, so the RUN line fails
whatever FileCheck would have said.  lit's internal shell has no per-command
time limit; this gives one.
"""

import subprocess
import sys


def main(argv):
    if len(argv) < 4 or argv[0] != "--timeout" or argv[2] != "--":
        sys.exit(__doc__)
    timeout = float(argv[1])
    command = argv[3:]
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        sys.stdout.buffer.write(e.stdout or b"")
        sys.stdout.buffer.write(e.stderr or b"")
        print("HANG: no exit within %g s" % timeout)
        return 1
    sys.stdout.buffer.write(proc.stdout)
    sys.stdout.buffer.write(proc.stderr)
    if proc.returncode < 0:
        print("CRASH: signal %d" % -proc.returncode)
        return 1
    print("exit status: %d" % proc.returncode)
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    sys.exit(main(sys.argv[1:]))
