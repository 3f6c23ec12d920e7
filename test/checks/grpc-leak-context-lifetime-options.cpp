// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-context-lifetime %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=WAITS %s grpc-leak-context-lifetime %t \
// RUN:   -config="{CheckOptions: {grpc-leak-context-lifetime.WaitFunctions: '^AwaitReplies$'}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=ONLYORDER %s grpc-leak-context-lifetime %t \
// RUN:   -config="{CheckOptions: {grpc-leak-context-lifetime.CheckLocalLifetime: false, grpc-leak-context-lifetime.CheckReuse: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOORDER %s grpc-leak-context-lifetime %t \
// RUN:   -config="{CheckOptions: {grpc-leak-context-lifetime.CheckMemberOrder: false}}" -- -- %grpc_flags

#include <memory>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// A scheduler of the user's that waits for every reply it was told about;
// its body is seen, but how it waits is not (a poll of a flag set by a
// callback registered elsewhere).
struct Replies {
  int pending = 0;
  void Expect() { ++pending; }
};
inline bool AwaitReplies(Replies &replies) { return replies.pending == 0; }

// WaitFunctions: a call to a function whose name matches waits for the RPCs
// started before it.
void Broadcast(demo::Demo::Stub *stub, const demo::Req *req, demo::Resp *resp,
               Replies &replies) {
  grpc::ClientContext ctx;
  replies.Expect();
  stub->async()->Unary(&ctx, req, resp, [](grpc::Status) {});
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:18: warning: ClientContext 'ctx' can be destroyed before the callback RPC 'Unary' started on it completes [grpc-leak-context-lifetime]
  // CHECK-MESSAGES-DEFAULT: :[[@LINE+4]]:1: note: reaches the end of the function without waiting for the RPC to complete
  // CHECK-MESSAGES-NOORDER: :[[@LINE-3]]:18: warning: ClientContext 'ctx' can be destroyed before the callback RPC 'Unary' started on it completes [grpc-leak-context-lifetime]
  // CHECK-MESSAGES-NOORDER: :[[@LINE+2]]:1: note: reaches the end of the function without waiting for the RPC to complete
  AwaitReplies(replies);
}

// CheckReuse: off in ONLYORDER.
void Twice(demo::Demo::Stub &stub, const demo::Req &req, demo::Resp *resp) {
  grpc::ClientContext ctx;
  stub.Unary(&ctx, req, resp);
  stub.Unary(&ctx, req, resp);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:8: warning: RPC 'Unary' reuses ClientContext 'ctx', already used by an earlier RPC; a ClientContext must not be used for more than one RPC [grpc-leak-context-lifetime]
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-3]]:8: note: RPC 'Unary' is started on 'ctx' here
  // CHECK-MESSAGES-WAITS: :[[@LINE-3]]:8: warning: RPC 'Unary' reuses ClientContext 'ctx', already used by an earlier RPC; a ClientContext must not be used for more than one RPC [grpc-leak-context-lifetime]
  // CHECK-MESSAGES-WAITS: :[[@LINE-5]]:8: note: RPC 'Unary' is started on 'ctx' here
  // CHECK-MESSAGES-NOORDER: :[[@LINE-5]]:8: warning: RPC 'Unary' reuses ClientContext 'ctx', already used by an earlier RPC; a ClientContext must not be used for more than one RPC [grpc-leak-context-lifetime]
  // CHECK-MESSAGES-NOORDER: :[[@LINE-7]]:8: note: RPC 'Unary' is started on 'ctx' here
}

// CheckMemberOrder: off in NOORDER.
class Channelz {
 public:
  Channelz(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    stream_ = stub->PrepareAsyncServerStream(&ctx_, demo::Req(), cq);
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:21: warning: 'stream_' holds an async RPC started on ClientContext 'ctx_' but is declared before it, so it is destroyed after the context that frees the call; declare 'ctx_' first [grpc-leak-context-lifetime]
    // CHECK-MESSAGES-DEFAULT: :[[@LINE+8]]:56: note: 'stream_' is declared here
    // CHECK-MESSAGES-WAITS: :[[@LINE-3]]:21: warning: 'stream_' holds an async RPC started on ClientContext 'ctx_' but is declared before it, so it is destroyed after the context that frees the call; declare 'ctx_' first [grpc-leak-context-lifetime]
    // CHECK-MESSAGES-WAITS: :[[@LINE+6]]:56: note: 'stream_' is declared here
    // CHECK-MESSAGES-ONLYORDER: :[[@LINE-5]]:21: warning: 'stream_' holds an async RPC started on ClientContext 'ctx_' but is declared before it, so it is destroyed after the context that frees the call; declare 'ctx_' first [grpc-leak-context-lifetime]
    // CHECK-MESSAGES-ONLYORDER: :[[@LINE+4]]:56: note: 'stream_' is declared here
  }

 private:
  std::unique_ptr<grpc::ClientAsyncReader<demo::Resp>> stream_;
  grpc::ClientContext ctx_;
};
