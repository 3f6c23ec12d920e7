#!/usr/bin/env python3
"""Run grpc-leak-tidy over a compile database in parallel, for CI.

    grpc-leak-ci.py -p build --sarif grpc-leak.sarif           # every file, one SARIF log
    grpc-leak-ci.py -p build --shard 2/4 --sarif shard-2.sarif  # this runner's quarter
    grpc-leak-ci.py -p build --diff-base origin/main            # findings the branch touches
    git diff -U0 main | grpc-leak-ci.py -p build --diff -       # the same, from a patch
    grpc-leak-ci.py -p build src/a.cc src/b.cc                  # these files (pre-commit)

Each translation unit is analysed by its own grpc-leak-tidy process (-j at a
time), each writing its own SARIF log (--export-sarif); the logs are merged
into one run (scripts/merge-sarif.py), with a finding in a header that
several translation units include reported once. The findings are printed in
clang-tidy's format (warning, then its notes), from that merged log.

Diff mode (--diff, --diff-base, --diff-staged) analyses the files the diff
changes and keeps a finding if the diff touches any of its locations: the
warning's line or one of its notes' lines, where a line is touched when it
was added or changed, or when lines were deleted right next to it. The notes
matter for these checks: the usual way to introduce a leak is to delete a
release or a deadline, and the warning then stays on an unchanged line (the
call that creates the handle, or starts the stream), while a note points at
the changed place (the declaration, the return that now leaks).

Summaries (docs/summaries.md): grpc-leak-tidy records facts about the
functions each translation unit defines, one file per TU in a summaries
directory, and looks a call up there when its callee has no body in the TU
being analysed. This script reads the previous run's summaries and starts
the files callees first (a file after the files defining what it calls),
so that a caller sees its callees' facts of this run. --two-pass then
re-runs the files that still saw facts that changed during the run (a
cold run, a cycle). --summaries-dir DIR and --no-summaries choose the
directory for grpc-leak-tidy too (GRPC_LEAK_SUMMARIES_DIR); --print-order
prints the order and stops.

Reports: --sarif FILE (the merged log), --codequality FILE (GitLab Code
Quality), --html DIR (a self-contained page with the code of every finding;
see scripts/grpc-leak-report.py). On a terminal, a progress line shows the
files done, the findings so far, the time elapsed and an estimate of the time
left; in a log (not a terminal), --verbose prints one line per finished file.
A table of the findings per check ends every run.

Exit code: 0 nothing found; 1 findings (0 with --exit-zero); 2 a file could
not be analysed (compiler errors, a crash, a timeout), or a usage error.
The reports are written in every case. Python 3 standard library only.
"""

