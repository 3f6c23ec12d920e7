#!/usr/bin/env python3
"""Write one C++ translation unit per gRPC service .proto, calling every
method the way real clients (and a tiny sync server) do.

Used by test/package/package-code.test over the .proto files that the Debian
package grpc-proto installs under /usr/share/grpc-proto.

  gen_clients.py --proto-root DIR [-I DIR ...] --out DIR [--list FILE]

* Finds every `**/*.proto` under --proto-root.
* A .proto whose imports (followed transitively) cannot all be found under
  --proto-root or an -I directory cannot be compiled by protoc; it is
  reported and skipped.  --list FILE receives the absolute paths of
  all the others, one a line, for `xargs protoc`.
* For each compilable .proto that declares at least one service, writes
  OUT/<path with / replaced by _>.cpp (e.g. grpc_health_v1_health.cpp) with
  - `#include "<path>.grpc.pb.h"` (and the .pb.h of every file that defines a
    request or response type from another file);
  - per method a function that calls it on a long-lived stub with a local
    grpc::ClientContext that has a 5 s deadline:
      unary             stub.M(&ctx, req, &resp)
      server streaming  reader = stub.M(&ctx, req); Read loop; Finish
      client streaming  writer = stub.M(&ctx, &resp); Write; WritesDone; Finish
      bidi streaming    stream = stub.M(&ctx); Write; WritesDone; Read loop;
                        Finish
  - per service one asynchronous unary call in the official async client
    shape (PrepareAsyncM(&ctx, req, &cq), StartCall, Finish, cq.Next on a
    local grpc::CompletionQueue), if the service has a unary method;
  - per service a sync server class deriving from the generated Service that
    overrides one method (the first unary one, else the first method) and
    returns grpc::Status::OK;
  - per service a callback server class deriving from the generated
    CallbackService that overrides every method: unary with
    DefaultReactor() and Finish(), server streaming with a reactor that
    writes one message and finishes (StartWriteAndFinish), client streaming
    with one that reads until the client half-closes and finishes, bidi with
    one that echoes until the client half-closes and finishes (reactor class
    templates written once per TU, each deleting itself in OnDone);
  - per streaming method an asynchronous call on a local CompletionQueue
    (PrepareAsyncM, StartCall, Write and WritesDone if the client streams,
    Read if the server streams, Finish; each tag taken with Next; then the
    queue shut down and drained), and a callback-API client reactor class
    (context deadline, StartRead/StartWrite, StartCall, StartWritesDone
    after the last write, OnDone signalling a condition variable that the
    calling function waits on outside the reactions); per service one
    callback unary call through a ClientUnaryReactor, if it has a unary
    method;
  - one function per file that creates one channel and one stub per service
    and calls each method function once.
* Prints to stdout a line per skipped .proto and per TU written, then two
  summary lines.

Parsing is a small regex parser over the .proto text with comments removed
(string literals are respected); it understands `package`, `import`,
(nested) `message`/`enum` names, `service` blocks and
`rpc Name(stream? Req) returns (stream? Resp)` followed by `;` or an options
block `{ ... }`.
"""

import argparse
import re
import sys
from pathlib import Path


