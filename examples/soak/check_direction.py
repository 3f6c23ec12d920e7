#!/usr/bin/env python3
"""Checks the direction of a soak run (examples/soak/soak.py) from its CSVs.

usage: check_direction.py OUT_DIR

Passes, printing `soak direction ok`, when under the GetItem load
  * the incident server's threads or fds grow by a clear margin, and
  * the fixed server's threads and fds stay within a small band once its
    handlers have warmed up (each fixed GetItem ends within its 2 s deadline).
Otherwise it prints what it measured and exits 1. Only directions are checked,
not amounts: the machine may be busy with other work.
"""

import csv
import os
import sys

# The incident server gains one blocked handler thread per GetItem call
# (4 client threads x 1 call/s in the quick run, so about 40 in 10 s).
INCIDENT_MIN_GROWTH = {"threads": 15, "fds": 15}
# The fixed server's counts after WARMUP seconds of load.
FIXED_MAX_BAND = {"threads": 6, "fds": 4}
WARMUP = 3


def load_phase(path):
    with open(path, newline="") as f:
        rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    if not rows:
        raise ValueError("%s has no samples" % path)
    idle = [r for r in rows if not r["load"]]
    load = [r for r in rows if r["load"]]
    if not load:
        raise ValueError("%s has no samples under load" % path)
    return ([idle[-1]] if idle else []) + load


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    out = sys.argv[1]
    try:
        incident = load_phase(os.path.join(out, "incident.csv"))
        fixed = load_phase(os.path.join(out, "fixed.csv"))
    except (OSError, ValueError, KeyError) as e:
        print("soak direction: cannot read the run: %s" % e)
        return 1

    problems = []
    grew = []
    for col, margin in INCIDENT_MIN_GROWTH.items():
        change = incident[-1][col] - incident[0][col]
        print("incident %s: %+.0f under load (%d -> %d), clear growth is >= %d"
              % (col, change, incident[0][col], incident[-1][col], margin))
        if change >= margin:
            grew.append(col)
    if not grew:
        problems.append("neither threads nor fds of the incident server grew by a clear margin")

    start = fixed[0]["t"] + WARMUP
    settled = [r for r in fixed if r["t"] >= start]
    if len(settled) < 3:
        problems.append("too few fixed samples after %d s of load" % WARMUP)
    else:
        for col, band in FIXED_MAX_BAND.items():
            values = [r[col] for r in settled]
            spread = max(values) - min(values)
            print("fixed %s: %d..%d after %d s of load (band %d, allowed %d)"
                  % (col, min(values), max(values), WARMUP, spread, band))
            if spread > band:
                problems.append("fixed %s moved by %d, more than %d" % (col, spread, band))

    if problems:
        for p in problems:
            print("soak direction: " + p)
        return 1
    print("soak direction ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