import argparse
import concurrent.futures
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_EXTENSIONS = {".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".m", ".mm", ".cu"}
HEADER_EXTENSIONS = {".h", ".hh", ".hpp", ".hxx", ".h++", ".H", ".inc", ".ipp", ".tcc", ".inl"}


def _load(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shard_compdb = _load("shard_compdb", "shard-compdb.py")
merge_sarif = _load("merge_sarif", "merge-sarif.py")
reports = _load("grpc_leak_report", "grpc-leak-report.py")


def log(args, message):
    if not args.quiet:
        print("grpc-leak-ci: " + message, file=sys.stderr, flush=True)


def duration(seconds):
    seconds = int(round(seconds))
    if seconds >= 3600:
        return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
    return "%d:%02d" % (seconds // 60, seconds % 60)


class Progress:
    """One status line on a terminal, rewritten in place: files done of the
    total, findings so far, time elapsed and an estimate of the time left."""

    def __init__(self, stream, total, enabled):
        self.stream, self.total, self.enabled = stream, total, enabled
        self.start = time.monotonic()
        self.width = 0

    def show(self, done, findings):
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        left = duration(elapsed / done * (self.total - done)) if done else "?"
        line = "grpc-leak-ci: %d/%d files, %d finding%s, %s elapsed, ~%s left" % (
            done, self.total, findings, "" if findings == 1 else "s", duration(elapsed), left)
        self.stream.write("\r" + line + " " * max(0, self.width - len(line)))
        self.stream.flush()
        self.width = len(line)

    def clear(self):
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


# --- diffs -------------------------------------------------------------------

def _diff_path(raw, strip):
    """The file name of a '+++ ' line, less `strip` leading components."""
    name = raw.split("\t")[0].rstrip("\r\n")
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        name = name.encode("latin-1").decode("utf-8", "replace")
    if name == "/dev/null":
        return None
    parts = name.split("/")
    if strip:
        parts = parts[strip:]
    return "/".join(parts) if parts else None


def parse_diff(text, strip=1):
    """{path: set of touched line numbers in the new file} for a unified diff.

    A line is touched when it was added or changed, or when lines were deleted
    right before or after it (a deletion not replaced by new lines touches
    the line before it and the line after it)."""
    touched = {}
    current = None
    old_left = new_left = 0
    new_line = 0
    pending_deletion = False

    def flush_deletion():
        nonlocal pending_deletion
        if pending_deletion and current is not None:
            for line in (new_line - 1, new_line):
                if line >= 1:
                    current.add(line)
        pending_deletion = False

    hunk_re = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
    for line in text.splitlines():
        if old_left > 0 or new_left > 0:
            tag = line[:1]
            if tag == "\\":
                continue
            if tag == "-":
                pending_deletion = True
                old_left -= 1
            elif tag == "+":
                pending_deletion = False
                if current is not None:
                    current.add(new_line)
                new_line += 1
                new_left -= 1
            else:  # context (' ', or an empty line some tools write for it)
                flush_deletion()
                new_line += 1
                old_left -= 1
                new_left -= 1
            if old_left <= 0 and new_left <= 0:
                flush_deletion()
            continue
        if line.startswith("+++ "):
            name = _diff_path(line[4:], strip)
            current = touched.setdefault(name, set()) if name else None
            continue
        match = hunk_re.match(line)
        if match:
            old_left = int(match.group(2)) if match.group(2) is not None else 1
            new_count = int(match.group(4)) if match.group(4) is not None else 1
            new_left = new_count
            start = int(match.group(3))
            # An empty range starts at the line before it.
            new_line = start if new_count > 0 else start + 1
            pending_deletion = False
            if old_left <= 0 and new_left <= 0:
                flush_deletion()
    return touched


def git(args_list, cwd=None):
    return subprocess.run(["git"] + args_list, cwd=cwd, check=True, text=True,
                          stdout=subprocess.PIPE).stdout


def read_diff(args):
    """(touched lines by absolute path, root) for the diff options, or None."""
    if args.diff is None and args.diff_base is None and not args.diff_staged:
        return None
    if args.diff is not None:
        if args.diff == "-":
            text = sys.stdin.read()
        else:
            with open(args.diff, encoding="utf-8", errors="replace") as f:
                text = f.read()
        root = args.diff_root or os.getcwd()
        strip = args.strip
    else:
        root = git(["rev-parse", "--show-toplevel"]).strip()
        command = ["diff", "-U0", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/"]
        if args.diff_staged:
            command.append("--cached")
        if args.diff_base is not None:
            # What the branch changed since it left the base (the working
            # tree, or the index with --diff-staged, against the merge base).
            base = git(["merge-base", args.diff_base, "HEAD"], cwd=root).strip()
            command.append(base)
        text = git(command, cwd=root)
        strip = 1
    touched = {}
    for name, lines in parse_diff(text, strip).items():
        path = os.path.realpath(os.path.join(root, name))
        touched.setdefault(path, set()).update(lines)
    return touched


# --- running -----------------------------------------------------------------

def find_tidy(args):
    for candidate in (args.tidy, os.environ.get("GRPC_LEAK_TIDY"), "grpc-leak-tidy"):
        if not candidate:
            continue
        found = shutil.which(candidate)
        if found:
            return found
        if args.tidy or os.environ.get("GRPC_LEAK_TIDY"):
            break
    return None


def analyse(args, tidy, env, path, log_path):
    """Runs grpc-leak-tidy on one file, in environment `env` (None: ours).
    Returns (path, exit code, output, seconds); exit code None means it
    timed out."""
    command = [tidy, "-p", args.build, "--quiet", "--export-sarif=" + log_path]
    if args.checks:
        command.append("--checks=" + args.checks)
    command += args.tidy_arg
    command.append(path)
    start = time.monotonic()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=args.timeout, env=env)
        code, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as err:
        code, output = None, err.stdout or b""
    return path, code, output.decode("utf-8", "replace"), time.monotonic() - start


def uri_path(uri):
    parsed = urllib.parse.urlparse(uri or "")
    if parsed.scheme != "file":
        return None
    return os.path.realpath(urllib.parse.unquote(parsed.path))


def locations_of(result):
    for location in result.get("locations", []) + result.get("relatedLocations", []):
        physical = location.get("physicalLocation", {})
        path = uri_path(physical.get("artifactLocation", {}).get("uri"))
        line = physical.get("region", {}).get("startLine")
        if path and line:
            yield path, line


def touches(result, touched):
    return any(line in touched.get(path, ()) for path, line in locations_of(result))


def is_compiler_error(result):
    return result.get("level") == "error" and str(result.get("ruleId", "")).startswith("clang-diagnostic-")


def display_path(path):
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def format_location(location):
    physical = location.get("physicalLocation", {})
    path = uri_path(physical.get("artifactLocation", {}).get("uri"))
    path = display_path(path) if path else physical.get("artifactLocation", {}).get("uri", "?")
    region = physical.get("region", {})
    if "startLine" in region:
        return "%s:%d:%d" % (path, region["startLine"], region.get("startColumn", 1))
    return path


def print_result(result):
    print("%s: %s: %s [%s]" % (format_location(result["locations"][0]) if result.get("locations") else "?",
                               result.get("level", "warning"),
                               result.get("message", {}).get("text", ""),
                               result.get("ruleId", "")))
    for related in result.get("relatedLocations", []):
        print("%s: note: %s" % (format_location(related), related.get("message", {}).get("text", "")))


def github_escape(text, property_value=False):
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def print_annotation(result):
    """A GitHub Actions workflow command that annotates the line in the
    pull request's diff."""
    if not result.get("locations"):
        return
    physical = result["locations"][0].get("physicalLocation", {})
    path = uri_path(physical.get("artifactLocation", {}).get("uri"))
    if not path:
        return
    region = physical.get("region", {})
    level = "error" if result.get("level") == "error" else "warning"
    message = result.get("message", {}).get("text", "")
    for related in result.get("relatedLocations", []):
        message += "\n%s: note: %s" % (format_location(related), related.get("message", {}).get("text", ""))
    print("::%s file=%s,line=%s,col=%s,title=%s::%s" % (
        level, github_escape(display_path(path), True), region.get("startLine", 1),
        region.get("startColumn", 1), github_escape(result.get("ruleId", "grpc-leak-tidy"), True),
        github_escape(message)))


# --- summaries and the order of the files -----------------------------------

# The facts of a function that its callers' analyses use: everything a
# summary says of it except where it is (`line`) and what it calls itself
# (`calls`, only this script reads it).
NOT_FACTS = {"usr", "line", "calls"}


def summaries_dir(args):
    """The summaries directory grpc-leak-tidy writes, or None when off:
    --summaries-dir, else $GRPC_LEAK_SUMMARIES_DIR, else the default of a
    run with -p BUILD (BUILD/.grpc-leak/summaries)."""
    if args.no_summaries:
        return None
    chosen = args.summaries_dir or os.environ.get("GRPC_LEAK_SUMMARIES_DIR")
    if chosen == "off":
        return None
    return os.path.abspath(chosen or os.path.join(args.build, ".grpc-leak", "summaries"))


def tidy_env(args):
    """The environment of the grpc-leak-tidy runs: the summaries directory
    is passed on when it was chosen here (else grpc-leak-tidy finds its own,
    which may come from a .clang-tidy SummariesDir)."""
    if args.no_summaries:
        return dict(os.environ, GRPC_LEAK_SUMMARIES_DIR="off")
    if args.summaries_dir:
        value = args.summaries_dir if args.summaries_dir == "off" else os.path.abspath(args.summaries_dir)
        return dict(os.environ, GRPC_LEAK_SUMMARIES_DIR=value)
    return None


def read_summaries(directory):
    """{main file (real path): summary} of the directory's summary files.
    A file that is not a summary of this format is skipped: grpc-leak-tidy
    reports it, and the order only loses a hint."""
    summaries = {}
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except OSError:
        return summaries
    newest = {}
    for name in names:
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                summary = json.load(f)
            modified = os.stat(path).st_mtime
        except (OSError, ValueError):
            continue
        if (not isinstance(summary, dict) or summary.get("version") != 1
                or not isinstance(summary.get("file"), str)
                or not isinstance(summary.get("functions"), list)):
            continue
        summary["functions"] = [f for f in summary["functions"]
                                if isinstance(f, dict) and isinstance(f.get("usr"), str)]
        main_file = os.path.realpath(summary["file"])
        # Two files for one source (its path was spelled differently): the
        # newer one.
        if main_file not in newest or modified > newest[main_file]:
            newest[main_file] = modified
            summaries[main_file] = summary
    return summaries


def definitions(summaries):
    """{USR: (main file, facts)}. A USR defined in two files is left out,
    as grpc-leak-tidy leaves it out (which one a caller gets is unknown)."""
    defined, twice = {}, set()
    for main_file, summary in summaries.items():
        for function in summary["functions"]:
            usr = function["usr"]
            facts = {k: v for k, v in function.items() if k not in NOT_FACTS}
            if usr in defined and defined[usr][0] != main_file:
                twice.add(usr)
            defined[usr] = (main_file, facts)
    for usr in twice:
        del defined[usr]
    return defined


def calls_of(summary):
    return {usr for function in summary["functions"] for usr in function.get("calls", [])
            if isinstance(usr, str)}


def dependencies(files, summaries):
    """{index: set of indices} of `files`: file A depends on file B when a
    function of A calls a function that B defines (by the summaries)."""
    index_of = {os.path.realpath(path): i for i, path in enumerate(files)}
    defined = definitions(summaries)
    deps = {}
    for i, path in enumerate(files):
        summary = summaries.get(os.path.realpath(path))
        callees = calls_of(summary) if summary else set()
        deps[i] = {index_of[defined[usr][0]] for usr in callees
                   if usr in defined and defined[usr][0] in index_of} - {i}
    return deps


def callee_first(files, summaries, deps):
    """The indices of `files` in the order to start them: a file after the
    files it depends on. Files with no summary yet (new files; every file
    on the first run) come first, in database order: what they define is
    not known to anyone yet, and what they call is on disk from the last
    run already. Otherwise database order among the files whose
    dependencies are placed; a cycle is broken at its file of the lowest
    index."""
    has_summary = {i for i, path in enumerate(files) if os.path.realpath(path) in summaries}
    waiting = {i: set(d) for i, d in deps.items()}
    dependents = {i: set() for i in deps}
    for i, d in deps.items():
        for j in d:
            dependents[j].add(i)
    order, placed = [], set()

    def key(i):
        return (i in has_summary, i)

    ready = sorted((i for i in waiting if not waiting[i]), key=key)
    while len(order) < len(files):
        if not ready:
            ready = [cycle_start(waiting, placed, key)]
        i = ready.pop(0)
        if i in placed:
            continue
        order.append(i)
        placed.add(i)
        for j in dependents[i]:
            waiting[j].discard(i)
            if not waiting[j] and j not in placed:
                ready.append(j)
        ready.sort(key=key)
    return order


def cycle_start(waiting, placed, key):
    """Where to break a cycle when every file left waits for another: walk
    from the first file left along what it waits for until a file comes
    again; the files from there on are a cycle, and its first one goes."""
    walk = [min((i for i in waiting if i not in placed), key=key)]
    while True:
        step = min(waiting[walk[-1]], key=key)
        if step in walk:
            return min(walk[walk.index(step):], key=key)
        walk.append(step)


def changed_facts(before, after):
    """The USRs whose facts the callers of a run may have missed: facts
    that differ (or appeared, or went) between what the summaries said
    before the run and after it. A summary made from other contents of its
    file than the new one was stale during the run (grpc-leak-tidy checks
    the hash), so its facts count as absent."""
    valid_before = {f: s for f, s in before.items()
                    if f not in after or s.get("hash") == after[f].get("hash")}
    old, new = definitions(valid_before), definitions(after)
    return {usr for usr in set(old) | set(new)
            if old.get(usr, (None, None))[1] != new.get(usr, (None, None))[1]}


def to_run_again(files, first, before, after):
    """The indices of the files (of the first pass `first`) to analyse
    again: those that call a function whose facts changed during the first
    pass, unless the file defining it had finished before they started
    (they saw the new facts)."""
    changed = changed_facts(before, after)
    if not changed:
        return []
    defined, defined_before = definitions(after), definitions(before)
    index_of = {os.path.realpath(path): i for i, path in enumerate(files)}
    again = []
    for i, path in enumerate(files):
        if i not in first.results or first.results[i][1] != 0:
            continue  # not analysed, or failed: a second run does not help
        summary = after.get(os.path.realpath(path)) or before.get(os.path.realpath(path))
        if not summary:
            continue
        for usr in calls_of(summary) & changed:
            where = defined.get(usr) or defined_before.get(usr)
            definer = index_of.get(where[0]) if where else None
            if definer is not None and definer not in first.finished_before[i]:
                again.append(i)
                break
    return again


class Pass:
    """One pass over some of the files: by index, what each run gave
    (path, exit code, output, SARIF log) and the files that had finished
    when it started."""

    def __init__(self):
        self.results = {}
        self.finished_before = {}


def run_pass(args, tidy, env, files, order, deps, log_dir, touched):
    """Analyses files[i] for each i of `order`, -j at a time, in that order
    but for one rule: a file starts once the files it depends on (`deps`)
    that come before it in the order have finished (the others are where
    the order broke a cycle). When no file left is ready, a free worker
    takes the first one left all the same rather than wait (it may miss the
    facts of a file still running: --two-pass catches that)."""
    done_pass = Pass()
    # A terminal gets the progress line; a log gets a line per file only
    # with --verbose (which also replaces the progress line on a terminal).
    progress = Progress(sys.stderr, len(order), sys.stderr.isatty() and not args.quiet and not args.verbose)
    seen_so_far = set()
    position = {index: place for place, index in enumerate(order)}
    waits_for = {i: {j for j in deps.get(i, ()) if position.get(j, len(order)) < position[i]}
                 for i in order}
    left = list(order)
    finished = set()
    running = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        progress.show(0, 0)
        while left or running:
            while left and len(running) < max(1, args.jobs):
                index = next((i for i in left if waits_for[i] <= finished), left[0])
                left.remove(index)
                done_pass.finished_before[index] = frozenset(finished)
                log_path = os.path.join(log_dir, "%05d-%s.sarif" % (index, os.path.basename(files[index])))
                running[pool.submit(analyse, args, tidy, env, files[index], log_path)] = (index, log_path)
            done, _ = concurrent.futures.wait(
                running, timeout=1.0, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                index, log_path = running.pop(future)
                finished.add(index)
                path, code, output, seconds = future.result()
                done_pass.results[index] = (path, code, output, log_path)
                try:
                    for result in merge_sarif.read_log(log_path).get("runs", [{}])[0].get("results", []):
                        if not is_compiler_error(result) and (touched is None or touches(result, touched)):
                            seen_so_far.add(merge_sarif.result_key(result))
                except (ValueError, IndexError, AttributeError):
                    pass
                if args.verbose and not args.quiet:
                    state = "ok" if code == 0 else ("timed out" if code is None else "exit %d" % code)
                    log(args, "[%d/%d] %s (%.1fs, %s)" % (
                        len(done_pass.results), len(order), display_path(path), seconds, state))
            progress.show(len(done_pass.results), len(seen_so_far))
    progress.clear()
    return done_pass


# --- main --------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Run grpc-leak-tidy over a compile database in parallel; one merged SARIF log.",
        epilog="Exit code: 0 nothing found, 1 findings (0 with --exit-zero), "
               "2 a file could not be analysed or a usage error.")
    parser.add_argument("files", nargs="*",
                        help="analyse these files (default: every file of the compile database)")
    parser.add_argument("-p", dest="build", default="build",
                        help="build directory with compile_commands.json (default: build)")
    parser.add_argument("--tidy", help="grpc-leak-tidy to run (default: $GRPC_LEAK_TIDY, else grpc-leak-tidy on PATH)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="files analysed at once (default: the number of CPUs)")
    parser.add_argument("--checks", default="-*,grpc-leak-*",
                        help="clang-tidy's -checks (default: '-*,grpc-leak-*'; empty: from .clang-tidy)")
    parser.add_argument("--tidy-arg", action="append", default=[], metavar="ARG",
                        help="pass ARG to grpc-leak-tidy (repeatable), e.g. --tidy-arg=--config-file=ci.clang-tidy")
    parser.add_argument("--include", metavar="REGEX", help="only database files whose path matches")
    parser.add_argument("--exclude", metavar="REGEX", help="leave out database files whose path matches")
    parser.add_argument("--shard", metavar="K/N", help="analyse only shard K of N (see shard-compdb.py)")
    parser.add_argument("--balance", choices=["size", "count"], default="size", help="how shards are balanced")
    parser.add_argument("--only-in-db", action="store_true",
                        help="skip given or changed files that the compile database does not list")
    parser.add_argument("--sarif", metavar="FILE", help="write the merged SARIF log here")
    parser.add_argument("--relative-to", metavar="DIR",
                        help="in the SARIF log, the URIs of files under DIR relative to it (say, the checkout)")
    parser.add_argument("--keep-logs", metavar="DIR", help="keep each file's own SARIF log in DIR")
    parser.add_argument("--timeout", type=float, help="seconds one file may take")
    parser.add_argument("--diff", metavar="PATCH", help="diff mode: a unified diff, '-' for stdin")
    parser.add_argument("--diff-base", metavar="REV",
                        help="diff mode: what changed since the merge base of REV and HEAD (git)")
    parser.add_argument("--diff-staged", action="store_true",
                        help="diff mode: the staged changes (git diff --cached), with --diff-base against it")
    parser.add_argument("--diff-root", help="directory the --diff paths are relative to (default: .)")
    parser.add_argument("--strip", type=int, default=1, help="leading path components to strip from --diff paths (default: 1, as -p1)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 when there are findings")
    parser.add_argument("--github-annotations", action="store_true",
                        help="also print each finding as a GitHub Actions annotation")
    parser.add_argument("--codequality", metavar="FILE",
                        help="also write the findings as a GitLab Code Quality report (paths relative "
                             "to --relative-to, else the current directory)")
    parser.add_argument("--html", metavar="DIR", help="also write a self-contained HTML report, DIR/index.html")
    parser.add_argument("--summaries-dir", metavar="DIR",
                        help="the summaries directory, for grpc-leak-tidy too (default: "
                             "$GRPC_LEAK_SUMMARIES_DIR, else BUILD/.grpc-leak/summaries; 'off': none)")
    parser.add_argument("--no-summaries", action="store_true",
                        help="record and use no summaries (GRPC_LEAK_SUMMARIES_DIR=off); database order")
    parser.add_argument("--two-pass", action="store_true",
                        help="analyse again the files that may have missed facts that changed during the run")
    parser.add_argument("--print-order", action="store_true",
                        help="print the files in the order they would start (callees first), and stop")
    parser.add_argument("--verbose", action="store_true",
                        help="one line per finished file (on a terminal, instead of the progress line)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress line and no line per file (the final table stays)")
    return parser.parse_args(argv)


def enabled_checks(args, tidy):
    """The grpc-leak-* checks this run enables (grpc-leak-tidy --list-checks
    with the run's -checks and arguments); empty if that fails."""
    command = [tidy, "--list-checks"]
    if args.checks:
        command.append("--checks=" + args.checks)
    command += [a for a in args.tidy_arg if a.startswith(("--config", "-config", "--checks", "-checks"))]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    return sorted({line.strip() for line in done.stdout.splitlines()
                   if line.strip().startswith("grpc-leak-")})


def print_table(findings, checks, stream):
    """The findings per check (every enabled grpc-leak-* check, and any other
    check that found something), with the number of files they are in."""
    by_rule = {check: [] for check in checks}
    for result in findings:
        by_rule.setdefault(result.get("ruleId", "?"), []).append(result)

    def files(results):
        return len({physical_path(r) for r in results})

    rows = [(rule, len(results), files(results)) for rule, results in sorted(by_rule.items())]
    rows.append(("total", len(findings), files(findings)))
    width = max(len("check"), *(len(row[0]) for row in rows))
    print("grpc-leak-ci: findings per check:", file=stream)
    print("  %-*s  %8s  %5s" % (width, "check", "findings", "files"), file=stream)
    for rule, count, in_files in rows:
        print("  %-*s  %8d  %5d" % (width, rule, count, in_files), file=stream)


def physical_path(result):
    locations = result.get("locations") or [{}]
    return uri_path(locations[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri"))


def choose_files(args, entries, touched):
    in_db = {}
    if entries is not None:
        for name in shard_compdb.select_files(entries, args.include, args.exclude):
            in_db[os.path.realpath(name)] = name
    if args.files:
        chosen = [os.path.abspath(f) for f in args.files]
    elif touched is not None:
        chosen = sorted(p for p in touched
                        if os.path.splitext(p)[1] in SOURCE_EXTENSIONS | HEADER_EXTENSIONS
                        and os.path.isfile(p))
    else:
        chosen = list(in_db.values())
    if args.files or touched is not None:
        if args.only_in_db:
            chosen = [f for f in chosen if os.path.realpath(f) in in_db]
        if touched is not None and args.files:
            chosen = [f for f in chosen if os.path.realpath(f) in touched]
        include_re = re.compile(args.include) if args.include else None
        exclude_re = re.compile(args.exclude) if args.exclude else None
        chosen = [f for f in chosen if (not include_re or include_re.search(f))
                  and not (exclude_re and exclude_re.search(f))]
    if args.shard:
        k, n = shard_compdb.parse_shard(args.shard)
        chosen = shard_compdb.split(chosen, n, args.balance)[k - 1]
    return chosen


def main(argv=None):
    args = parse_args(argv)
    tidy = find_tidy(args)
    if not tidy:
        print("grpc-leak-ci: error: grpc-leak-tidy not found: pass --tidy, set GRPC_LEAK_TIDY, or put it on PATH",
              file=sys.stderr)
        return 2
    database = os.path.join(args.build, "compile_commands.json")
    entries = None
    try:
        if os.path.isfile(database):
            entries = shard_compdb.load_compdb(args.build)
        elif not args.files and not (args.diff or args.diff_base or args.diff_staged):
            raise ValueError("%s not found: configure the project with CMAKE_EXPORT_COMPILE_COMMANDS=ON" % database)
        if args.shard:
            shard_compdb.parse_shard(args.shard)
        touched = read_diff(args)
        files = choose_files(args, entries, touched)
    except (OSError, ValueError, re.error, subprocess.CalledProcessError) as err:
        print("grpc-leak-ci: error: %s" % err, file=sys.stderr)
        return 2

    directory = summaries_dir(args)
    before = read_summaries(directory) if directory else {}
    deps = dependencies(files, before)
    order = callee_first(files, before, deps)
    if args.print_order:
        for index in order:
            print(display_path(files[index]))
        return 0

    env = tidy_env(args)
    log_dir = args.keep_logs or tempfile.mkdtemp(prefix="grpc-leak-ci-")
    os.makedirs(log_dir, exist_ok=True)
    merger = merge_sarif.Merger()
    failed = []
    again = []
    start = time.monotonic()
    log(args, "analysing %d file%s with %d job%s (%s)" % (
        len(files), "" if len(files) == 1 else "s", args.jobs, "" if args.jobs == 1 else "s", tidy))
    if args.verbose and directory:
        known = sum(1 for path in files if os.path.realpath(path) in before)
        edges = sum(len(d) for d in deps.values())
        log(args, "callees first: %d of %d file%s summarised in %s, %d dependenc%s" % (
            known, len(files), "" if len(files) == 1 else "s", display_path(directory),
            edges, "y" if edges == 1 else "ies"))
    if args.two_pass and not directory:
        log(args, "summaries are off: --two-pass has nothing to compare; one pass")
    try:
        first = run_pass(args, tidy, env, files, order, deps, log_dir, touched)
        results = dict(first.results)
        if args.two_pass and directory:
            after = read_summaries(directory)
            again = to_run_again(files, first, before, after)
            log(args, "second pass: %d file%s that may have missed facts changed during the first" % (
                len(again), "" if len(again) == 1 else "s"))
            if again:
                second = run_pass(args, tidy, env, files, [i for i in order if i in again],
                                  dependencies(files, after), log_dir, touched)
                results.update(second.results)
        for index in sorted(results):
            path, code, output, log_path = results[index]
            uri = "file://" + urllib.parse.quote(os.path.abspath(path))
            if code is None:
                merger.add_failure("%s: timed out after %ss" % (path, args.timeout), uri)
            else:
                try:
                    merger.add_log(merge_sarif.read_log(log_path), source=path)
                except ValueError as err:
                    merger.add_failure("%s: grpc-leak-tidy exited with %s and wrote no SARIF log: %s"
                                       % (path, code, err), uri)
            if code != 0:
                failed.append((path, code, output))
    finally:
        if not args.keep_logs:
            shutil.rmtree(log_dir, ignore_errors=True)

    merged = merger.log()
    run = merged["runs"][0]
    if touched is not None:
        run["results"] = [r for r in run["results"] if is_compiler_error(r) or touches(r, touched)]
    findings = [r for r in run["results"] if not is_compiler_error(r)]
    for result in findings:
        print_result(result)
        if args.github_annotations:
            print_annotation(result)
    sys.stdout.flush()
    for path, code, output in failed:
        what = "timed out" if code is None else "exited with %d" % code
        print("grpc-leak-ci: error: grpc-leak-tidy %s on %s:" % (what, display_path(path)), file=sys.stderr)
        sys.stderr.write(output if output.endswith("\n") or not output else output + "\n")
        if args.github_annotations:
            print("::error file=%s::grpc-leak-tidy %s on this file (compiler errors?); see the log"
                  % (github_escape(display_path(path), True), what))
    if args.codequality or args.html:
        report_findings, problems = reports.read_findings(merged)
        base = os.path.abspath(args.relative_to or os.getcwd())
        if args.codequality:
            reports.write_code_quality(report_findings, args.codequality, base)
        if args.html:
            reports.write_html(report_findings, problems, args.html, base, files_analysed=len(files))
    if args.sarif:
        if args.relative_to:
            merge_sarif.relativize(merged, args.relative_to)
        merge_sarif.write_log(merged, args.sarif)

    by_rule = {}
    for result in findings:
        by_rule[result.get("ruleId")] = by_rule.get(result.get("ruleId"), 0) + 1
    summary = "%d file%s, %d finding%s" % (len(files), "" if len(files) == 1 else "s",
                                          len(findings), "" if len(findings) == 1 else "s")
    if by_rule:
        summary += " (%s)" % ", ".join("%s: %d" % item for item in sorted(by_rule.items()))
    if touched is not None:
        summary += " on changed lines"
    if failed:
        summary += ", %d file%s not analysed" % (len(failed), "" if len(failed) == 1 else "s")
    if args.two_pass and directory:
        summary += ", second pass re-ran %d file%s" % (len(again), "" if len(again) == 1 else "s")
    written = [("SARIF", args.sarif), ("Code Quality", args.codequality),
               ("HTML", os.path.join(args.html, "index.html") if args.html else None)]
    if any(path for _, path in written):
        summary += "; " + ", ".join("%s: %s" % (what, path) for what, path in written if path)
    sys.stdout.flush()
    print_table(findings, enabled_checks(args, tidy), sys.stderr)
    print("grpc-leak-ci: %s [%.1fs]" % (summary, time.monotonic() - start), file=sys.stderr)
    if failed:
        return 2
    if findings and not args.exit_zero:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
