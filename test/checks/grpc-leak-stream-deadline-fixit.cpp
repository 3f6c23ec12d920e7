// The fix-it rides on a note: --fix-notes applies it, plain --fix does not.
// The fixed file compiles against the real stubs and the check is silent on it.
//
// RUN: %check_grpc_leak --fix-notes %s grpc-leak-stream-deadline %t -- -- %grpc_flags
// RUN: clang++-22 -fsyntax-only %grpc_flags %t.cpp
// RUN: %tidy_frontend -checks='-*,grpc-leak-stream-deadline' %t.cpp -- %grpc_flags 2>&1 | FileCheck %s --check-prefix=AFTER --implicit-check-not=warning:
// The two cases that get no fix are still reported after fixing:
// AFTER-DAG: warning: streaming RPC 'Bidi' is started on 'ctx_'
// AFTER-DAG: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it
//
// RUN: cp %s %t.plain.cpp
// RUN: %tidy_frontend -checks='-*,grpc-leak-stream-deadline' --fix %t.plain.cpp -- %grpc_flags > /dev/null 2>&1
// RUN: diff %s %t.plain.cpp
//
// RUN: %check_grpc_leak -check-suffix=SECONDS --fix-notes %s grpc-leak-stream-deadline %t.sec \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.FixItTimeoutSeconds: 5}}" -- -- %grpc_flags

#include <memory>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

int Count(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = stub.ServerStream(&ctx, req);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: streaming RPC 'ServerStream' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // The note that carries the fix-it says what it does (clangd makes it the
  // quick fix's title):
  // CHECK-MESSAGES: :[[@LINE-4]]:3: note: set a 30 s deadline on 'ctx'{{$}}
  // CHECK-FIXES: {{^}}  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));{{$}}
  // CHECK-FIXES-NEXT: {{^}}  auto reader = stub.ServerStream(&ctx, req);{{$}}
  // CHECK-FIXES-SECONDS: {{^}}  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));{{$}}
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return reader->Finish().ok() ? n : -1;
}

// Through a smart pointer, inside a nested block.
void Nested(demo::Demo::Stub &stub, bool go) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (go) {
    auto stream = stub.Bidi(ctx.get());
    // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
    // CHECK-MESSAGES: :[[@LINE-2]]:5: note: set a 30 s deadline on 'ctx'{{$}}
    // CHECK-FIXES: {{^}}    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));{{$}}
    // CHECK-FIXES-NEXT: {{^}}    auto stream = stub.Bidi(ctx.get());{{$}}
    stream->Finish();
  }
}

// A deadline already set on one path: an inserted one would replace it
// there, so no fix is offered; the warning stays.
void SetOnOnePath(demo::Demo::Stub &stub, bool interactive) {
  grpc::ClientContext ctx;
  if (interactive)
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto stream = stub.Bidi(&ctx);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-FIXES: {{^}}  auto stream = stub.Bidi(&ctx);{{$}}
  // CHECK-FIXES-NOT: {{^}}  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));{{$}}
}

// A context that is not in scope before the statement: no fix is offered
// (a member's deadline belongs in its class).
class Watch {
public:
  void Start(demo::Demo::Stub &stub) { stream_ = stub.Bidi(&ctx_); }
  // CHECK-MESSAGES: :[[@LINE-1]]:55: warning: streaming RPC 'Bidi' is started on 'ctx_' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-FIXES: {{^}}  void Start(demo::Demo::Stub &stub) { stream_ = stub.Bidi(&ctx_); }{{$}}
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};
