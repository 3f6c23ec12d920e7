#!/usr/bin/env python3
"""Minimal LSP client: open one file in a language server, print diagnostics.

Usage:
  lsp_client.py [--timeout SECONDS] [--settle SECONDS] [--verbose]
                [--code-actions] [--expect-fixes SARIF]
                --file SOURCE.cpp -- SERVER_COMMAND [ARGS...]

Contract:
  * SERVER_COMMAND is started with stdin/stdout pipes and spoken to over
    LSP JSON-RPC with Content-Length framing.  Its stderr is captured in a
    temp file (its tail is echoed on failure) unless --verbose is given, in
    which case it goes straight to our stderr (and the traffic is logged).
  * Sequence: initialize -> initialized -> textDocument/didOpen (languageId
    "cpp", version 1), then messages are read until a
    textDocument/publishDiagnostics for the file arrives with a non-empty
    list, or until one has arrived and --settle seconds (default 5) pass
    without a newer one.  Server->client requests are answered with a null
    result so the server never blocks on us.
  * The diagnostics of the last publishDiagnostics for the file are printed
    to stdout, one per line, as
        <line>:<col>: <severity> [<source>/<code>] <message>
    (1-based line and column; a missing source or code prints as `-`;
    newlines inside a message print as a literal `\\n`), each followed by
        note: <line>:<col>: <message>
    lines (indented by two spaces) for its relatedInformation entries.
  * With --code-actions, each diagnostic is followed by the code actions the
    server offers for it (textDocument/codeAction over its range, with it as
    the context's only diagnostic), indented by two spaces, as
        action: <title> (<kind>)[ preferred]
    each followed by its text edits, indented by four spaces, as
        edit: <line>:<col>-<line>:<col> <new text as a JSON string>
    and, last, "server edits unasked: <n>": the workspace/applyEdit requests
    the server sent (an edit applied without the user choosing it).
  * With --expect-fixes SARIF (implies --code-actions): every fix in that
    SARIF log (grpc-leak-tidy --export-sarif of the same file: one per
    warning or note that carries fix-its) must be offered as a code action
    on the diagnostic of the same rule and position, titled by the fix's
    description (the note's message) and making the same edits; prints
    "fix-its offered as code actions: <k> of <n>" and, for each one missing,
    "missing: ..."; exit status 1 unless k == n.
  * Then shutdown / exit are sent and the server is given 10 s to exit
    before it (and its process group) is killed.  The server never outlives
    this script.
  * Exit status: 0 if diagnostics for the file arrived; 1 on timeout
    (--timeout, default 60 s, covers the whole run), protocol error or
    server failure (reason on stderr); 2 on usage error.
"""

import argparse
import json
import os
import pathlib
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

SEVERITIES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
SHUTDOWN_WAIT = 10.0  # seconds for the shutdown response and for the exit
USAGE = __doc__.split("Contract:")[0].strip()

_EOF = object()  # queue sentinel: server stdout closed


class ProtocolError(Exception):
    """The server broke the protocol, died, or answered with an error."""


class Timeout(Exception):
    """The overall --timeout expired."""


