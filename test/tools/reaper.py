"""Process clean-up for tests that start programs which start programs of
their own (an editor and its language server, Chromium and its helpers):
the test's process becomes the child subreaper, so every descendant that is
orphaned stays its child, and whatever is left at the end is killed by its
process id. Linux only (prctl, /proc)."""

import ctypes
import os
import signal

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _parents():
    """{process id: parent process id} for every process."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as f:
                stat = f.read()
            # The command name is in parentheses and may contain spaces.
            parents[int(entry)] = int(stat[stat.rfind(")") + 2:].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def kill_tree(pid):
    """Kill a process and everything below it, by process id."""
    children = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    order, stack = [], [pid]
    while stack:
        current = stack.pop()
        order.append(current)
        stack.extend(children.get(current, []))
    for victim in order:
        try:
            os.kill(victim, signal.SIGKILL)
        except OSError:
            pass


def reap_leftovers():
    """Kill and reap every child of this process still there (with the
    subreaper set: every orphaned descendant); returns how many."""
    me, count = os.getpid(), 0
    for _ in range(50):
        pids = [pid for pid, parent in _parents().items() if parent == me]
        if not pids:
            break
        for pid in pids:
            kill_tree(pid)
            count += 1
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
    return count
