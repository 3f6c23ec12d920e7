#!/usr/bin/env python3
"""Reports people read, from grpc-leak-tidy's SARIF logs.

    grpc-leak-report.py --html report/ grpc-leak.sarif
    grpc-leak-report.py --codequality gl-code-quality-report.json --relative-to . grpc-leak.sarif
    grpc-leak-report.py --html report/ shard-1.sarif shard-2.sarif   # merged first

scripts/grpc-leak-ci.py writes the same reports (--html, --codequality) at
the end of its run; this script makes them from logs written elsewhere (say,
by sharded CI jobs).

--codequality FILE: a GitLab Code Quality report: a JSON array with one
object per finding, with the fields GitLab documents: description (the
warning, then its notes with their lines), check_name, fingerprint, severity
("major" for a warning, "critical" for an error), location.path (relative to
--relative-to, default the current directory) and location.lines.begin. The
fingerprint is a hash of the check, the path, the message and the text of
the lines the warning and its notes are on, not of their line numbers: it
stays the same when code above the finding moves, and changes when the code
of the finding changes. Identical findings in one file are told apart by
their order.

--html DIR: DIR/index.html, one self-contained page (no network, no file of
its own besides; its Content-Security-Policy forbids loading anything): a
summary by check and by file, then each finding with the code it is about:
the warning and each note in place, numbered in order (the path: made here,
called here, leaks at this exit), and the fix-it a note carries. Check boxes
filter the findings by check.

Compiler errors (clang-diagnostic-*) are not findings: they are listed as
files not analysed. Python 3 standard library only.
"""

import argparse
import datetime
import hashlib
import html
import importlib.util
import json
import os
import re
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CONTEXT_LINES = 2


def _load(name, filename):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- reading SARIF -----------------------------------------------------------

class Location:
    def __init__(self, path, line, column, message):
        self.path, self.line, self.column, self.message = path, line, column, message


class Finding:
    def __init__(self, check, level, message, where, notes, fixes):
        self.check = check
        self.level = level
        self.message = message
        self.where = where      # Location of the warning (message is the warning's)
        self.notes = notes      # [Location], in order
        self.fixes = fixes      # [(description, [(path, line, column, text)])]


def _path_of(artifact, run, source_root):
    uri = artifact.get("uri", "")
    base_id = artifact.get("uriBaseId")
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "file":
        return os.path.normpath(urllib.parse.unquote(parsed.path))
    if parsed.scheme:
        return uri
    base = source_root
    if base_id:
        base_uri = run.get("originalUriBaseIds", {}).get(base_id, {}).get("uri", "")
        if urllib.parse.urlparse(base_uri).scheme == "file":
            base = urllib.parse.unquote(urllib.parse.urlparse(base_uri).path)
    return os.path.normpath(os.path.join(base, urllib.parse.unquote(uri)))


def _location(location, run, source_root, message=None):
    physical = location.get("physicalLocation", {})
    region = physical.get("region", {})
    return Location(_path_of(physical.get("artifactLocation", {}), run, source_root),
                    region.get("startLine", 0), region.get("startColumn", 0),
                    message if message is not None else location.get("message", {}).get("text", ""))


def is_compiler_error(result):
    return str(result.get("ruleId", "")).startswith("clang-diagnostic-")


def read_findings(log, source_root=None):
    """(findings, problems): the findings of every run, and the texts of
    compiler errors and failed runs (files that were not analysed)."""
    source_root = source_root or os.getcwd()
    findings, problems = [], []
    for run in log.get("runs", []):
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        for invocation in run.get("invocations", []):
            for note in invocation.get("toolExecutionNotifications", []):
                problems.append(note.get("message", {}).get("text", ""))
        for result in run.get("results", []):
            check = result.get("ruleId")
            if check is None and result.get("ruleIndex", -1) in range(len(rules)):
                check = rules[result["ruleIndex"]].get("id")
            message = result.get("message", {}).get("text", "")
            locations = result.get("locations") or [{}]
            where = _location(locations[0], run, source_root, message)
            if is_compiler_error(result):
                problems.append("%s:%d:%d: %s" % (where.path, where.line, where.column, message))
                continue
            notes = [_location(l, run, source_root) for l in result.get("relatedLocations", [])]
            fixes = []
            for fix in result.get("fixes", []):
                edits = []
                for change in fix.get("artifactChanges", []):
                    path = _path_of(change.get("artifactLocation", {}), run, source_root)
                    for replacement in change.get("replacements", []):
                        region = replacement.get("deletedRegion", {})
                        edits.append((path, region.get("startLine", 0), region.get("startColumn", 0),
                                      replacement.get("insertedContent", {}).get("text", "")))
                fixes.append((fix.get("description", {}).get("text", ""), edits))
            findings.append(Finding(check or "?", result.get("level", "warning"), message,
                                    where, notes, fixes))
    findings.sort(key=lambda f: (f.where.path, f.where.line, f.where.column, f.check))
    return findings, problems


