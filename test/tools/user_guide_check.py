#!/usr/bin/env python3
"""Check docs/user-guide.md against the tool it documents.

Usage:
  user_guide_check.py options  --guide GUIDE --tidy TIDY --work DIR
  user_guide_check.py examples --guide GUIDE --tidy TIDY --work DIR [-- COMPILER_ARGS...]

Contract:
  * TIDY is a command prefix, split like a shell would: grpc-leak-tidy, or
    "clang-tidy-22 --load=<plugin>".
  * options: runs `TIDY --checks=-*,grpc-leak-* --dump-config` (in DIR, so no
    .clang-tidy of the caller applies) and reads every `grpc-leak-*.<Option>`
    line of its CheckOptions. The guide's options table is the Markdown table
    between `<!-- options-table:begin -->` and `<!-- options-table:end -->`;
    each row is `| check | option | type | default | what it does |`, where
    the check cell is a link [`grpc-leak-x`](checks/grpc-leak-x.md) (to a page
    that exists) or empty (same check as the row above), the option cell is
    `Name` in backticks, and the default is the first backticked text of its
    cell (`''` meaning empty). The table must list exactly the options
    --dump-config prints, with the same defaults, each once. Prints one
    summary line on success.
  * examples: a worked example is a set of fenced blocks, each announced by
    an HTML comment on the line before it (invisible when rendered):
        <!-- example NAME: source FILE -->     the code, written to FILE
        <!-- example NAME: config -->          a complete .clang-tidy
        <!-- example NAME: fixed -->           FILE after the fix
        <!-- example NAME: output RUN -->      what TIDY prints for RUN
        <!-- example NAME: after-fix-notes --> FILE after `--fix-notes`
    and `<!-- example NAME: silent RUN -->` (no block) says RUN prints no
    diagnostic. RUN is `default` (the source, with a .clang-tidy of just
    `Checks: '-*,grpc-leak-*'`), `config` (the source, with the example's
    config) or `fixed` (the fixed code, with the example's config). An
    output block lists the diagnostics, one `FILE:LINE:COL: kind: message`
    per line, in order; TIDY's own lines are compared with their paths cut
    to the file name, and without clang-tidy's `FIX-IT applied` notes. Each
    run is made in its own directory under DIR, with TIDY given only the
    file (its .clang-tidy decides the checks) and `-- COMPILER_ARGS`.
    after-fix-notes runs `--fix-notes` on a copy of the source (default
    configuration) and compares the file. Every example needs a source and
    at least one run; a config or fixed block no run uses is an error. A
    configuration diagnostic, a compiler error or a non-zero exit is a
    failure. Prints one line per run: `example NAME: RUN silent`,
    `example NAME: RUN N diagnostics` or `example NAME: after-fix-notes ok`.
  * Exit status: 0 if everything matches; 1 otherwise (the differences on
    stderr); 2 on a usage error.
"""

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys

USAGE = __doc__.split("Contract:")[0].strip()
TIMEOUT = 600  # seconds per tool run

TABLE_BEGIN = "<!-- options-table:begin -->"
TABLE_END = "<!-- options-table:end -->"
DUMP_OPTION_RE = re.compile(r"^\s+(grpc-leak-[a-z-]+)\.([A-Za-z0-9_]+):\s*(.*?)\s*$")
CHECK_CELL_RE = re.compile(r"^\[`(grpc-leak-[a-z-]+)`\]\(checks/(grpc-leak-[a-z-]+)\.md\)$")
CODE_RE = re.compile(r"`([^`]*)`")

MARKER_RE = re.compile(
    r"^<!--\s*example\s+([A-Za-z0-9_-]+):\s*"
    r"(source|config|fixed|output|silent|after-fix-notes)\b\s*([^\s>]*)\s*-->\s*$")
