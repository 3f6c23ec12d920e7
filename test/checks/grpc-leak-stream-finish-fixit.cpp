// The fix-it rides on a note: --fix-notes applies it, plain --fix does not.
// The fixed file compiles, and the half-close finding is gone from it.
//
// RUN: %check_grpc_leak --fix-notes %s grpc-leak-stream-finish %t -- -- %grpc_flags
// RUN: clang++-22 -fsyntax-only %grpc_flags %t.cpp
// RUN: %tidy_frontend -checks='-*,grpc-leak-stream-finish' %t.cpp -- %grpc_flags 2>&1 | FileCheck %s --check-prefix=AFTER --implicit-check-not=warning:
// The cases that get no fix are still reported after fixing:
// AFTER-DAG: warning: stream 'writer' started by 'ClientStream' can reach Finish() without WritesDone(); {{.*}}
// AFTER-DAG: warning: stream 'stream' started by 'Bidi' can reach Finish() without WritesDone(); {{.*}}
// AFTER-DAG: warning: stream 'stream' started by 'Bidi' can go out of scope without Finish(); {{.*}}
// AFTER-DAG: warning: stream 'async' started by 'PrepareAsyncBidi' can reach Finish() without WritesDone(); {{.*}}
//
// RUN: cp %s %t.plain.cpp
// RUN: %tidy_frontend -checks='-*,grpc-leak-stream-finish' --fix %t.plain.cpp -- %grpc_flags > /dev/null 2>&1
// RUN: diff %s %t.plain.cpp

#include <string>
#include <vector>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

grpc::Status Upload(demo::Demo::Stub &stub, grpc::ClientContext *ctx,
                    const std::vector<demo::Req> &reqs) {
  demo::Resp resp;
  auto writer = stub.ClientStream(ctx, &resp);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'writer' started by 'ClientStream' can reach Finish() without WritesDone(); {{.*}} [grpc-leak-stream-finish]
  for (const demo::Req &r : reqs)
    if (!writer->Write(r))
      break;
  return writer->Finish();
  // CHECK-FIXES: {{^}}  writer->WritesDone();{{$}}
  // CHECK-FIXES-NEXT: {{^}}  return writer->Finish();{{$}}
}

// The status kept in a variable, tested with ok(), in a nested block.
bool Chat(demo::Demo::Stub &stub, grpc::ClientContext *ctx, bool go) {
  if (go) {
    auto stream = stub.Bidi(ctx);
    // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: stream 'stream' started by 'Bidi' can reach Finish() without WritesDone(); {{.*}} [grpc-leak-stream-finish]
    stream->Write(demo::Req());
    demo::Resp resp;
    while (stream->Read(&resp)) {
    }
    bool ok = stream->Finish().ok();
    // CHECK-FIXES: {{^}}    stream->WritesDone();{{$}}
    // CHECK-FIXES-NEXT: {{^}}    bool ok = stream->Finish().ok();{{$}}
    return ok;
  }
  return false;
}

// Half-closed on one path already: a second WritesDone() on that path
// would be an error, so no fix; the warning stays.
grpc::Status OnePath(demo::Demo::Stub &stub, grpc::ClientContext *ctx, bool batch) {
  demo::Resp resp;
  auto writer = stub.ClientStream(ctx, &resp);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'writer' started by 'ClientStream' can reach Finish() without WritesDone(); {{.*}} [grpc-leak-stream-finish]
  if (batch)
    writer->WritesDone();
  return writer->Finish();
  // CHECK-FIXES: {{^}}  if (batch){{$}}
  // CHECK-FIXES-NEXT: {{^}}    writer->WritesDone();{{$}}
  // CHECK-FIXES-NEXT: {{^}}  return writer->Finish();{{$}}
}

// Finish() evaluated only on one side of `&&`: no single place fixes it.
bool Short(demo::Demo::Stub &stub, grpc::ClientContext *ctx, bool wanted) {
  auto stream = stub.Bidi(ctx);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: stream 'stream' started by 'Bidi' can go out of scope without Finish(); {{.*}} [grpc-leak-stream-finish]
  // CHECK-MESSAGES: :[[@LINE-2]]:22: warning: stream 'stream' started by 'Bidi' can reach Finish() without WritesDone(); {{.*}} [grpc-leak-stream-finish]
  stream->Write(demo::Req());
  return wanted && stream->Finish().ok();
  // CHECK-FIXES: {{^}}  stream->Write(demo::Req());{{$}}
  // CHECK-FIXES-NEXT: {{^}}  return wanted && stream->Finish().ok();{{$}}
}

// Asynchronous: WritesDone(tag) needs a tag and a queue the fix cannot
// choose; no fix.
void Async(demo::Demo::Stub &stub, grpc::ClientContext *ctx, grpc::CompletionQueue *cq,
           grpc::Status *status) {
  auto async = stub.PrepareAsyncBidi(ctx, cq);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: stream 'async' started by 'PrepareAsyncBidi' can reach Finish() without WritesDone(); {{.*}} [grpc-leak-stream-finish]
  async->StartCall(nullptr);
  async->Finish(status, nullptr);
  // CHECK-FIXES: {{^}}  async->StartCall(nullptr);{{$}}
  // CHECK-FIXES-NEXT: {{^}}  async->Finish(status, nullptr);{{$}}
}
