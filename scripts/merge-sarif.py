#!/usr/bin/env python3
"""Merge SARIF logs of grpc-leak-tidy runs into one log with one run.

    merge-sarif.py -o grpc-leak.sarif logs/*.sarif
    merge-sarif.py -o grpc-leak.sarif shard-1/ shard-2/    # every *.sarif under them

Each grpc-leak-tidy run (one per translation unit, or per shard) writes a log
with one run. Code scanning wants one run per tool and category in an upload,
so this writes one run: the first log's tool driver, the union of the rules
(sorted by id, each result's ruleIndex renumbered), the results of every log
in order, less duplicates (the same finding in a header that several
translation units include), and one invocation that succeeded only if every
run did. --relative-to DIR writes the URIs of files under DIR relative to it
(uriBaseId %SRCROOT%), which makes the log independent of where the checkout
was.

An input that is not a SARIF log (for example an empty file left by a run
that crashed) is reported, recorded in the log as a failed run, and makes the
exit code 1; the log is still written. Python 3 standard library only;
scripts/grpc-leak-ci.py imports it.
"""

import argparse
import json
import os
import sys
import urllib.parse

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def result_key(result):
    """What makes two results the same finding: rule, message, and every
    location (primary and related) with its message."""
    def where(location):
        physical = location.get("physicalLocation", {})
        region = physical.get("region", {})
        return (physical.get("artifactLocation", {}).get("uri"),
                region.get("startLine"), region.get("startColumn"),
                region.get("byteOffset"),
                location.get("message", {}).get("text"))
    return (result.get("ruleId"), result.get("level"),
            result.get("message", {}).get("text"),
            tuple(where(l) for l in result.get("locations", [])),
            tuple(where(l) for l in result.get("relatedLocations", [])))


def expand_inputs(paths):
    """Files as given; directories as their *.sarif files, recursively, in
    sorted order."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            found = []
            for root, _, names in os.walk(path):
                found += [os.path.join(root, n) for n in names if n.endswith(".sarif")]
            files += sorted(found)
        else:
            files.append(path)
    return files


def read_log(path):
    """The parsed log, or raises ValueError saying why it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise ValueError("cannot read it: %s" % err.strerror)
    if not text.strip():
        raise ValueError("it is empty (did the run that should have written it crash?)")
    try:
        log = json.loads(text)
    except ValueError as err:
        raise ValueError("it is not JSON: %s" % err)
    if not isinstance(log, dict) or not isinstance(log.get("runs"), list):
        raise ValueError("it is not a SARIF log (no 'runs')")
    return log