FENCE_RE = re.compile(r"^(`{3,})(.*)$")
DIAG_RE = re.compile(r"^(.+?):(\d+):(\d+): (warning|error|note): (.*)$")
RUNS = ("default", "config", "fixed")
DEFAULT_CONFIG = "Checks: '-*,grpc-leak-*'\n"


class Failure(Exception):
    """The guide and the tool disagree; the message says where."""


def run(cmd, cwd):
    """Runs cmd in cwd; returns (exit code, stdout + stderr)."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT)
    except OSError as exc:
        return 127, "cannot run %s: %s\n" % (cmd[0], exc)
    except subprocess.TimeoutExpired:
        return 124, "timed out after %d s: %s\n" % (TIMEOUT, " ".join(cmd))
    return proc.returncode, proc.stdout + proc.stderr


# --- options -----------------------------------------------------------------

def yaml_scalar(text):
    """The value of a one-line YAML scalar as --dump-config writes it."""
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def dumped_options(tidy, work):
    os.makedirs(work, exist_ok=True)
    rc, out = run([*tidy, "--checks=-*,grpc-leak-*", "--dump-config"], work)
    if rc != 0:
        raise Failure("--dump-config failed (exit %d):\n%s" % (rc, out))
    options = {}
    in_options = False
    for line in out.splitlines():
        if line.startswith("CheckOptions:"):
            in_options = True
            continue
        if in_options and line and not line[0].isspace():
            in_options = False
        match = DUMP_OPTION_RE.match(line) if in_options else None
        if match:
            options[(match.group(1), match.group(2))] = yaml_scalar(match.group(3))
    if not options:
        raise Failure("--dump-config printed no grpc-leak-* option:\n" + out)
    return options


def table_options(guide_path):
    with open(guide_path, encoding="utf-8") as f:
        text = f.read()
    if text.count(TABLE_BEGIN) != 1 or text.count(TABLE_END) != 1:
        raise Failure("the guide needs exactly one %s ... %s" % (TABLE_BEGIN, TABLE_END))
    body = text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0]
    rows = [l.strip() for l in body.splitlines() if l.strip()]
    if len(rows) < 3 or not rows[1].replace("|", "").replace("-", "").strip() == "":
        raise Failure("the options table has no header and separator row")
    docs_dir = os.path.join(os.path.dirname(os.path.abspath(guide_path)), "checks")
    options, errors, check = {}, [], None
    for number, row in enumerate(rows[2:], start=1):
        if not (row.startswith("|") and row.endswith("|")):
            errors.append("row %d is not a table row: %s" % (number, row))
            continue
        cells = [c.strip() for c in row[1:-1].split("|")]
        if len(cells) < 5:
            errors.append("row %d has %d cells, not 5: %s" % (number, len(cells), row))
            continue
        if cells[0]:
            link = CHECK_CELL_RE.match(cells[0])
            if not link or link.group(1) != link.group(2):
                errors.append("row %d: the check cell must be [`grpc-leak-x`](checks/grpc-leak-x.md): %s"
                              % (number, cells[0]))
                continue
            check = link.group(1)
            if not os.path.isfile(os.path.join(docs_dir, check + ".md")):
                errors.append("row %d: no page checks/%s.md" % (number, check))
        if check is None:
            errors.append("row %d names no check" % number)
            continue
        name = CODE_RE.fullmatch(cells[1])
        default = CODE_RE.search(cells[3])
        if not name or not default:
            errors.append("row %d: the option must be `Name` and the default contain `value`: %s"
                          % (number, row))
            continue
        value = "" if default.group(1) == "''" else default.group(1)
        key = (check, name.group(1))
        if key in options:
            errors.append("row %d: %s.%s is listed twice" % (number, *key))
        options[key] = value
    if errors:
        raise Failure("\n".join(errors))
    return options


def check_options(args):
    dumped = dumped_options(args.tidy, args.work)
    listed = table_options(args.guide)
    errors = []
    for key in sorted(set(dumped) | set(listed)):
        name = "%s.%s" % key
        if key not in listed:
            errors.append("missing from the table: %s (default '%s')" % (name, dumped[key]))
        elif key not in dumped:
            errors.append("in the table but not in --dump-config: %s" % name)
        elif listed[key] != dumped[key]:
            errors.append("default of %s: the table says '%s', --dump-config '%s'"
                          % (name, listed[key], dumped[key]))
    if errors:
        raise Failure("the options table disagrees with --dump-config:\n" + "\n".join(errors))
    print("options table: %d options of %d checks, the same names and defaults as --dump-config"
          % (len(listed), len({c for c, _ in listed})))


# --- examples ----------------------------------------------------------------

class Example:
    def __init__(self, name):
        self.name = name
        self.file = None
        self.source = None
        self.config = None
        self.fixed = None
        self.after_fix_notes = None
        self.runs = {}  # run -> list of expected diagnostic lines ([] = silent)
        self.order = []  # runs in the guide's order


def fenced_block(lines, start, where):
    """The text of the fenced block opening on lines[start]."""
    fence = FENCE_RE.match(lines[start]) if start < len(lines) else None
    if not fence:
        raise Failure("%s: the line after the marker must open a fenced block" % where)
    body = []
    for line in lines[start + 1:]:
        if line.startswith(fence.group(1)) and not line[len(fence.group(1)):].strip():
            return "".join(l + "\n" for l in body)
        body.append(line)
    raise Failure("%s: the fenced block is not closed" % where)


def parse_examples(guide_path):
    with open(guide_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    examples = {}
    for index, line in enumerate(lines):
        if "<!--" in line and "example" in line and not line.lstrip().startswith("<!-- options-table"):
            match = MARKER_RE.match(line.strip())
            if not match:
                raise Failure("line %d: malformed example marker: %s" % (index + 1, line))
        else:
            continue
        name, kind, arg = match.groups()
        where = "line %d (example %s, %s)" % (index + 1, name, kind)
        ex = examples.setdefault(name, Example(name))
        if kind == "silent":
            if arg not in RUNS:
                raise Failure("%s: the run must be one of %s" % (where, ", ".join(RUNS)))
            if arg in ex.runs:
                raise Failure("%s: run %s is described twice" % (where, arg))
            ex.runs[arg] = []
            ex.order.append(arg)
            continue
        block = fenced_block(lines, index + 1, where)
        if kind == "source":
            if not arg or os.path.basename(arg) != arg or ex.source is not None:
                raise Failure("%s: one source per example, with a plain file name" % where)
            ex.file, ex.source = arg, block
        elif kind in ("config", "fixed", "after-fix-notes"):
            attr = kind.replace("-", "_")
            if getattr(ex, attr) is not None or arg:
                raise Failure("%s: given twice, or with an argument" % where)
            setattr(ex, attr, block)
        elif kind == "output":
            if arg not in RUNS or arg in ex.runs:
                raise Failure("%s: the run must be one of %s, described once" % (where, ", ".join(RUNS)))
            expected = [l.strip() for l in block.splitlines() if l.strip()]
            if not expected:
                raise Failure("%s: an empty output block; use `silent %s`" % (where, arg))
            ex.runs[arg] = expected
            ex.order.append(arg)
    for ex in examples.values():
        if ex.source is None:
            raise Failure("example %s has no source" % ex.name)
        if not ex.runs and ex.after_fix_notes is None:
            raise Failure("example %s has no run" % ex.name)
        if "config" in ex.runs or "fixed" in ex.runs:
            if ex.config is None:
                raise Failure("example %s: a config or fixed run needs a config block" % ex.name)
        elif ex.config is not None:
            raise Failure("example %s: its config block is used by no run" % ex.name)
        if ("fixed" in ex.runs) != (ex.fixed is not None):
            raise Failure("example %s: a fixed block and a fixed run go together" % ex.name)
    if not examples:
        raise Failure("the guide has no example markers")
    return list(examples.values())


def diagnostics(output):
    """TIDY's diagnostic lines, paths cut to the file name."""
    found, config_errors = [], []
    for line in output.splitlines():
        if "[clang-tidy-config]" in line or line.startswith("Error parsing") or \
                "invalid configuration value" in line:
            config_errors.append(line)
        match = DIAG_RE.match(line)
        if not match:
            continue
        path, row, col, kind, message = match.groups()
        if kind == "note" and message.startswith("FIX-IT applied"):
            continue
        found.append("%s:%s:%s: %s: %s" % (os.path.basename(path), row, col, kind, message))
    return found, config_errors


