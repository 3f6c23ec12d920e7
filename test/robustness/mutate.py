#!/usr/bin/env python3
"""Run every grpc-leak check over randomly mutated copies of C++ inputs.

Usage:
  mutate.py --seed S --count N --out DIR [--timeout SECS] [--jobs J]
            [--keep-going] [--glob PATTERN]... --tidy TIDY
            --flags "<compiler flags>" INPUT...

Mutant i (0 <= i < N) is built from random.Random(S + i) alone, so any one
mutant can be regenerated from the seed and its index, whatever --jobs is:
the generator picks one input file and applies one mutation to it:

  delete-token      remove one token
  delete-line       remove one line
  truncate          cut the file at a random offset
  duplicate-line    repeat one line
  swap-tokens       swap two adjacent tokens
  replace-ident     replace an identifier by another identifier of the file

Tokens come from a small C++ tokenizer (identifiers, numbers, string and
character literals, punctuation); the text between tokens is kept as is.
Comments are skipped, and the line mutations pick lines that hold code:
mutating a comment would only waste a run.
The mutant is written to DIR/mutant-<i>.cpp (DIR/manifest.txt says where
each one comes from) and checked with

  TIDY -checks=-*,grpc-leak-* DIR/mutant-<i>.cpp -- FLAGS

twice.  Compiler errors (and clang-tidy's non-zero exit for them) are
expected.  Failures are:

  crash             the process died on a signal, or its output contains
                    "Stack dump" or "PLEASE submit a bug report";
  hang              a run took longer than --timeout seconds (default 30);
  nondeterministic  the two runs' standard outputs differ (the mutant's
                    path is replaced by a placeholder before comparing).

INPUTs may be files, directories (their *.cpp, *.cc and *.cxx files) or
glob patterns; --glob adds more patterns.  Inputs are sorted, so the
mutants do not depend on the order they are given in.  TIDY is a command
prefix, split like a shell would (e.g. "clang-tidy --load=plugin.so").

Prints `mutants: N run, C crashes, H hangs, D nondeterministic`, then each
failure with its mutant file and a command that reproduces it (-v also
prints one line per mutant to stderr as it finishes).  Without
--keep-going no new mutant starts after the first failure (those already
running finish).  Exits 1 if anything failed, 0 otherwise, 2 on bad usage.
"""

import argparse
import concurrent.futures
import glob
import os
import random
import re
import shlex
import subprocess
import sys
import threading
import time

# One C++ token: comment (matched only to be skipped), string literal (with
# optional encoding prefix), character literal, identifier, number
# (pp-number-ish), multi-character punctuator, or any other single non-blank
# character.
TOKEN_RE = re.compile(
    r"""(?P<comment>//[^\n]*|/\*(?:[^*]|\*(?!/))*(?:\*/)?)"""
    r"""|(?:u8|[uUL])?"(?:\\.|[^"\\\n])*"?"""
    r"""|(?:u8|[uUL])?'(?:\\.|[^'\\\n])*'?"""
    r"""|[A-Za-z_]\w*"""
    r"""|\.?\d(?:[eEpP][+-]|[\w.'])*"""
    r"""|->\*?|\.\.\.|::|<<=?|>>=?|<=>|\+\+|--|&&|\|\||##"""
    r"""|[-+*/%=!<>&|^]="""
    r"""|[^\s\w]"""
)
IDENT_RE = re.compile(r"[A-Za-z_]\w*\Z")
CRASH_MARKERS = ("Stack dump", "PLEASE submit a bug report")
SOURCE_SUFFIXES = (".cpp", ".cc", ".cxx")


# ---------------------------------------------------------------- mutations

def tokens(text):
    """Return the (start, end) spans of the tokens of TEXT, comments left out
    (mutating a comment would only waste a run)."""
    return [m.span() for m in TOKEN_RE.finditer(text) if not m.group("comment")]


def line_spans(text):
    """Return the (start, end) spans of the lines of TEXT that hold at least
    one token, newline included (all lines if none does)."""
    spans, start = [], 0
    for line in text.split("\n"):
        end = start + len(line)
        spans.append((start, min(end + 1, len(text))))
        start = end + 1
    if spans and spans[-1][0] == spans[-1][1]:
        spans.pop()  # the empty "line" after a final newline
    token_lines = {text.count("\n", 0, s) for s, _ in tokens(text)}
    code = [span for k, span in enumerate(spans) if k in token_lines]
    return code or spans


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def delete_token(rng, text):
    toks = tokens(text)
    if not toks:
        return None
    start, end = rng.choice(toks)
    return (text[:start] + text[end:],
            "delete-token %r at line %d" % (text[start:end], line_of(text, start)))