def uri_to_path(uri):
    """Return a normalised local path for a file:// URI (None otherwise)."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.realpath(urllib.parse.unquote(parsed.path))


class Server:
    """A language server subprocess plus a reader thread feeding a queue."""

    def __init__(self, command, verbose):
        self.verbose = verbose
        self.stderr_file = None if verbose else tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if verbose else self.stderr_file,
            start_new_session=True,  # own process group: kill it as a whole
        )
        self.messages = queue.Queue()
        self.write_lock = threading.Lock()
        self.next_id = 1
        self.apply_edit_requests = 0
        self.timed_out = threading.Event()
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    # -- transport ---------------------------------------------------------

    def _read_loop(self):
        stream = self.proc.stdout
        try:
            while True:
                length = None
                saw_header = False
                while True:
                    line = stream.readline()
                    if not line:
                        if saw_header:
                            raise ProtocolError("EOF inside message header")
                        self.messages.put(_EOF)
                        return
                    line = line.rstrip(b"\r\n")
                    if not line:
                        if saw_header:
                            break
                        continue  # tolerate stray blank lines between messages
                    saw_header = True
                    name, sep, value = line.partition(b":")
                    if not sep:
                        raise ProtocolError(f"malformed header line {line!r}")
                    if name.strip().lower() == b"content-length":
                        try:
                            length = int(value.strip())
                        except ValueError:
                            raise ProtocolError(
                                f"bad Content-Length {value!r}") from None
                if length is None or length < 0:
                    raise ProtocolError("message without Content-Length")
                body = b""
                while len(body) < length:
                    chunk = stream.read(length - len(body))
                    if not chunk:
                        raise ProtocolError(
                            f"EOF after {len(body)} of {length} body bytes")
                    body += chunk
                try:
                    message = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as err:
                    raise ProtocolError(f"undecodable message body: {err}")
                batch = message if isinstance(message, list) else [message]
                for item in batch:
                    if not isinstance(item, dict):
                        raise ProtocolError(f"message is not an object: {item!r}")
                    self.messages.put(item)
        except ProtocolError as err:
            self.messages.put(err)
        except Exception as err:  # e.g. ValueError on a closed pipe
            self.messages.put(ProtocolError(f"reading from server: {err!r}"))

    def send(self, message):
        message = dict(message, jsonrpc="2.0")
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        if self.verbose:
            log("--> " + describe(message))
        data = b"Content-Length: %d\r\n\r\n" % len(body) + body
        with self.write_lock:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError) as err:
                if self.timed_out.is_set():
                    raise Timeout() from None
                code = self.proc.poll()
                status = "" if code is None else f" (server exit status {code})"
                raise ProtocolError(f"writing to server: {err}{status}") from None

    def request(self, method, params):
        request_id = self.next_id
        self.next_id += 1
        message = {"id": request_id, "method": method}
        if params is not None:  # JSON-RPC: params is omitted, never null
            message["params"] = params
        self.send(message)
        return request_id

    def notify(self, method, params):
        message = {"method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def receive(self, deadline):
        """Next message, or None if `deadline` (monotonic) passes first."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            item = self.messages.get(timeout=remaining)
        except queue.Empty:
            return None
        if item is _EOF:
            if self.timed_out.is_set():
                raise Timeout()
            self.messages.put(_EOF)  # keep reporting EOF on later calls
            code = self.proc.poll()
            status = "" if code is None else f" (exit status {code})"
            raise ProtocolError("server closed its output" + status)
        if isinstance(item, Exception):
            if self.timed_out.is_set():
                raise Timeout()
            self.messages.put(item)
            raise item
        if self.verbose:
            log("<-- " + describe(item))
        if "id" in item and "method" in item:
            # Server->client request (workDoneProgress/create,
            # workspace/configuration, ...): never leave it pending.
            if item["method"] == "workspace/applyEdit":
                self.apply_edit_requests += 1
            self.send({"id": item["id"], "result": None})
        return item

    # -- teardown ----------------------------------------------------------

    def kill(self):
        """Kill the server's process group (and the server itself)."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.kill()
        except OSError:
            pass

    def close(self):
        """Ensure the server is gone; reap it; close our pipe ends."""
        self.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log(f"warning: server pid {self.proc.pid} did not die after SIGKILL")
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def stderr_tail(self, limit=4000):
        if self.stderr_file is None:
            return ""
        try:
            self.stderr_file.flush()
            size = self.stderr_file.seek(0, os.SEEK_END)
            self.stderr_file.seek(max(0, size - limit))
            return self.stderr_file.read().decode("utf-8", "replace")
        except OSError:
            return ""


def log(text):
    print(text, file=sys.stderr, flush=True)


def describe(message):
    text = json.dumps(message, ensure_ascii=False)
    return text if len(text) <= 300 else text[:300] + "..."


def wait_response(server, request_id, deadline, on_message=None):
    """Read until the response to `request_id`; None if `deadline` passes."""
    while True:
        message = server.receive(deadline)
        if message is None:
            return None
        if "method" not in message and message.get("id") == request_id:
            return message
        if on_message is not None:
            on_message(message)


def format_position(position):
    return "%d:%d" % (position.get("line", 0) + 1,
                      position.get("character", 0) + 1)


def one_line(text):
    return str(text).replace("\r\n", "\n").replace("\n", "\\n")


def format_diagnostic(diag):
    start = diag.get("range", {}).get("start", {})
    severity = diag.get("severity")
    severity_name = SEVERITIES.get(severity, f"severity-{severity}")
    source = diag.get("source")
    code = diag.get("code")
    source = "-" if source in (None, "") else str(source)
    code = "-" if code in (None, "") else str(code)
    lines = ["%s: %s [%s/%s] %s" % (format_position(start), severity_name,
                                    source, code,
                                    one_line(diag.get("message", "")))]
    for info in diag.get("relatedInformation") or []:
        info_start = info.get("location", {}).get("range", {}).get("start", {})
        lines.append("  note: %s: %s" % (format_position(info_start),
                                         one_line(info.get("message", ""))))
    return lines


def format_range(range_):
    return "%s-%s" % (format_position(range_.get("start", {})),
                      format_position(range_.get("end", {})))


def code_actions(server, uri, diag, deadline, on_message, offered=None):
    """Lines describing the code actions offered for one diagnostic; each
    action is also appended to `offered` as (diagnostic, action)."""
    request_id = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri},
        "range": diag.get("range"),
        "context": {"diagnostics": [diag]},
    })
    response = wait_response(server, request_id, deadline, on_message)
    if response is None:
        raise Timeout("waiting for the code actions of a diagnostic")
    if "error" in response:
        raise ProtocolError(f"codeAction failed: {response['error']!r}")
    lines = []
    for action in response.get("result") or []:
        if offered is not None:
            offered.append((diag, action))
        lines.append("  action: %s (%s)%s" % (
            one_line(action.get("title", "")), action.get("kind", "-"),
            " preferred" if action.get("isPreferred") else ""))
        changes = (action.get("edit") or {}).get("changes") or {}
        for edit_uri in sorted(changes):
            for edit in changes[edit_uri]:
                lines.append("    edit: %s %s" % (format_range(edit.get("range", {})),
                                                 json.dumps(edit.get("newText", ""))))
    return lines


def sarif_edits(fix, source_real):
    """The edits of a SARIF fix in the source file, as code_actions prints
    them (LSP columns are UTF-16 code units, SARIF's here are bytes + 1; the
    sources these tests use are ASCII)."""
    edits = []
    for change in fix.get("artifactChanges", []):
        if uri_to_path(change.get("artifactLocation", {}).get("uri", "")) != source_real:
            return None
        for replacement in change.get("replacements", []):
            region = replacement.get("deletedRegion", {})
            edits.append("%d:%d-%d:%d %s" % (
                region.get("startLine", 0), region.get("startColumn", 0),
                region.get("endLine", region.get("startLine", 0)),
                region.get("endColumn", region.get("startColumn", 0)),
                json.dumps(replacement.get("insertedContent", {}).get("text", ""))))
    return sorted(edits)


def check_expected_fixes(sarif_path, source_real, offered):
    with open(sarif_path, encoding="utf-8") as f:
        log_data = json.load(f)
    expected, found, missing = 0, 0, []
    for run in log_data.get("runs", []):
        for result in run.get("results", []):
            physical = (result.get("locations") or [{}])[0].get("physicalLocation", {})
            region = physical.get("region", {})
            where = (region.get("startLine", 0) - 1, region.get("startColumn", 0) - 1)
            for fix in result.get("fixes", []):
                expected += 1
                title = fix.get("description", {}).get("text", "")
                want = sarif_edits(fix, source_real)
                ok = False
                for diag, action in offered:
                    start = diag.get("range", {}).get("start", {})
                    edits = sorted(
                        "%s %s" % (format_range(e.get("range", {})), json.dumps(e.get("newText", "")))
                        for changes in ((action.get("edit") or {}).get("changes") or {}).values()
                        for e in changes)
                    if (diag.get("code") == result.get("ruleId")
                            and (start.get("line"), start.get("character")) == where
                            and action.get("title") == title and edits == want):
                        ok = True
                        break
                if ok:
                    found += 1
                else:
                    missing.append("missing: %s %d:%d %r %s" % (
                        result.get("ruleId"), where[0] + 1, where[1] + 1, title, want))
    print("fix-its offered as code actions: %d of %d" % (found, expected))
    for line in missing:
        print(line)
    return 0 if found == expected else 1


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=os.path.basename(sys.argv[0]),
        usage=USAGE.split("Usage:", 1)[1].strip().replace("lsp_client.py", "%(prog)s", 1),
        description="Open one file in an LSP server and print its diagnostics.")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="overall timeout in seconds (default 60)")
    parser.add_argument("--settle", type=float, default=5.0, metavar="SECONDS",
                        help="seconds to wait for a newer publishDiagnostics "
                             "after an empty one (default 5)")
    parser.add_argument("--file", required=True, metavar="SOURCE.cpp", help="source file to open")
    parser.add_argument("--code-actions", action="store_true",
                        help="also print the code actions offered for each diagnostic")
    parser.add_argument("--expect-fixes", metavar="SARIF",
                        help="check that every fix of this SARIF log is offered as a code action")
    parser.add_argument("--verbose", action="store_true",
                        help="forward server stderr and log LSP traffic")
    if "--" not in argv:
        parser.parse_args(argv)  # reports missing --file etc. first
        parser.error("missing `-- SERVER_COMMAND [ARGS...]`")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1:]
    if not args.command:
        parser.error("empty server command after `--`")
    if args.expect_fixes:
        args.code_actions = True
    if not args.timeout > 0:
        parser.error("--timeout must be positive")
    if not args.settle >= 0:
        parser.error("--settle must not be negative")
    if not os.path.isfile(args.file):
        parser.error(f"--file {args.file!r} is not a readable file")
    return args


def run(args):
    deadline = time.monotonic() + args.timeout
    source_path = os.path.abspath(args.file)
    source_real = os.path.realpath(source_path)
    source_uri = pathlib.Path(source_path).as_uri()
    root_uri = pathlib.Path(os.path.dirname(source_path)).as_uri()
    with open(source_path, encoding="utf-8", errors="replace", newline="") as f:
        text = f.read()

    try:
        server = Server(args.command, args.verbose)
    except OSError as err:
        log(f"error: cannot start server {args.command[0]!r}: {err}")
        return 1

    # Hard timeout even if the main thread is stuck (e.g. in a blocked write):
    # killing the server unblocks every pipe operation.
    def on_timeout():
        server.timed_out.set()
        server.kill()

    watchdog = threading.Timer(args.timeout, on_timeout)
    watchdog.daemon = True
    watchdog.start()

    state = {"diagnostics": None, "published_at": None}
    offered = []

    def handle(message):
        if message.get("method") != "textDocument/publishDiagnostics":
            return
        params = message.get("params") or {}
        uri = params.get("uri", "")
        if uri != source_uri and uri_to_path(uri) != source_real:
            return
        diagnostics = params.get("diagnostics")
        if not isinstance(diagnostics, list):
            raise ProtocolError(f"publishDiagnostics without a list: {params!r}")
        state["diagnostics"] = diagnostics
        state["published_at"] = time.monotonic()

    def check_deadline(what):
        if server.timed_out.is_set() or time.monotonic() >= deadline:
            raise Timeout(what)

    status = 1
    try:
        try:
            init_id = server.request("initialize", {
                "processId": os.getpid(),
                "rootUri": root_uri,
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": {"relatedInformation": True},
                        "codeAction": {"codeActionLiteralSupport": {
                            "codeActionKind": {"valueSet": [
                                "quickfix", "refactor", "source"]}}},
                    },
                },
                "initializationOptions": {},
            })
            response = wait_response(server, init_id, deadline, handle)
            if response is None:
                raise Timeout("waiting for the initialize response")
            if "error" in response:
                raise ProtocolError(f"initialize failed: {response['error']!r}")
            server.notify("initialized", {})
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": source_uri, "languageId": "cpp", "version": 1,
                "text": text}})

            while True:
                wait_until = deadline
                if state["published_at"] is not None:
                    if state["diagnostics"]:
                        break
                    wait_until = min(deadline,
                                     state["published_at"] + args.settle)
                message = server.receive(wait_until)
                if message is None:
                    if state["published_at"] is not None and \
                            time.monotonic() < deadline:
                        break  # settled with an empty diagnostics list
                    check_deadline("waiting for publishDiagnostics for "
                                   + source_uri)
                    raise Timeout("waiting for publishDiagnostics for "
                                  + source_uri)
                handle(message)

            for diag in state["diagnostics"]:
                for line in format_diagnostic(diag):
                    print(line)
                if args.code_actions:
                    for line in code_actions(server, source_uri, diag, deadline, handle, offered):
                        print(line)
            if args.code_actions:
                print("server edits unasked: %d" % server.apply_edit_requests)
            status = 0
            if args.expect_fixes:
                status = check_expected_fixes(args.expect_fixes, source_real, offered)
            sys.stdout.flush()

            # Orderly shutdown; problems here are reported but only the hard
            # timeout turns the result into a failure.
            try:
                shutdown_id = server.request("shutdown", None)
                response = wait_response(
                    server, shutdown_id,
                    min(deadline, time.monotonic() + SHUTDOWN_WAIT))
                if response is None:
                    check_deadline("waiting for the shutdown response")
                    log("warning: no shutdown response within "
                        f"{SHUTDOWN_WAIT:g} s")
                elif "error" in response:
                    log(f"warning: shutdown failed: {response['error']!r}")
                server.notify("exit", None)
                remaining = min(SHUTDOWN_WAIT, deadline - time.monotonic())
                try:
                    server.proc.wait(timeout=max(remaining, 0))
                except subprocess.TimeoutExpired:
                    check_deadline("waiting for the server to exit")
                    log(f"warning: server did not exit within "
                        f"{SHUTDOWN_WAIT:g} s; killing it")
            except ProtocolError as err:
                if server.proc.poll() is None:
                    log(f"warning: during shutdown: {err}")
        except Timeout as err:
            what = f" ({err})" if str(err) else ""
            log(f"error: timed out after {args.timeout:g} s{what}")
            status = 1
        except ProtocolError as err:
            log(f"error: {err}")
            status = 1
        if status != 0:
            tail = server.stderr_tail()
            if tail:
                log("--- server stderr (tail) ---\n" + tail.rstrip())
    finally:
        watchdog.cancel()
        server.close()
        if server.stderr_file is not None:
            server.stderr_file.close()
    return status


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    args = parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
