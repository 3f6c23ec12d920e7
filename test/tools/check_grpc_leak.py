#!/usr/bin/env python3
"""Run a clang-tidy front end on a lit test file and verify its output.

This is a small, self-contained equivalent of LLVM's check_clang_tidy.py,
used by the grpc-leak-tidy lit tests.

Usage:
  check_grpc_leak.py [--tidy "<command prefix>"]
                     [-check-suffix=S | -check-suffixes=S1,S2]
                     [--fix-notes] [-config='<yaml or json>']
                     [--export-fixes[=PATH]]
                     <input.cpp> <check-name-or-glob> <temp-file-base>
                     [-- <extra clang-tidy args> [-- <compiler args>]]

Contract:
  * --tidy is the clang-tidy command prefix as one shlex-split string
    (default: $GRPC_LEAK_TIDY).  $FILECHECK names FileCheck (default:
    /usr/lib/llvm-22/bin/FileCheck).
  * With one `--`, everything after it is compiler args; with two, the first
    group is extra clang-tidy args and the second group compiler args.
  * The input is copied to <temp>.cpp with every `// CHECK-...:` comment
    reduced to `//` (line numbers preserved); a pristine copy is kept in
    <temp>.orig.  clang-tidy runs on <temp>.cpp with -checks=-*,<check>.
  * Active prefixes are CHECK-MESSAGES, CHECK-NOTES and CHECK-FIXES, each
    with `-<SUFFIX>` appended when suffixes are given.  Only prefixes that
    occur in the input are checked:
      - CHECK-MESSAGES: warning/error/note lines, -implicit-check-not
        warnings and errors (notes may be checked, as in LLVM's runner,
        but are not required);
      - CHECK-NOTES: warning/error/note lines, -implicit-check-not all three;
      - CHECK-FIXES: clang-tidy runs with -fix (or --fix-notes) and the
        fixed <temp>.cpp is matched with -match-full-lines (as in LLVM's
        own runner, without -strict-whitespace: combining the two would make
        the space after "CHECK-FIXES:" significant).
    If no prefix at all is present, the test asserts that clang-tidy emits
    no warning or error.
  * A non-zero clang-tidy exit status (e.g. compiler errors) is a failure.
  * On failure, commands and outputs go to stderr and the exit code is 1.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

DEFAULT_FILECHECK = "/usr/lib/llvm-22/bin/FileCheck"
# Any FileCheck directive comment; replaced by "//" in the temp file.
CHECK_COMMENT_RE = re.compile(r"//\s*CHECK-[A-Z0-9-]+:[^\r\n]*")
# Source snippet lines printed under a diagnostic ("  12 | code", "     | ^").
SNIPPET_RE = re.compile(r"^\s*\d*\s*\|")
USAGE = __doc__.split("Contract:")[0].strip()


def fail(message, *details):
    """Print a failure message plus optional details to stderr; return 1."""
    print("FAIL: " + message, file=sys.stderr)
    for detail in details:
        print(detail, file=sys.stderr)
    return 1


def run(cmd, stdin_text=None):
    """Run cmd, returning (exit code, stdout, stderr) as text."""
    try:
        proc = subprocess.run(cmd, input=stdin_text, capture_output=True,
                              text=True, errors="replace")
    except OSError as exc:  # e.g. the executable does not exist
        return 127, "", "cannot run %s: %s\n" % (cmd[0], exc)
    return proc.returncode, proc.stdout, proc.stderr


def describe(cmd, rc, out, err):
    """Format a command and its results for a failure report."""
    return ("command: %s\nexit code: %d\n--- stdout ---\n%s--- stderr ---\n%s"
            % (shlex.join(cmd), rc, out, err))


def has_prefix(text, prefix):
    """True if text uses `prefix` as a FileCheck prefix (any directive)."""
    directive = r"(?:-(?:NEXT|SAME|NOT|DAG|LABEL|EMPTY|COUNT-\d+))?"
    return re.search(r"\b" + re.escape(prefix) + directive + ":", text) is not None


def diag_lines(output, kinds):
    """Diagnostic lines of output whose severity is one of kinds."""
    keep = []
    for line in output.splitlines():
        if SNIPPET_RE.match(line) or "note: FIX-IT applied" in line:
            continue
        if any(kind + ":" in line for kind in kinds):
            keep.append(line)
    return "".join(line + "\n" for line in keep)


def parse_args(argv):
    """Split argv into an options dict; raises ValueError on bad usage."""
    opts = {"tidy": os.environ.get("GRPC_LEAK_TIDY"), "suffixes": [],
            "fix_notes": False, "config": "{}", "export_fixes": None}
    positional, tidy_args, compiler_args = [], [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest = argv[i + 1:]
            if "--" in rest:
                split = rest.index("--")
                tidy_args, compiler_args = rest[:split], rest[split + 1:]
            else:
                compiler_args = rest
            break
        key, _, value = arg.lstrip("-").partition("=")
        if arg.startswith("-") and key == "tidy":
            if not value:
                i += 1
                if i == len(argv):
                    raise ValueError("--tidy needs a value")
                value = argv[i]
            opts["tidy"] = value
        elif arg.startswith("-") and key in ("check-suffix", "check-suffixes"):
            opts["suffixes"] = [s.strip() for s in value.split(",") if s.strip()]
        elif arg.startswith("-") and key == "fix-notes":
            opts["fix_notes"] = True
        elif arg.startswith("-") and key == "config":
            opts["config"] = value or "{}"
        elif arg.startswith("-") and key == "export-fixes":
            opts["export_fixes"] = value or True
        elif arg.startswith("-") and arg != "-":
            raise ValueError("unknown option: " + arg)
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 3:
        raise ValueError("expected <input> <check> <temp-file-base>")
    if not opts["tidy"]:
        raise ValueError("no clang-tidy command: use --tidy or GRPC_LEAK_TIDY")
    opts["input"], opts["check"], opts["temp"] = positional
    opts["tidy_args"], opts["compiler_args"] = tidy_args, compiler_args
    return opts


def main():
    try:
        opts = parse_args(sys.argv[1:])
    except ValueError as exc:
        print("error: %s\n%s" % (exc, USAGE), file=sys.stderr)
        return 2
    filecheck = shlex.split(os.environ.get("FILECHECK", DEFAULT_FILECHECK))
    input_file, temp = opts["input"], opts["temp"]
    temp_cpp = temp + ".cpp"

    # Build the active prefixes and keep only those used by the test.
    suffixes = ["-" + s for s in opts["suffixes"]] or [""]
    with open(input_file, encoding="utf-8", newline="") as f:
        source = f.read()
    prefixes = {kind: [p for p in ("CHECK-%s%s" % (kind, s) for s in suffixes)
                       if has_prefix(source, p)]
                for kind in ("MESSAGES", "NOTES", "FIXES")}

    # Write the stripped copy (and a pristine reference copy of it).
    os.makedirs(os.path.dirname(os.path.abspath(temp_cpp)), exist_ok=True)
    with open(temp_cpp, "w", encoding="utf-8", newline="") as f:
        f.write(CHECK_COMMENT_RE.sub("//", source))
    shutil.copyfile(temp_cpp, temp + ".orig")

    # Run clang-tidy.
    cmd = shlex.split(opts["tidy"]) + [
        temp_cpp, "-checks=-*," + opts["check"], "--config=" + opts["config"]]
    if opts["fix_notes"]:
        cmd.append("--fix-notes")
    elif prefixes["FIXES"]:
        cmd.append("-fix")
    if opts["export_fixes"]:
        path = opts["export_fixes"]
        cmd.append("--export-fixes=" + (temp + ".yaml" if path is True else path))
    cmd += opts["tidy_args"] + ["--"] + opts["compiler_args"]
    rc, out, err = run(cmd)
    report = describe(cmd, rc, out, err)
    if rc != 0:
        return fail("clang-tidy exited with a non-zero status", report)

    # Each FileCheck pass: (kind, input file to check, extra FileCheck args).
    passes = []
    if prefixes["MESSAGES"]:
        with open(temp + ".msg", "w", encoding="utf-8") as f:
            f.write(diag_lines(out, ("warning", "error", "note")))
        passes.append(("MESSAGES", temp + ".msg",
                       ["-implicit-check-not={{warning|error}}:"]))
    if prefixes["NOTES"]:
        with open(temp + ".notes", "w", encoding="utf-8") as f:
            f.write(diag_lines(out, ("warning", "error", "note")))
        passes.append(("NOTES", temp + ".notes",
                       ["-implicit-check-not={{note|warning|error}}:"]))
    if prefixes["FIXES"]:
        passes.append(("FIXES", temp_cpp, ["-match-full-lines"]))
    if not any(prefixes.values()):
        # No expectations at all: the check must stay silent.
        noise = diag_lines(out, ("warning", "error"))
        if noise:
            return fail("expected no diagnostics, got:\n" + noise, report)
        return 0

    for kind, checked, extra in passes:
        fc_cmd = filecheck + [input_file, "-input-file=" + checked,
                              "-check-prefixes=" + ",".join(prefixes[kind])]
        fc_cmd += extra
        fc_rc, fc_out, fc_err = run(fc_cmd)
        if fc_rc != 0:
            return fail("CHECK-%s did not match" % kind, report,
                        describe(fc_cmd, fc_rc, fc_out, fc_err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
