#!/usr/bin/env python3
"""Run a real editor, headless, on the example service with grpc-leak-clangd
configured as docs/user-guide.md says, and print what the editor saw.

    editor_test.py EDITOR --guide GUIDE --clangd PATH --source FILE
                   --include DIR --work DIR --check CHECK --action REGEX
                   [--timeout SECONDS] [--same-in FILE]...

EDITOR is `neovim` or `emacs`. Steps:
  * The guide's snippet for EDITOR (the fenced block after the line
    `<!-- editor snippet: EDITOR -->`) becomes the user's init file in a
    fresh home directory (~/.config/nvim/init.lua; ~/.emacs.d/init.el, which
    Emacs in batch mode loads with -l), with the one change a user makes:
    the documented install path of grpc-leak-clangd replaced by PATH. Each
    --same-in FILE (the README) must show the snippet unchanged.
  * A project: a copy of FILE and build/compile_commands.json (clang++
    -std=c++17 -I DIR), nothing else: no .clangd, no .clang-tidy (a test
    fails if the project or a parent directory has one).
  * The editor opens the copy from the project directory and runs its
    driver (Inputs/editor/nvim_driver.lua, emacs_driver.el): wait for the
    diagnostics, print them, apply the code action whose title matches REGEX
    (a Lua pattern for Neovim, an Emacs regexp) on the CHECK warning through
    the editor's code-action menu, print the buffer around it, wait until
    the server no longer reports CHECK there.
  * The driver's report goes to stdout, then "editor exit status: N" and
    "seconds: S". Each wait in the driver is bounded by --timeout (default
    90 s); the editor as a whole by 3 times that. This script makes itself
    the child subreaper, so the editor's children (the language server) stay
    its descendants; every process left when the editor exits, or when it
    is killed for taking too long, is killed by its process id.
Exit status: the editor's (0 when the driver saw every step), 1 otherwise.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from reaper import become_subreaper, kill_tree, reap_leftovers

HERE = os.path.dirname(os.path.abspath(__file__))
DOCUMENTED_PATH = "/opt/grpc-leak-tidy/bin/grpc-leak-clangd"


def snippet(guide, editor):
    marker = "<!-- editor snippet: %s -->" % editor
    with open(guide, encoding="utf-8") as f:
        lines = f.read().splitlines()
    try:
        start = lines.index(marker) + 1
    except ValueError:
        sys.exit("editor_test: no %r line in %s" % (marker, guide))
    if start >= len(lines) or not lines[start].startswith("```"):
        sys.exit("editor_test: %r is not followed by a fenced block" % marker)
    end = lines.index("```", start + 1)
    return "\n".join(lines[start + 1:end]) + "\n"


def configured_parents(path):
    found = []
    while True:
        for name in (".clangd", ".clang-tidy"):
            if os.path.exists(os.path.join(path, name)):
                found.append(os.path.join(path, name))
        parent = os.path.dirname(path)
        if parent == path:
            return found
        path = parent


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("editor", choices=["neovim", "emacs"])
    parser.add_argument("--guide", required=True)
    parser.add_argument("--clangd", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--include", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--check", required=True)
    parser.add_argument("--action", required=True)
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--same-in", action="append", default=[], metavar="FILE",
                        help="another document that shows the snippet: it must show it unchanged")
    args = parser.parse_args(argv)

    text = snippet(args.guide, args.editor)
    for other in args.same_in:
        with open(other, encoding="utf-8") as f:
            if text not in f.read():
                sys.exit("editor_test: %s does not show the %s snippet of %s as it is there"
                         % (other, args.editor, args.guide))
    if text.count(DOCUMENTED_PATH) != 1:
        sys.exit("editor_test: the %s snippet names %s %d times, not once"
                 % (args.editor, DOCUMENTED_PATH, text.count(DOCUMENTED_PATH)))
    text = text.replace(DOCUMENTED_PATH, os.path.abspath(args.clangd))

    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    home = os.path.join(work, "home")
    project = os.path.join(work, "project")
    os.makedirs(os.path.join(project, "build"))
    os.makedirs(home)
    source = os.path.join(project, os.path.basename(args.source))
    shutil.copyfile(args.source, source)
    with open(os.path.join(project, "build", "compile_commands.json"), "w", encoding="utf-8") as f:
        json.dump([{"directory": project, "file": source,
                    "arguments": ["clang++", "-std=c++17", "-I" + os.path.abspath(args.include),
                                  "-c", source]}], f, indent=2)
    configured = configured_parents(project)
    if configured:
        sys.exit("editor_test: the project must have no configuration, but there is %s"
                 % ", ".join(configured))

    env = dict(os.environ)
    env.update({
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "EDITOR_TEST_OUT": os.path.join(work, "report.txt"),
        "EDITOR_TEST_FILE": source,
        "EDITOR_TEST_CHECK": args.check,
        "EDITOR_TEST_ACTION": args.action,
        "EDITOR_TEST_TIMEOUT": "%d" % args.timeout,
        "TERM": "dumb",
    })
    env.pop("CLANGD_FLAGS", None)
    if args.editor == "neovim":
        init = os.path.join(home, ".config", "nvim", "init.lua")
        command = ["nvim", "--headless", "-n", "-i", "NONE", source,
                   "-c", "luafile " + os.path.join(HERE, "Inputs", "editor", "nvim_driver.lua")]
    else:
        init = os.path.join(home, ".emacs.d", "init.el")
        command = ["emacs", "--batch", "-l", init,
                   "-l", os.path.join(HERE, "Inputs", "editor", "emacs_driver.el")]
    os.makedirs(os.path.dirname(init), exist_ok=True)
    with open(init, "w", encoding="utf-8") as f:
        f.write(text)

    become_subreaper()
    log_path = os.path.join(work, "editor.log")
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=project, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = proc.wait(timeout=3 * args.timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait()
            status = "killed after %d s" % (3 * args.timeout)
        except BaseException:
            kill_tree(proc.pid)
            proc.wait()
            reap_leftovers()
            raise
    seconds = time.monotonic() - start
    left = reap_leftovers()

    report = os.path.join(work, "report.txt")
    if os.path.exists(report):
        with open(report, encoding="utf-8", errors="replace") as f:
            sys.stdout.write(f.read())
    print("editor exit status: %s" % status)
    print("processes left running by the editor, killed: %d" % left)
    print("seconds: %.1f" % seconds)
    sys.stdout.flush()
    if status != 0:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            sys.stderr.write("--- %s output (tail) ---\n%s\n" % (args.editor, f.read()[-4000:]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
