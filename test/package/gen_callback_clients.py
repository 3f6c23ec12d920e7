#!/usr/bin/env python3
"""Write one C++ translation unit per gRPC service .proto, using every method
through gRPC's callback API (and one async streaming call object), the way
the official callback examples do.

Used by test/package/package-callback.test over the .proto files that the
Debian package grpc-proto installs; the .proto parsing and the type
resolution are gen_clients.py's.

  gen_callback_clients.py --proto-root DIR [-I DIR ...] --out DIR [--list FILE]

For each compilable .proto that declares a service, OUT/<path with / as _>.cpp
holds, per service:
  - per method a client in the shape of the official callback examples, with a
    5 s deadline on a context that lives until the call is done:
      unary             stub.async()->M(&ctx, &req, &resp, callback) on
                        locals; the callback sets a flag under a mutex and
                        notifies; the caller waits (`while (!done) cv.wait`)
      streaming kinds   a client reactor (ClientReadReactor, ClientWriteReactor,
                        ClientBidiReactor) on the caller's stack that owns its
                        context and messages, starts the call in its
                        constructor (StartCall), finishes its side, and
                        signals OnDone to Await(), which the caller calls;
  - per service with a streaming method, an async call object that declares
    its context before the stream it starts on it (PrepareAsyncM), freed by
    its owner after the final tag;
  - per service a callback server class (the generated CallbackService) that
    overrides one method (the first unary one, else the first method): unary
    with the default reactor, finished at once; streaming with a reactor class
    that finishes on the first read or write that fails (or after one write)
    and deletes itself in OnDone.
Prints to stdout a line per TU written and a summary line.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_clients as gc  # noqa: E402

DEADLINE = ("std::chrono::system_clock::now() + std::chrono::seconds(5)")

AWAIT = """  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_one();
  }
  grpc::Status Await() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    return status_;
  }