def tidy_run(args, ex, run_name, code, config, extra=()):
    """Runs TIDY on `code` saved as ex.file with `config`; returns (output, dir)."""
    directory = os.path.join(args.work, ex.name, run_name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    with open(os.path.join(directory, ".clang-tidy"), "w", encoding="utf-8") as f:
        f.write(config)
    with open(os.path.join(directory, ex.file), "w", encoding="utf-8") as f:
        f.write(code)
    cmd = [*args.tidy, *extra, ex.file, "--", *args.compiler_args]
    rc, out = run(cmd, directory)
    found, config_errors = diagnostics(out)
    problems = []
    if rc != 0:
        problems.append("exit code %d" % rc)
    if config_errors:
        problems.append("configuration diagnostics:\n  " + "\n  ".join(config_errors))
    if any(": error: " in d for d in found):
        problems.append("compiler errors")
    if problems:
        raise Failure("example %s, run %s: %s\ncommand (in %s): %s\n--- output ---\n%s"
                      % (ex.name, run_name, "; ".join(problems), directory, " ".join(cmd), out))
    return found, out, directory


def check_examples(args):
    failures = []
    for ex in parse_examples(args.guide):
        for run_name in ex.order:
            code = ex.fixed if run_name == "fixed" else ex.source
            config = DEFAULT_CONFIG if run_name == "default" else ex.config
            try:
                found, out, _ = tidy_run(args, ex, run_name, code, config)
                expected = ex.runs[run_name]
                if found != expected:
                    diff = "\n".join(difflib.unified_diff(
                        expected, found, "the guide says", "grpc-leak-tidy printed", lineterm=""))
                    raise Failure("example %s, run %s: the output differs from the guide's\n%s"
                                  % (ex.name, run_name, diff))
                print("example %s: %s %s" % (ex.name, run_name,
                                             "%d diagnostics" % len(found) if found else "silent"))
            except Failure as failure:
                failures.append(str(failure))
        if ex.after_fix_notes is not None:
            try:
                _, _, directory = tidy_run(args, ex, "after-fix-notes", ex.source, DEFAULT_CONFIG,
                                           extra=("--fix-notes",))
                with open(os.path.join(directory, ex.file), encoding="utf-8") as f:
                    fixed = f.read()
                if fixed != ex.after_fix_notes:
                    diff = "\n".join(difflib.unified_diff(
                        ex.after_fix_notes.splitlines(), fixed.splitlines(),
                        "the guide says", "--fix-notes wrote", lineterm=""))
                    raise Failure("example %s: --fix-notes wrote something else\n%s" % (ex.name, diff))
                print("example %s: after-fix-notes ok" % ex.name)
            except Failure as failure:
                failures.append(str(failure))
    if failures:
        raise Failure("\n\n".join(failures))


def main(argv):
    compiler_args = []
    if "--" in argv:
        at = argv.index("--")
        argv, compiler_args = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(usage=USAGE)
    parser.add_argument("mode", choices=["options", "examples"])
    parser.add_argument("--guide", required=True)
    parser.add_argument("--tidy", required=True)
    parser.add_argument("--work", required=True)
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 2
    args.compiler_args = compiler_args
    args.tidy = shlex.split(args.tidy)
    args.work = os.path.abspath(args.work)
    try:
        if args.mode == "options":
            check_options(args)
        else:
            check_examples(args)
    except Failure as failure:
        print("FAIL: %s" % failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