def delete_line(rng, text):
    lines = line_spans(text)
    if not lines:
        return None
    k = rng.randrange(len(lines))
    start, end = lines[k]
    return text[:start] + text[end:], "delete-line %d" % (k + 1)


def truncate(rng, text):
    if not text:
        return None
    offset = rng.randrange(len(text))
    return text[:offset], "truncate at offset %d (line %d)" % (offset, line_of(text, offset))


def duplicate_line(rng, text):
    lines = line_spans(text)
    if not lines:
        return None
    k = rng.randrange(len(lines))
    start, end = lines[k]
    line = text[start:end]
    if not line.endswith("\n"):
        line += "\n"
    return text[:start] + line + text[start:], "duplicate-line %d" % (k + 1)


def swap_tokens(rng, text):
    toks = tokens(text)
    if len(toks) < 2:
        return None
    k = rng.randrange(len(toks) - 1)
    (s1, e1), (s2, e2) = toks[k], toks[k + 1]
    swapped = text[:s1] + text[s2:e2] + text[e1:s2] + text[s1:e1] + text[e2:]
    return swapped, "swap-tokens %r %r at line %d" % (
        text[s1:e1], text[s2:e2], line_of(text, s1))


def replace_ident(rng, text):
    idents = [(s, e) for s, e in tokens(text) if IDENT_RE.match(text[s:e])]
    names = sorted({text[s:e] for s, e in idents})
    if len(names) < 2:
        return None
    start, end = rng.choice(idents)
    old = text[start:end]
    new = rng.choice([n for n in names if n != old])
    return (text[:start] + new + text[end:],
            "replace-ident %r -> %r at line %d" % (old, new, line_of(text, start)))


MUTATIONS = (delete_token, delete_line, truncate, duplicate_line, swap_tokens,
             replace_ident)


def make_mutant(seed, index, inputs, sources):
    """Return (input path, mutated text, description) for mutant INDEX."""
    rng = random.Random(seed + index)
    path = rng.choice(inputs)
    text = sources[path]
    for mutation in rng.sample(MUTATIONS, len(MUTATIONS)):
        result = mutation(rng, text)
        if result is not None:
            return path, result[0], result[1]
    return path, text, "unchanged (empty input)"


# ------------------------------------------------------------------ running

class Outcome:
    def __init__(self, index, mutant, source, description, command):
        self.index = index
        self.mutant = mutant
        self.source = source
        self.description = description
        self.command = command
        self.kind = None          # None, "crash", "hang", "nondeterministic"
        self.details = []
        self.seconds = 0.0


def run_once(command, timeout):
    """Run COMMAND; return (returncode or None on timeout, stdout, stderr, secs)."""
    start = time.monotonic()
    try:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = None, e.stdout or b"", e.stderr or b""
    elapsed = time.monotonic() - start
    return (rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
            elapsed)