"""

AWAIT_MEMBERS = """  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
"""


def unary_client(svc_cxx, svc, m, req, resp):
    name = m["name"]
    return (
        "bool CallbackCall_%s_%s(%s::Stub& stub) {\n" % (svc, name, svc_cxx) +
        "  grpc::ClientContext ctx;\n"
        "  ctx.set_deadline(%s);\n" % DEADLINE +
        "  %s req;\n  %s resp;\n" % (req, resp) +
        "  std::mutex mu;\n  std::condition_variable cv;\n  bool done = false;\n"
        "  grpc::Status status;\n"
        "  stub.async()->%s(&ctx, &req, &resp,\n" % name +
        "      [&mu, &cv, &done, &status](grpc::Status s) {\n"
        "        status = std::move(s);\n"
        "        std::lock_guard<std::mutex> lock(mu);\n"
        "        done = true;\n"
        "        cv.notify_one();\n"
        "      });\n"
        "  std::unique_lock<std::mutex> lock(mu);\n"
        "  while (!done)\n    cv.wait(lock);\n"
        "  return status.ok();\n}\n\n")


def reactor_client(svc_cxx, svc, m, req, resp):
    name = m["name"]
    k = gc.kind(m)
    cls = "%s_%s_Reactor" % (svc, name)
    if k == "server-streaming":
        base = "grpc::ClientReadReactor<%s>" % resp
        start = ("    stub->async()->%s(&ctx_, &req_, this);\n"
                 "    StartRead(&resp_);\n" % name)
        reactions = ("  void OnReadDone(bool ok) override {\n"
                     "    if (ok)\n      StartRead(&resp_);\n  }\n")
    elif k == "client-streaming":
        base = "grpc::ClientWriteReactor<%s>" % req
        start = ("    stub->async()->%s(&ctx_, &resp_, this);\n"
                 "    StartWriteLast(&req_, grpc::WriteOptions());\n" % name)
        reactions = ""
    else:
        base = "grpc::ClientBidiReactor<%s, %s>" % (req, resp)
        start = ("    stub->async()->%s(&ctx_, this);\n"
                 "    StartWrite(&req_);\n    StartRead(&resp_);\n" % name)
        reactions = ("  void OnWriteDone(bool ok) override {\n"
                     "    if (ok)\n      StartWritesDone();\n  }\n"
                     "  void OnReadDone(bool ok) override {\n"
                     "    if (ok)\n      StartRead(&resp_);\n  }\n")
    s = "class %s final : public %s {\n public:\n" % (cls, base)
    s += "  explicit %s(%s::Stub* stub) {\n" % (cls, svc_cxx)
    s += "    ctx_.set_deadline(%s);\n" % DEADLINE
    s += start + "    StartCall();\n  }\n"
    s += reactions + AWAIT
    s += "\n private:\n  grpc::ClientContext ctx_;\n"
    s += "  %s req_;\n  %s resp_;\n" % (req, resp) + AWAIT_MEMBERS + "};\n\n"
    s += "bool CallbackCall_%s_%s(%s::Stub& stub) {\n" % (svc, name, svc_cxx)
    s += "  %s reactor(&stub);\n  return reactor.Await().ok();\n}\n\n" % cls
    return s


def async_call_object(svc_cxx, svc, m, req, resp):
    name = m["name"]
    k = gc.kind(m)
    cls = "%s_%s_AsyncCall" % (svc, name)
    if k == "server-streaming":
        stream = "grpc::ClientAsyncReader<%s>" % resp
        prepare = "stub->PrepareAsync%s(&ctx_, req_, cq)" % name
    elif k == "client-streaming":
        stream = "grpc::ClientAsyncWriter<%s>" % req
        prepare = "stub->PrepareAsync%s(&ctx_, &resp_, cq)" % name
    else:
        stream = "grpc::ClientAsyncReaderWriter<%s, %s>" % (req, resp)
        prepare = "stub->PrepareAsync%s(&ctx_, cq)" % name
    return (
        "// Owned by whoever polls the queue; freed after its last tag.\n"
        "class %s {\n public:\n" % cls +
        "  %s(%s::Stub* stub, grpc::CompletionQueue* cq) {\n" % (cls, svc_cxx) +
        "    ctx_.set_deadline(%s);\n" % DEADLINE +
        "    stream_ = %s;\n" % prepare +
        "    stream_->StartCall(this);\n  }\n"
        "  void Cancel() { ctx_.TryCancel(); }\n\n"
        " private:\n  grpc::ClientContext ctx_;\n"
        "  %s req_;\n  %s resp_;\n" % (req, resp) +
        "  std::unique_ptr<%s> stream_;\n};\n\n" % stream)


def server_class(svc_cxx, svc, m, req, resp):
    name = m["name"]
    k = gc.kind(m)
    cls = "%sCallbackImpl" % svc
    if k == "unary":
        return (
            "class %s final : public %s::CallbackService {\n public:\n" % (cls, svc_cxx) +
            "  grpc::ServerUnaryReactor* %s(grpc::CallbackServerContext* context,\n" % name +
            "      const %s* request, %s* response) override {\n" % (req, resp) +
            "    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();\n"
            "    reactor->Finish(grpc::Status::OK);\n"
            "    return reactor;\n  }\n};\n\n")
    rcls = "%s_%s_ServerReactor" % (svc, name)
    if k == "server-streaming":
        base = "grpc::ServerWriteReactor<%s>" % resp
        ctor = "    StartWriteAndFinish(&resp_, grpc::WriteOptions(), grpc::Status::OK);\n"
        reactions = ""
        handler_params = "const %s* request" % req
        ret = base
    elif k == "client-streaming":
        base = "grpc::ServerReadReactor<%s>" % req
        ctor = "    StartRead(&req_);\n"
        reactions = ("  void OnReadDone(bool ok) override {\n"
                     "    if (ok)\n      StartRead(&req_);\n"
                     "    else\n      Finish(grpc::Status::OK);\n  }\n")
        handler_params = "%s* response" % resp
        ret = base
    else:
        base = "grpc::ServerBidiReactor<%s, %s>" % (req, resp)
        ctor = "    StartRead(&req_);\n"
        reactions = ("  void OnReadDone(bool ok) override {\n"
                     "    if (ok)\n      StartWrite(&resp_);\n"
                     "    else\n      Finish(grpc::Status::OK);\n  }\n"
                     "  void OnWriteDone(bool ok) override {\n"
                     "    if (ok)\n      StartRead(&req_);\n"
                     "    else\n      Finish(grpc::Status::CANCELLED);\n  }\n")
        handler_params = None
        ret = base
    s = "class %s final : public %s {\n public:\n" % (rcls, base)
    s += "  %s() {\n%s  }\n" % (rcls, ctor)
    s += reactions
    s += "  void OnDone() override { delete this; }\n\n private:\n"
    s += "  %s req_;\n  %s resp_;\n};\n\n" % (req, resp)
    s += "class %s final : public %s::CallbackService {\n public:\n" % (cls, svc_cxx)
    params = "grpc::CallbackServerContext* context"
    if handler_params:
        params += ", " + handler_params
    s += "  %s* %s(%s) override {\n" % (ret, name, params)
    s += "    return new %s();\n  }\n};\n\n" % rcls
    return s


def generate(loader, pf):
    includes = ['"%s.grpc.pb.h"' % pf.rel[:-len(".proto")]]
    body = ""
    stats = {"services": 0, "methods": 0, "async": 0, "servers": 0}
    ns = "pkgcb_" + re.sub(r"\W", "_", pf.rel[:-len(".proto")])
    for svc in pf.services:
        if not svc["methods"]:
            continue
        stats["services"] += 1
        svc_cxx = "::" + gc.cxx((pf.package + "." if pf.package else "")
                                + svc["name"])
        types = {}
        for m in svc["methods"]:
            for t in (m["req"], m["resp"]):
                full, f = gc.resolve(loader, pf, t)
                types[t] = "::" + gc.cxx(full)
                if f is not None and f is not pf:
                    inc = gc.header_of(f.rel)
                    inc = ("<%s>" if inc.startswith("google/protobuf/")
                           else '"%s"') % inc
                    if inc not in includes:
                        includes.append(inc)
        body += "// service %s.%s\n\n" % (pf.package, svc["name"])
        for m in svc["methods"]:
            req, resp = types[m["req"]], types[m["resp"]]
            if gc.kind(m) == "unary":
                body += unary_client(svc_cxx, svc["name"], m, req, resp)
            else:
                body += reactor_client(svc_cxx, svc["name"], m, req, resp)
            stats["methods"] += 1
        streaming = [m for m in svc["methods"] if gc.kind(m) != "unary"]
        if streaming:
            m = streaming[0]
            body += async_call_object(svc_cxx, svc["name"], m, types[m["req"]],
                                      types[m["resp"]])
            stats["async"] += 1
        unary = [m for m in svc["methods"] if gc.kind(m) == "unary"]
        m = (unary or svc["methods"])[0]
        body += server_class(svc_cxx, svc["name"], m, types[m["req"]],
                             types[m["resp"]])
        stats["servers"] += 1
    text = "// Generated by test/package/gen_callback_clients.py from %s.\n" % pf.rel
    text += "// package %s\n\n" % pf.package
    for inc in includes:
        text += "#include %s\n" % inc
    text += ("\n#include <grpcpp/grpcpp.h>\n\n#include <chrono>\n"
             "#include <condition_variable>\n#include <memory>\n"
             "#include <mutex>\n#include <string>\n\n")
    text += "namespace %s {\n\n" % ns + body + "}  // namespace %s\n" % ns
    return text, stats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--proto-root", required=True)
    ap.add_argument("-I", dest="includes", action="append", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--list", help="write the compilable .proto files here")
    args = ap.parse_args()

    root = Path(args.proto_root).resolve()
    loader = gc.Loader([root] + [Path(d) for d in args.includes])
    protos = sorted(p.relative_to(root).as_posix() for p in root.glob("**/*.proto"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    compilable = []
    totals = {"services": 0, "methods": 0, "async": 0, "servers": 0}
    tus = 0
    for rel in protos:
        if loader.missing_imports(rel):
            continue
        compilable.append(rel)
        pf = loader.load(rel)
        if not any(s["methods"] for s in pf.services):
            continue
        text, stats = generate(loader, pf)
        name = re.sub(r"[/\\]", "_", rel[:-len(".proto")]) + ".cpp"
        (out / name).write_text(text, encoding="utf-8")
        print("wrote %s" % name)
        tus += 1
        for k in totals:
            totals[k] += stats[k]
    if args.list:
        with open(args.list, "w", encoding="utf-8") as f:
            for rel in compilable:
                f.write(str(root / rel) + "\n")
    print("wrote %d translation units: %d services, %d callback clients, "
          "%d async streaming call objects, %d callback server classes"
          % (tus, totals["services"], totals["methods"], totals["async"],
             totals["servers"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