class Sources:
    """Source files, read once each; None for one that cannot be read."""

    def __init__(self):
        self.cache = {}

    def lines(self, path):
        if path not in self.cache:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    self.cache[path] = f.read().splitlines()
            except OSError:
                self.cache[path] = None
        return self.cache[path]

    def line(self, path, number):
        lines = self.lines(path)
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def relative(path, base):
    try:
        rel = os.path.relpath(path, base)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


# --- GitLab Code Quality -----------------------------------------------------

SEVERITY = {"error": "critical", "warning": "major", "note": "minor", "none": "info"}


def code_quality(findings, base, sources=None):
    """The findings as a GitLab Code Quality report (a list of dicts)."""
    sources = sources or Sources()
    report, seen = [], {}
    for finding in findings:
        path = relative(finding.where.path, base)

        def text_at(location):
            line = sources.line(location.path, location.line)
            return " ".join(line.split()) if line is not None else ""

        key = "\0".join([finding.check, path, finding.message, text_at(finding.where)]
                        + ["%s\0%s\0%s" % (relative(n.path, base), n.message, text_at(n))
                           for n in finding.notes])
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        fingerprint = hashlib.sha256(("%s\0%d" % (key, occurrence)).encode("utf-8")).hexdigest()
        notes = []
        for note in finding.notes:
            where = "line %d" % note.line if note.path == finding.where.path else \
                "%s:%d" % (relative(note.path, base), note.line)
            notes.append("%s: %s" % (where, note.message))
        description = finding.message
        if notes:
            description += " (" + "; ".join(notes) + ")"
        report.append({
            "description": description,
            "check_name": finding.check,
            "fingerprint": fingerprint,
            "severity": SEVERITY.get(finding.level, "major"),
            "location": {"path": path, "lines": {"begin": max(finding.where.line, 1)}},
        })
    return report


def write_code_quality(findings, path, base):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(code_quality(findings, base), f, indent=2)
        f.write("\n")


# --- HTML --------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 72rem;
       padding: 0 1rem 3rem; color: #1d2125; background: #fff; }