def strip_comments(text):
    """Removes // and /* */ comments, keeping string literals and newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_strings(text):
    """Replaces the contents of string literals so that braces inside them do
    not disturb block matching."""
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', text)


def block_end(text, open_pos):
    """Index just past the brace that closes the one at open_pos."""
    depth = 0
    for i in range(open_pos, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unbalanced braces")


IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
FULL_IDENT = r"\.?%s(?:\.%s)*" % (IDENT, IDENT)
RPC_RE = re.compile(
    r"\brpc\s+(?P<name>%s)\s*\(\s*(?P<cs>stream\s+)?(?P<req>%s)\s*\)\s*"
    r"returns\s*\(\s*(?P<ss>stream\s+)?(?P<resp>%s)\s*\)\s*(?P<end>[;{])"
    % (IDENT, FULL_IDENT, FULL_IDENT))
SERVICE_RE = re.compile(r"\bservice\s+(%s)\s*\{" % IDENT)
TYPE_RE = re.compile(r"\b(message|enum|service)\s+(%s)\s*\{" % IDENT)


class ProtoFile:
    def __init__(self, rel, path):
        self.rel = rel            # path relative to its include directory
        self.path = path
        # raw: comments removed (import paths are read from it); body: string
        # literals blanked too (blocks are matched in it).
        self.raw = strip_comments(Path(path).read_text(encoding="utf-8"))
        self.body = strip_strings(self.raw)
        m = re.search(r"\bpackage\s+(%s)\s*;" % FULL_IDENT, self.body)
        self.package = m.group(1) if m else ""
        self.imports = re.findall(
            r'\bimport\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', self.raw)
        self.messages = set()     # full names of messages and enums
        self._collect_types(self.body, self.package)
        self.services = []
        for m in SERVICE_RE.finditer(self.body):
            end = block_end(self.body, m.end() - 1)
            inner = self.body[m.end():end - 1]
            methods = []
            pos = 0
            while True:
                r = RPC_RE.search(inner, pos)
                if not r:
                    break
                pos = r.end()
                if r.group("end") == "{":
                    pos = block_end(inner, r.end() - 1)
                methods.append({
                    "name": r.group("name"),
                    "req": r.group("req"),
                    "resp": r.group("resp"),
                    "client_stream": bool(r.group("cs")),
                    "server_stream": bool(r.group("ss")),
                })
            self.services.append({"name": m.group(1), "methods": methods})

    def _collect_types(self, text, scope):
        pos = 0
        while True:
            m = TYPE_RE.search(text, pos)
            if not m:
                return
            end = block_end(text, m.end() - 1)
            full = (scope + "." if scope else "") + m.group(2)
            if m.group(1) != "service":
                self.messages.add(full)
                if m.group(1) == "message":
                    self._collect_types(text[m.end():end - 1], full)
            pos = end


class Loader:
    def __init__(self, include_dirs):
        self.include_dirs = include_dirs
        self.cache = {}

    def find(self, rel):
        for d in self.include_dirs:
            p = Path(d) / rel
            if p.is_file():
                return p
        return None

    def load(self, rel):
        if rel not in self.cache:
            p = self.find(rel)
            self.cache[rel] = ProtoFile(rel, p) if p else None
        return self.cache[rel]

    def missing_imports(self, rel, seen=None):
        """Imports of rel (transitively) that cannot be found."""
        seen = set() if seen is None else seen
        if rel in seen:
            return []
        seen.add(rel)
        pf = self.load(rel)
        if pf is None:
            return [rel]
        missing = []
        for imp in pf.imports:
            missing += self.missing_imports(imp, seen)
        return missing


def cxx(full_name):
    return "::".join(full_name.lstrip(".").split("."))


def header_of(rel):
    return rel[:-len(".proto")] + ".pb.h"


def resolve(loader, pf, name):
    """Resolves a type name of an rpc line to (full proto name, defining file).

    Protobuf scoping: a leading dot means fully qualified; otherwise the name
    is looked up in the file's package, then its enclosing packages.  The
    candidates are the types defined in the file and its direct imports.
    """
    known = {}
    for f in [pf] + [loader.load(i) for i in pf.imports]:
        for t in f.messages:
            known.setdefault(t, f)
    if name.startswith("."):
        cands = [name[1:]]
    else:
        parts = pf.package.split(".") if pf.package else []
        cands = [".".join(parts[:k] + [name]) for k in range(len(parts), -1, -1)]
    for c in cands:
        if c in known:
            return c, known[c]
    # Not found (should not happen for a file protoc accepts): fall back to
    # "dotted means fully qualified, bare means the file's package".
    full = name if "." in name else (pf.package + "." + name).lstrip(".")
    return full, None


def kind(m):
    if m["client_stream"] and m["server_stream"]:
        return "bidi"
    if m["client_stream"]:
        return "client-streaming"
    if m["server_stream"]:
        return "server-streaming"
    return "unary"


DEADLINE = ("  ctx.set_deadline(std::chrono::system_clock::now() + "
            "std::chrono::seconds(5));\n")


def client_fn(svc_cxx, svc, m, req, resp):
    k = kind(m)
    name = m["name"]
    s = "bool Call_%s_%s(%s::Stub& stub) {\n" % (svc, name, svc_cxx)
    s += "  grpc::ClientContext ctx;\n" + DEADLINE
    s += "  %s req;\n  %s resp;\n" % (req, resp)
    if k == "unary":
        s += "  grpc::Status status = stub.%s(&ctx, req, &resp);\n" % name
    elif k == "server-streaming":
        s += "  auto reader = stub.%s(&ctx, req);\n" % name
        s += "  while (reader->Read(&resp)) {\n  }\n"
        s += "  grpc::Status status = reader->Finish();\n"
    elif k == "client-streaming":
        s += "  auto writer = stub.%s(&ctx, &resp);\n" % name
        s += "  writer->Write(req);\n  writer->WritesDone();\n"
        s += "  grpc::Status status = writer->Finish();\n"
    else:
        s += "  auto stream = stub.%s(&ctx);\n" % name
        s += "  stream->Write(req);\n  stream->WritesDone();\n"
        s += "  while (stream->Read(&resp)) {\n  }\n"
        s += "  grpc::Status status = stream->Finish();\n"
    s += "  return status.ok();\n}\n\n"
    return s


def async_fn(svc_cxx, svc, m, req, resp):
    name = m["name"]
    s = "bool AsyncCall_%s_%s(%s::Stub& stub) {\n" % (svc, name, svc_cxx)
    s += "  grpc::ClientContext ctx;\n" + DEADLINE
    s += "  grpc::CompletionQueue cq;\n"
    s += "  %s req;\n  %s resp;\n  grpc::Status status;\n" % (req, resp)
    s += ("  std::unique_ptr<grpc::ClientAsyncResponseReader<%s>> rpc(\n"
          "      stub.PrepareAsync%s(&ctx, req, &cq));\n" % (resp, name))
    s += "  rpc->StartCall();\n"
    s += "  rpc->Finish(&resp, &status, (void*)1);\n"
    s += "  void* got_tag = nullptr;\n  bool ok = false;\n"
    s += "  if (!cq.Next(&got_tag, &ok) || got_tag != (void*)1 || !ok)\n"
    s += "    return false;\n"
    s += "  return status.ok();\n}\n\n"
    return s


def server_class(svc_cxx, svc, m, req, resp):
    k = kind(m)
    name = m["name"]
    s = "class %sImpl final : public %s::Service {\n" % (svc, svc_cxx)
    s += " public:\n"
    s += "  grpc::Status %s(grpc::ServerContext* context,\n" % name
    if k == "unary":
        s += "      const %s* request, %s* response) override {\n" % (req, resp)
    elif k == "server-streaming":
        s += ("      const %s* request, grpc::ServerWriter<%s>* writer) "
              "override {\n" % (req, resp))
        s += "    %s resp;\n    writer->Write(resp);\n" % resp
    elif k == "client-streaming":
        s += ("      grpc::ServerReader<%s>* reader, %s* response) "
              "override {\n" % (req, resp))
        s += "    %s req;\n    while (reader->Read(&req)) {\n    }\n" % req
    else:
        s += ("      grpc::ServerReaderWriter<%s, %s>* stream) override {\n"
              % (resp, req))
        s += "    %s req;\n    %s resp;\n" % (req, resp)
        s += "    while (stream->Read(&req)) {\n"
        s += "      stream->Write(resp);\n    }\n"
    s += "    return grpc::Status::OK;\n  }\n};\n\n"
    return s


SERVER_REACTORS = """// Callback server reactors, one per streaming kind.
template <class Resp>
class OneWriteReactor final : public grpc::ServerWriteReactor<Resp> {
 public:
  OneWriteReactor() {
    this->StartWriteAndFinish(&resp_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override { delete this; }

 private:
  Resp resp_;
};

template <class Req>
class ReadAllReactor final : public grpc::ServerReadReactor<Req> {
 public:
  ReadAllReactor() { this->StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status::OK);
      return;
    }
    this->StartRead(&req_);
  }
  void OnDone() override { delete this; }