def crash_excerpt(output, limit=12):
    """The first lines of the stack dump (or the tail of OUTPUT)."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if any(marker in line for marker in CRASH_MARKERS):
            return lines[i:i + limit]
    return lines[-limit:]


def check_mutant(outcome, timeout):
    runs = []
    for _ in range(2):
        rc, out, err = run_once(outcome.command, timeout)[:3]
        runs.append((rc, out, err))
        if rc is None:
            outcome.kind = "hang"
            outcome.details = ["no exit within %g s" % timeout]
            return outcome
        combined = out + err
        if rc < 0 or any(marker in combined for marker in CRASH_MARKERS):
            outcome.kind = "crash"
            status = "killed by signal %d" % -rc if rc < 0 else "exit status %d" % rc
            outcome.details = [status] + crash_excerpt(combined)
            return outcome
    normalized = [out.replace(outcome.mutant, "<mutant>") for _, out, _ in runs]
    if normalized[0] != normalized[1]:
        outcome.kind = "nondeterministic"
        first, second = (n.splitlines() for n in normalized)
        for k in range(max(len(first), len(second))):
            a = first[k] if k < len(first) else "<end of output>"
            b = second[k] if k < len(second) else "<end of output>"
            if a != b:
                outcome.details = ["first difference at stdout line %d:" % (k + 1),
                                   "  run 1: " + a, "  run 2: " + b]
                break
    return outcome


# ---------------------------------------------------------------- arguments

def expand_inputs(items):
    """Files, directories and glob patterns -> sorted list of files."""
    found = set()
    for item in items:
        if os.path.isdir(item):
            for name in os.listdir(item):
                path = os.path.join(item, name)
                if name.endswith(SOURCE_SUFFIXES) and os.path.isfile(path):
                    found.add(os.path.abspath(path))
        elif os.path.isfile(item):
            found.add(os.path.abspath(item))
        else:
            matches = [m for m in glob.glob(item) if os.path.isfile(m)]
            if not matches:
                print("mutate.py: error: no input matches %r" % item, file=sys.stderr)
                sys.exit(2)
            found.update(os.path.abspath(m) for m in matches)
    return sorted(found)


def normalize_argv(argv):
    """Let `--flags -std=c++17` work: argparse takes a lone '-x' for an option."""
    result, i = [], 0
    while i < len(argv):
        if argv[i] in ("--flags", "--tidy") and i + 1 < len(argv):
            result.append("%s=%s" % (argv[i], argv[i + 1]))
            i += 2
        else:
            result.append(argv[i])
            i += 1
    return result


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        usage=__doc__.split("Mutant i")[0].split("Usage:")[1].strip())
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds allowed per clang-tidy run (default 30)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep-going", action="store_true",
                        help="run every mutant even after a failure")
    parser.add_argument("--tidy", required=True,
                        help="clang-tidy command prefix (shell-split)")
    parser.add_argument("--flags", default="",
                        help="compiler flags after '--' (shell-split)")
    parser.add_argument("--glob", action="append", default=[],
                        help="glob pattern of more inputs")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print one line per mutant")
    parser.add_argument("inputs", nargs="*")
    args = parser.parse_args(normalize_argv(argv))
    if args.count < 0 or args.jobs < 1 or args.timeout <= 0:
        parser.error("--count must be >= 0, --jobs >= 1, --timeout > 0")
    if not args.inputs and not args.glob:
        parser.error("no INPUT given")
    return args


# --------------------------------------------------------------------- main

def main(argv):
    args = parse_args(argv)
    inputs = expand_inputs(args.inputs + args.glob)
    sources = {}
    for path in inputs:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            sources[path] = f.read()
    tidy = shlex.split(args.tidy)
    flags = shlex.split(args.flags)
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)

    outcomes = []
    manifest = []
    for i in range(args.count):
        source, text, description = make_mutant(args.seed, i, inputs, sources)
        mutant = os.path.join(out_dir, "mutant-%d.cpp" % i)
        with open(mutant, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(text)
        command = tidy + ["-checks=-*,grpc-leak-*", mutant, "--"] + flags
        outcomes.append(Outcome(i, mutant, source, description, command))
        manifest.append("mutant-%d.cpp\t%s\t%s\n" % (i, source, description))
    with open(os.path.join(out_dir, "manifest.txt"), "w", encoding="utf-8") as f:
        f.writelines(manifest)

    stop = threading.Event()
    done = []
    lock = threading.Lock()

    def work(outcome):
        if stop.is_set():
            return None
        start = time.monotonic()
        check_mutant(outcome, args.timeout)
        outcome.seconds = time.monotonic() - start
        with lock:
            done.append(outcome)
            if args.verbose:
                print("mutant-%d.cpp %s %.1fs (%s: %s)" % (
                    outcome.index, outcome.kind or "ok", outcome.seconds,
                    os.path.basename(outcome.source), outcome.description),
                    file=sys.stderr, flush=True)
        if outcome.kind and not args.keep_going:
            stop.set()
        return outcome

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(work, outcomes))
    wall = time.monotonic() - started

    done.sort(key=lambda o: o.index)
    failures = [o for o in done if o.kind]
    count = {kind: sum(o.kind == kind for o in done)
             for kind in ("crash", "hang", "nondeterministic")}
    print("mutants: %d run, %d crashes, %d hangs, %d nondeterministic" % (
        len(done), count["crash"], count["hang"], count["nondeterministic"]))
    for o in failures:
        print("%s: %s" % (o.kind.upper(), o.mutant))
        print("  from: %s (%s)" % (o.source, o.description))
        print("  reproduce: %s" % shlex.join(o.command))
        for line in o.details:
            print("  | " + line)
    slowest = max(done, key=lambda o: o.seconds, default=None)
    print("wall time %.1f s%s" % (wall, "" if slowest is None else
          ", slowest mutant-%d.cpp %.1f s (2 runs)" % (slowest.index, slowest.seconds)),
          file=sys.stderr)
    if not args.keep_going and failures and len(done) < args.count:
        print("stopped after the first failure (use --keep-going to run all %d)"
              % args.count, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