class Merger:
    """Collects runs and builds the merged log."""

    def __init__(self):
        self.driver = None
        self.extra_run_fields = {}
        self.rules = {}
        self.results = []
        self.seen = set()
        self.duplicates = 0
        self.runs = 0
        self.failures = []  # (text, uri or None)
        self.exit_code = 0
        self.bad_inputs = 0  # inputs that were not SARIF logs

    def add_log(self, log, source=""):
        for run in log.get("runs", []):
            self.add_run(run, source)

    def add_run(self, run, source=""):
        self.runs += 1
        driver = run.get("tool", {}).get("driver", {})
        if self.driver is None:
            self.driver = {k: v for k, v in driver.items() if k != "rules"}
            for key in ("columnKind", "originalUriBaseIds"):
                if key in run:
                    self.extra_run_fields[key] = run[key]
        rules = driver.get("rules", [])
        for rule in rules:
            self.rules.setdefault(rule["id"], rule)
        for invocation in run.get("invocations", []):
            if not invocation.get("executionSuccessful", True):
                code = invocation.get("exitCode")
                if self.exit_code == 0 and code:
                    self.exit_code = code
                self.failures.append((
                    "grpc-leak-tidy exited with %s%s" % (code, " (%s)" % source if source else ""),
                    None))
            for note in invocation.get("toolExecutionNotifications", []):
                self.failures.append((note.get("message", {}).get("text", ""), None))
        for result in run.get("results", []):
            if "ruleId" not in result and "ruleIndex" in result and result["ruleIndex"] < len(rules):
                result["ruleId"] = rules[result["ruleIndex"]]["id"]
            key = result_key(result)
            if key in self.seen:
                self.duplicates += 1
                continue
            self.seen.add(key)
            self.results.append(result)

    def add_failure(self, text, uri=None):
        """A run that did not produce a log (or did not finish)."""
        self.failures.append((text, uri))
        if self.exit_code == 0:
            self.exit_code = 1

    def log(self):
        rules = [self.rules[k] for k in sorted(self.rules)]
        index = {rule["id"]: i for i, rule in enumerate(rules)}
        results = []
        for result in self.results:
            result = dict(result)
            if result.get("ruleId") in index:
                result["ruleIndex"] = index[result["ruleId"]]
            else:
                result.pop("ruleIndex", None)
            results.append(result)
        driver = dict(self.driver or {"name": "grpc-leak-tidy"})
        driver["rules"] = rules
        invocation = {"executionSuccessful": not self.failures,
                      "exitCode": self.exit_code if self.failures else 0}
        if self.failures:
            notes = []
            for text, uri in self.failures:
                note = {"level": "error", "message": {"text": text}}
                if uri:
                    note["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]
                notes.append(note)
            invocation["toolExecutionNotifications"] = notes
        run = {"tool": {"driver": driver}, "invocations": [invocation], "results": results}
        run.update(self.extra_run_fields)
        return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _file_uri(path):
    return "file://" + urllib.parse.quote(path)


def relativize(log, root, base_id="%SRCROOT%"):
    """Makes the log's file:// URIs under `root` relative to it, with the
    uriBaseId `base_id` that the run's originalUriBaseIds maps to root (the
    form code scanning and the SARIF validator prefer; code scanning reads
    such paths as paths in the repository). Other URIs stay as they are."""
    root = os.path.realpath(root)
    prefix = root.rstrip("/") + "/"

    def visit(node):
        if isinstance(node, dict):
            uri = node.get("uri")
            if isinstance(uri, str) and uri.startswith("file://") and "uriBaseId" not in node:
                path = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
                real = os.path.realpath(path)
                for candidate in (path, real):
                    if candidate.startswith(prefix):
                        node["uri"] = urllib.parse.quote(candidate[len(prefix):])
                        node["uriBaseId"] = base_id
                        break
            for key, value in node.items():
                if key != "originalUriBaseIds":
                    visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for run in log.get("runs", []):
        visit(run)
        run.setdefault("originalUriBaseIds", {})[base_id] = {"uri": _file_uri(prefix)}
    return log


def write_log(log, path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(log, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def merge_files(paths, warn=None):
    """A Merger over the logs in `paths` (files or directories)."""
    merger = Merger()
    for path in expand_inputs(paths):
        try:
            merger.add_log(read_log(path), source=path)
        except ValueError as err:
            message = "%s: not merged: %s" % (path, err)
            if warn:
                warn(message)
            merger.add_failure(message)
            merger.bad_inputs += 1
    return merger


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Merge SARIF logs (files, or directories of *.sarif) into one log with one run.")
    parser.add_argument("-o", "--output", required=True, help="the merged log")
    parser.add_argument("--relative-to", metavar="DIR",
                        help="write the URIs of files under DIR (say, the repository's checkout) relative to it")
    parser.add_argument("inputs", nargs="+", help="SARIF logs, or directories holding them")
    args = parser.parse_args(argv)
    warn = lambda message: print("merge-sarif: error: " + message, file=sys.stderr)
    # A directory without logs (an empty shard) merges into a log with no
    # results; a file that is missing or not a log is an error.
    merger = merge_files(args.inputs, warn)
    merged = merger.log()
    if args.relative_to:
        relativize(merged, args.relative_to)
    write_log(merged, args.output)
    print("merge-sarif: %d run%s, %d result%s (%d duplicate%s dropped) -> %s"
          % (merger.runs, "" if merger.runs == 1 else "s", len(merger.results),
             "" if len(merger.results) == 1 else "s", merger.duplicates,
             "" if merger.duplicates == 1 else "s", args.output), file=sys.stderr)
    return 1 if merger.bad_inputs else 0


if __name__ == "__main__":
    sys.exit(main())