h1 { font-size: 1.5rem; margin: 1.2rem 0 .3rem; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; font-family: ui-monospace, monospace; }
.meta { color: #57606a; margin: 0 0 .8rem; }
table.summary { border-collapse: collapse; margin: .3rem 0 .8rem; }
table.summary th, table.summary td { padding: .2rem .8rem .2rem 0; text-align: left; border-bottom: 1px solid #eaeef2; }
table.summary td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
#filters label { display: inline-block; margin: 0 1rem .3rem 0; white-space: nowrap; }
#filters button { margin-right: .4rem; }
.finding { border: 1px solid #d0d7de; border-radius: 6px; margin: .7rem 0 1rem; overflow: hidden; }
.finding > header { background: #f6f8fa; padding: .45rem .7rem; border-bottom: 1px solid #d0d7de; }
.finding .check { font-family: ui-monospace, monospace; font-size: 12px; background: #ddf4ff; color: #0a3069;
                  border-radius: 1rem; padding: .05rem .5rem; margin-left: .3rem; white-space: nowrap; }
.finding .where { color: #57606a; font-family: ui-monospace, monospace; font-size: 12px; }
.level-error .check { background: #ffebe9; color: #82071e; }
.excerpt { margin: 0; padding: .3rem 0; overflow-x: auto; }
.excerpt .file { color: #57606a; padding: .15rem .7rem; font-family: ui-monospace, monospace; font-size: 12px; }
.excerpt .row { display: flex; white-space: pre; }
.excerpt .ln { color: #8c959f; min-width: 3.2rem; text-align: right; padding-right: .8rem; user-select: none; }
.excerpt .row.marked { background: #fff8c5; }
.excerpt .gap { color: #8c959f; padding-left: 1.2rem; }
.ann { display: flex; white-space: pre-wrap; font-family: system-ui, sans-serif; font-size: 13px; margin: .1rem 0 .25rem; }
.ann .step { min-width: 3.2rem; text-align: right; padding-right: .8rem; font-weight: 600; }
.ann .text { border-left: 3px solid #bf8700; padding: .1rem .5rem; background: #fff8c5; border-radius: 0 4px 4px 0; }
.ann.warning .text { border-color: #cf222e; background: #ffebe9; }
.ann .fix { display: block; margin-top: .2rem; font-family: ui-monospace, monospace; font-size: 12px; color: #116329;
            white-space: pre-wrap; }
.hidden { display: none; }
#count { color: #57606a; }
.problems li { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; }
"""

SCRIPT = """
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#filters input[type=checkbox]'));
  var findings = Array.prototype.slice.call(document.querySelectorAll('.finding'));
  var files = Array.prototype.slice.call(document.querySelectorAll('.file-section'));
  function update() {
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    var shown = 0;
    findings.forEach(function (f) {
      var show = !!on[f.getAttribute('data-check')];
      f.classList.toggle('hidden', !show);
      if (show) shown++;
    });
    files.forEach(function (s) {
      s.classList.toggle('hidden', !s.querySelector('.finding:not(.hidden)'));
    });
    document.getElementById('count').textContent =
      'showing ' + shown + ' of ' + findings.length + ' finding' + (findings.length === 1 ? '' : 's');
  }
  boxes.forEach(function (b) { b.addEventListener('change', update); });
  document.getElementById('all').addEventListener('click', function () {
    boxes.forEach(function (b) { b.checked = true; }); update();
  });
  document.getElementById('none').addEventListener('click', function () {
    boxes.forEach(function (b) { b.checked = false; }); update();
  });
  update();
})();
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _e(text):
    return html.escape(str(text), quote=True)


def _anchor(text):
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def _excerpt(finding, sources, base):
    """The code around the warning and each note, file by file (the
    warning's file first), each marked line followed by what is said there,
    numbered in the order of the path."""
    steps = [(0, finding.where, "warning")] + [(i + 1, n, "note") for i, n in enumerate(finding.notes)]
    fix_by_note = {}
    for description, edits in finding.fixes:
        for number, location, _ in steps:
            if location.message == description:
                fix_by_note.setdefault(number, []).append(edits)
    order = []
    for _, location, _ in steps:
        if location.path not in order:
            order.append(location.path)
    parts = []
    for path in order:
        here = [s for s in steps if s[1].path == path]
        lines = sources.lines(path)
        parts.append('<div class="file">%s</div>' % _e(relative(path, base)))
        by_line = {}
        for step in here:
            by_line.setdefault(step[1].line, []).append(step)
        if lines is None:
            for number, location, kind in here:
                parts.append(_annotation(number, location, kind, fix_by_note.get(number), base,
                                         "line %d: " % location.line))
            continue
        shown = set()
        for line in by_line:
            for n in range(line - CONTEXT_LINES, line + CONTEXT_LINES + 1):
                if 1 <= n <= len(lines):
                    shown.add(n)
        previous = None
        for n in sorted(shown):
            if previous is not None and n != previous + 1:
                parts.append('<div class="gap">\u22ee</div>')
            previous = n
            marked = " marked" if n in by_line else ""
            parts.append('<div class="row%s"><span class="ln">%d</span><span class="src">%s</span></div>'
                         % (marked, n, _e(lines[n - 1]) or " "))
            for number, location, kind in by_line.get(n, []):
                parts.append(_annotation(number, location, kind, fix_by_note.get(number), base))
    return '<div class="excerpt code">%s</div>' % "\n".join(parts)


def _annotation(number, location, kind, fixes, base, prefix=""):
    step = "" if kind == "warning" else "%d" % number
    fix_html = ""
    for edits in fixes or []:
        for path, line, column, text in edits:
            fix_html += ('<span class="fix">fix-it (grpc-leak-tidy --fix-notes, or the quick fix in an editor): '
                         'insert at line %d, column %d%s:\n%s</span>' % (
                             line, column, "" if path == location.path else " of " + _e(os.path.basename(path)),
                             _e(text.strip("\n ") or text)))
    return ('<div class="ann %s"><span class="step">%s</span><span class="text">%s%s%s%s</span></div>'
            % (kind, step, _e(prefix), "" if kind == "note" else "warning: ", _e(location.message), fix_html))


def html_report(findings, problems, base, title="grpc-leak-tidy report", files_analysed=None,
                generated=None, sources=None):
    sources = sources or Sources()
    generated = generated or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    by_check, by_file = {}, {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
        by_file.setdefault(finding.where.path, []).append(finding)
    checks = sorted(by_check)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="%s">' % CSP,
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>%s</title><style>%s</style></head><body>" % (_e(title), STYLE),
           "<h1>%s</h1>" % _e(title)]
    meta = "%d finding%s in %d file%s" % (len(findings), "" if len(findings) == 1 else "s",
                                          len(by_file), "" if len(by_file) == 1 else "s")
    if files_analysed is not None:
        meta += " (%d file%s analysed)" % (files_analysed, "" if files_analysed == 1 else "s")
    meta += "; generated %s" % generated
    out.append('<p class="meta">%s</p>' % _e(meta))

    out.append("<h2>By check</h2>")
    if checks:
        out.append('<table class="summary" id="by-check"><tr><th>check</th><th>findings</th><th>files</th></tr>')
        for check in checks:
            out.append('<tr><td><code>%s</code></td><td class="n">%d</td><td class="n">%d</td></tr>' % (
                _e(check), len(by_check[check]), len({f.where.path for f in by_check[check]})))
        out.append("</table>")
    else:
        out.append("<p>No findings.</p>")

    if by_file:
        out.append("<h2>By file</h2>")
        out.append('<table class="summary" id="by-file"><tr><th>file</th><th>findings</th><th>checks</th></tr>')
        for path in sorted(by_file):
            found = by_file[path]
            out.append('<tr><td><a href="#%s"><code>%s</code></a></td><td class="n">%d</td><td>%s</td></tr>' % (
                _anchor(relative(path, base)), _e(relative(path, base)), len(found),
                _e(", ".join(sorted({f.check for f in found})))))
        out.append("</table>")

    if problems:
        out.append("<h2>Not analysed</h2><p>These files did not compile or their run failed; "
                   "their findings are missing:</p><ul class=\"problems\">")
        for problem in problems:
            out.append("<li>%s</li>" % _e(problem))
        out.append("</ul>")

    if findings:
        out.append("<h2>Findings</h2>")
        out.append('<div id="filters">')
        for check in checks:
            out.append('<label><input type="checkbox" value="%s" checked> <code>%s</code> (%d)</label>'
                       % (_e(check), _e(check), len(by_check[check])))
        out.append('<div><button type="button" id="all">all</button><button type="button" id="none">none</button>'
                   '<span id="count"></span></div></div>')
        for path in sorted(by_file):
            out.append('<section class="file-section" id="%s"><h3>%s</h3>' % (
                _anchor(relative(path, base)), _e(relative(path, base))))
            for finding in by_file[path]:
                out.append('<article class="finding level-%s" data-check="%s"><header>'
                           '<strong>%s</strong><span class="check">%s</span> '
                           '<span class="where">%s:%d:%d</span></header>%s</article>' % (
                               _e(finding.level), _e(finding.check), _e(finding.message), _e(finding.check),
                               _e(relative(finding.where.path, base)), finding.where.line,
                               finding.where.column, _excerpt(finding, sources, base)))
            out.append("</section>")
        out.append("<script>%s</script>" % SCRIPT)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_html(findings, problems, directory, base, **kwargs):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(html_report(findings, problems, base, **kwargs))
    return path


# --- main --------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description="HTML and GitLab Code Quality reports from SARIF logs.")
    parser.add_argument("logs", nargs="+", metavar="LOG", help="SARIF logs (several are merged first)")
    parser.add_argument("--html", metavar="DIR", help="write DIR/index.html")
    parser.add_argument("--codequality", metavar="FILE", help="write a GitLab Code Quality report")
    parser.add_argument("--relative-to", metavar="DIR", default=None,
                        help="paths in the reports relative to DIR (default: the current directory)")
    parser.add_argument("--source-root", metavar="DIR", default=None,
                        help="where relative URIs without a known base are (default: the current directory)")
    args = parser.parse_args(argv)
    if not args.html and not args.codequality:
        parser.error("nothing to write: give --html and/or --codequality")
    merge_sarif = _load("merge_sarif", "merge-sarif.py")
    merger = merge_sarif.Merger()
    try:
        for path in args.logs:
            merger.add_log(merge_sarif.read_log(path), source=path)
    except ValueError as err:
        print("grpc-leak-report: error: %s" % err, file=sys.stderr)
        return 2
    findings, problems = read_findings(merger.log(), args.source_root)
    base = os.path.abspath(args.relative_to or os.getcwd())
    if args.codequality:
        write_code_quality(findings, args.codequality, base)
    if args.html:
        write_html(findings, problems, args.html, base)
    print("grpc-leak-report: %d finding%s" % (len(findings), "" if len(findings) == 1 else "s"),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