 private:
  Req req_;
};

template <class Req, class Resp>
class EchoReactor final : public grpc::ServerBidiReactor<Req, Resp> {
 public:
  EchoReactor() { this->StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status::OK);
      return;
    }
    this->StartWrite(&resp_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status::CANCELLED);
      return;
    }
    this->StartRead(&req_);
  }
  void OnDone() override { delete this; }

 private:
  Req req_;
  Resp resp_;
};

"""

CLIENT_DONE = """  void OnDone(const grpc::Status& s) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = s;
    done_ = true;
    cv_.notify_one();
  }
  grpc::Status Await() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    return status_;
  }
"""

CLIENT_STATE = """  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
"""


def callback_server_class(svc_cxx, svc, methods, types):
    s = "class %sCallbackImpl final : public %s::CallbackService {\n" % (
        svc, svc_cxx)
    s += " public:\n"
    for m in methods:
        k = kind(m)
        req, resp = types[m["req"]], types[m["resp"]]
        name = m["name"]
        if k == "unary":
            s += ("  grpc::ServerUnaryReactor* %s(grpc::CallbackServerContext* "
                  "context,\n      const %s* /*request*/, %s* /*response*/) "
                  "override {\n" % (name, req, resp))
            s += "    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();\n"
            s += "    reactor->Finish(grpc::Status::OK);\n    return reactor;\n  }\n"
        elif k == "server-streaming":
            s += ("  grpc::ServerWriteReactor<%s>* %s(\n      grpc::CallbackServerContext* "
                  "/*context*/, const %s* /*request*/) override {\n" % (resp, name, req))
            s += "    return new OneWriteReactor<%s>();\n  }\n" % resp
        elif k == "client-streaming":
            s += ("  grpc::ServerReadReactor<%s>* %s(\n      grpc::CallbackServerContext* "
                  "/*context*/, %s* /*response*/) override {\n" % (req, name, resp))
            s += "    return new ReadAllReactor<%s>();\n  }\n" % req
        else:
            s += ("  grpc::ServerBidiReactor<%s, %s>* %s(\n      grpc::CallbackServerContext* "
                  "/*context*/) override {\n" % (req, resp, name))
            s += "    return new EchoReactor<%s, %s>();\n  }\n" % (req, resp)
    s += "};\n\n"
    return s


def async_stream_fn(svc_cxx, svc, m, req, resp):
    k = kind(m)
    name = m["name"]
    s = "bool AsyncStream_%s_%s(%s::Stub& stub) {\n" % (svc, name, svc_cxx)
    s += "  grpc::ClientContext ctx;\n" + DEADLINE
    s += "  grpc::CompletionQueue cq;\n"
    s += "  %s req;\n  %s resp;\n  void* tag = nullptr;\n  bool ok = false;\n" % (
        req, resp)
    if k == "server-streaming":
        s += "  auto stream = stub.PrepareAsync%s(&ctx, req, &cq);\n" % name
    elif k == "client-streaming":
        s += "  auto stream = stub.PrepareAsync%s(&ctx, &resp, &cq);\n" % name
    else:
        s += "  auto stream = stub.PrepareAsync%s(&ctx, &cq);\n" % name
    s += "  stream->StartCall(reinterpret_cast<void*>(1));\n  cq.Next(&tag, &ok);\n"
    if k in ("client-streaming", "bidi"):
        s += "  stream->Write(req, reinterpret_cast<void*>(2));\n  cq.Next(&tag, &ok);\n"
        s += "  stream->WritesDone(reinterpret_cast<void*>(3));\n  cq.Next(&tag, &ok);\n"
    if k in ("server-streaming", "bidi"):
        s += "  stream->Read(&resp, reinterpret_cast<void*>(4));\n  cq.Next(&tag, &ok);\n"
    s += "  grpc::Status status;\n"
    s += "  stream->Finish(&status, reinterpret_cast<void*>(5));\n  cq.Next(&tag, &ok);\n"
    s += "  cq.Shutdown();\n  while (cq.Next(&tag, &ok)) {\n  }\n"
    s += "  return status.ok();\n}\n\n"
    return s


def callback_client(svc_cxx, svc, m, req, resp):
    """A client reactor class for a streaming method, and a function that
    runs one call with it and waits for OnDone."""
    k = kind(m)
    name = m["name"]
    cls = "%s_%s_Client" % (svc, name)
    if k == "server-streaming":
        base = "grpc::ClientReadReactor<%s>" % resp
    elif k == "client-streaming":
        base = "grpc::ClientWriteReactor<%s>" % req
    else:
        base = "grpc::ClientBidiReactor<%s, %s>" % (req, resp)
    s = "class %s final : public %s {\n public:\n" % (cls, base)
    s += "  explicit %s(%s::Stub* stub) {\n" % (cls, svc_cxx)
    s += DEADLINE.replace("  ctx.", "    ctx_.")
    if k == "server-streaming":
        s += "    stub->async()->%s(&ctx_, &req_, this);\n" % name
        s += "    StartRead(&resp_);\n"
    elif k == "client-streaming":
        s += "    stub->async()->%s(&ctx_, &resp_, this);\n" % name
        s += "    StartWrite(&req_);\n"
    else:
        s += "    stub->async()->%s(&ctx_, this);\n" % name
        s += "    StartRead(&resp_);\n    StartWrite(&req_);\n"
    s += "    StartCall();\n  }\n"
    if k in ("server-streaming", "bidi"):
        s += "  void OnReadDone(bool ok) override {\n    if (ok) StartRead(&resp_);\n  }\n"
    if k in ("client-streaming", "bidi"):
        s += "  void OnWriteDone(bool /*ok*/) override { StartWritesDone(); }\n"
    s += CLIENT_DONE
    s += "\n private:\n  grpc::ClientContext ctx_;\n"
    s += "  %s req_;\n  %s resp_;\n" % (req, resp)
    s += CLIENT_STATE
    s += "};\n\n"
    s += "bool CallbackCall_%s_%s(%s::Stub& stub) {\n" % (svc, name, svc_cxx)
    s += "  %s client(&stub);\n  return client.Await().ok();\n}\n\n" % cls
    return s


def callback_unary(svc_cxx, svc, m, req, resp):
    name = m["name"]
    cls = "%s_%s_UnaryClient" % (svc, name)
    s = "class %s final : public grpc::ClientUnaryReactor {\n public:\n" % cls
    s += "  explicit %s(%s::Stub* stub) {\n" % (cls, svc_cxx)
    s += DEADLINE.replace("  ctx.", "    ctx_.")
    s += "    stub->async()->%s(&ctx_, &req_, &resp_, this);\n" % name
    s += "    StartCall();\n  }\n"
    s += CLIENT_DONE
    s += "\n private:\n  grpc::ClientContext ctx_;\n"
    s += "  %s req_;\n  %s resp_;\n" % (req, resp)
    s += CLIENT_STATE
    s += "};\n\n"
    s += "bool CallbackUnary_%s_%s(%s::Stub& stub) {\n" % (svc, name, svc_cxx)
    s += "  %s client(&stub);\n  return client.Await().ok();\n}\n\n" % cls
    return s


def generate(loader, pf):
    """Returns (C++ text, stats) for a file with services."""
    includes = ['"%s.grpc.pb.h"' % pf.rel[:-len(".proto")]]
    body = ""
    stats = {"services": 0, "methods": 0, "async": 0, "servers": 0,
             "callback_servers": 0, "async_streams": 0, "callback_clients": 0}
    run = ""
    ns = "pkgtest_" + re.sub(r"\W", "_", pf.rel[:-len(".proto")])
    for svc in pf.services:
        if not svc["methods"]:
            continue
        stats["services"] += 1
        svc_cxx = "::" + cxx((pf.package + "." if pf.package else "")
                             + svc["name"])
        types = {}
        for m in svc["methods"]:
            for t in (m["req"], m["resp"]):
                full, f = resolve(loader, pf, t)
                types[t] = "::" + cxx(full)
                if f is not None and f is not pf:
                    inc = header_of(f.rel)
                    inc = ("<%s>" if inc.startswith("google/protobuf/")
                           else '"%s"') % inc
                    if inc not in includes:
                        includes.append(inc)
        body += "// service %s.%s\n\n" % (pf.package, svc["name"])
        run += "  {\n    auto stub = %s::NewStub(channel);\n" % svc_cxx
        for m in svc["methods"]:
            body += client_fn(svc_cxx, svc["name"], m, types[m["req"]],
                              types[m["resp"]])
            run += "    ok = Call_%s_%s(*stub) && ok;\n" % (svc["name"],
                                                            m["name"])
            stats["methods"] += 1
        unary = [m for m in svc["methods"] if kind(m) == "unary"]
        if unary:
            m = unary[0]
            body += async_fn(svc_cxx, svc["name"], m, types[m["req"]],
                             types[m["resp"]])
            run += "    ok = AsyncCall_%s_%s(*stub) && ok;\n" % (svc["name"],
                                                                 m["name"])
            stats["async"] += 1
        m = (unary or svc["methods"])[0]
        body += server_class(svc_cxx, svc["name"], m, types[m["req"]],
                             types[m["resp"]])
        stats["servers"] += 1
        body += callback_server_class(svc_cxx, svc["name"], svc["methods"],
                                      types)
        stats["callback_servers"] += 1
        for m in svc["methods"]:
            if kind(m) == "unary":
                continue
            body += async_stream_fn(svc_cxx, svc["name"], m, types[m["req"]],
                                    types[m["resp"]])
            run += "    ok = AsyncStream_%s_%s(*stub) && ok;\n" % (
                svc["name"], m["name"])
            stats["async_streams"] += 1
            body += callback_client(svc_cxx, svc["name"], m, types[m["req"]],
                                    types[m["resp"]])
            run += "    ok = CallbackCall_%s_%s(*stub) && ok;\n" % (
                svc["name"], m["name"])
            stats["callback_clients"] += 1
        if unary:
            m = unary[0]
            body += callback_unary(svc_cxx, svc["name"], m, types[m["req"]],
                                   types[m["resp"]])
            run += "    ok = CallbackUnary_%s_%s(*stub) && ok;\n" % (
                svc["name"], m["name"])
            stats["callback_clients"] += 1
        run += "  }\n"
    text = "// Generated by test/package/gen_clients.py from %s.\n" % pf.rel
    text += "// package %s\n\n" % pf.package
    for inc in includes:
        text += "#include %s\n" % inc
    text += ("\n#include <grpcpp/grpcpp.h>\n\n#include <chrono>\n"
             "#include <condition_variable>\n#include <memory>\n"
             "#include <mutex>\n#include <string>\n\n")
    text += "namespace %s {\n\n" % ns
    text += SERVER_REACTORS
    text += body
    text += "bool RunAll(const std::string& target) {\n"
    text += ("  std::shared_ptr<grpc::Channel> channel =\n"
             "      grpc::CreateChannel(target, "
             "grpc::InsecureChannelCredentials());\n")
    text += "  bool ok = true;\n" + run + "  return ok;\n}\n\n"
    text += "}  // namespace %s\n" % ns
    return text, stats


KINDS = ("unary", "server-streaming", "client-streaming", "bidi")


def kind_counts(methods):
    counts = {}
    for m in methods:
        counts[kind(m)] = counts.get(kind(m), 0) + 1
    return ", ".join("%d %s" % (counts[k], k) for k in KINDS if k in counts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--proto-root", required=True)
    ap.add_argument("-I", dest="includes", action="append", default=[],
                    help="further import directories (e.g. /usr/include)")
    ap.add_argument("--out", required=True, help="directory for the TUs")
    ap.add_argument("--list", help="write the compilable .proto files here")
    args = ap.parse_args()

    root = Path(args.proto_root).resolve()
    loader = Loader([root] + [Path(d) for d in args.includes])
    protos = sorted(p.relative_to(root).as_posix()
                    for p in root.glob("**/*.proto"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    compilable, skipped_imports, without_service = [], [], []
    totals = {"services": 0, "methods": 0, "async": 0, "servers": 0,
              "callback_servers": 0, "async_streams": 0, "callback_clients": 0}
    all_methods = []
    tus = 0
    for rel in protos:
        missing = loader.missing_imports(rel)
        if missing:
            skipped_imports.append(rel)
            print("skipped %s: import not found: %s" % (rel, ", ".join(
                sorted(set(missing)))))
            continue
        compilable.append(rel)
        pf = loader.load(rel)
        if not any(s["methods"] for s in pf.services):
            without_service.append(rel)
            continue
        text, stats = generate(loader, pf)
        name = re.sub(r"[/\\]", "_", rel[:-len(".proto")]) + ".cpp"
        (out / name).write_text(text, encoding="utf-8")
        print("wrote %s: %s" % (name, "; ".join(
            "%s.%s (%s)" % (pf.package, s["name"], kind_counts(s["methods"]))
            for s in pf.services if s["methods"])))
        tus += 1
        for k in totals:
            totals[k] += stats[k]
        for svc in pf.services:
            all_methods += svc["methods"]

    if args.list:
        with open(args.list, "w", encoding="utf-8") as f:
            for rel in compilable:
                f.write(str(root / rel) + "\n")

    print("found %d .proto files: %d compilable, %d skipped (missing imports),"
          " %d without a service" % (len(protos), len(compilable),
                                     len(skipped_imports),
                                     len(without_service)))
    print("wrote %d translation units: %d services, %d methods (%s), "
          "%d async unary calls, %d server classes" % (
              tus, totals["services"], totals["methods"],
              kind_counts(all_methods),
              totals["async"], totals["servers"]))
    print("callback API and async streams: %d callback server classes, "
          "%d async streaming calls, %d callback client reactors" % (
              totals["callback_servers"], totals["async_streams"],
              totals["callback_clients"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
