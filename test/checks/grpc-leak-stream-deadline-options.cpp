// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-stream-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.FixItTimeoutSeconds: 0}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=UNARY %s grpc-leak-stream-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.CheckUnary: true, grpc-leak-stream-deadline.FixItTimeoutSeconds: 0}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=SETTER %s grpc-leak-stream-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.DeadlineSetterFunctions: '^Stamp$', grpc-leak-stream-deadline.FixItTimeoutSeconds: 0}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=DISTRUST %s grpc-leak-stream-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.TrustServerContextPropagation: false, grpc-leak-stream-deadline.FixItTimeoutSeconds: 0}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=PARAMS %s grpc-leak-stream-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.IgnoreContextParameters: false, grpc-leak-stream-deadline.FixItTimeoutSeconds: 0}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOCANCEL %s grpc-leak-stream-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.TreatTryCancelAsBounded: false, grpc-leak-stream-deadline.FixItTimeoutSeconds: 0}}" -- -- %grpc_flags
//
// FixItTimeoutSeconds is 0 where fixes do not matter here: they are tested
// in grpc-leak-stream-deadline-fixit.cpp.

#include <thread>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// CheckUnary: unary calls are reported too.
void Unary(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  stub.Unary(&ctx, req, &resp);
  // CHECK-MESSAGES-UNARY: :[[@LINE-1]]:8: warning: RPC 'Unary' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-UNARY: :[[@LINE-5]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}

// DeadlineSetterFunctions: a helper whose body we see but which sets the
// deadline in a way we do not model (here: through a function pointer).
static void (*g_apply)(grpc::ClientContext *);
static void Stamp(grpc::ClientContext *ctx) { g_apply(ctx); }
void Stamped(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Stamp(&ctx);
  auto stream = stub.Bidi(&ctx);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  // CHECK-MESSAGES-UNARY: :[[@LINE-3]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-UNARY: :[[@LINE-6]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  // CHECK-MESSAGES-DISTRUST: :[[@LINE-5]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-DISTRUST: :[[@LINE-8]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  // CHECK-MESSAGES-PARAMS: :[[@LINE-7]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-NOCANCEL: :[[@LINE-8]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
}

// TrustServerContextPropagation=false: an inherited deadline may be infinite.
void Child(demo::Demo::Stub &stub, grpc::ServerContext &server) {
  auto ctx = grpc::ClientContext::FromServerContext(server);
  auto stream = stub.Bidi(ctx.get());
  // CHECK-MESSAGES-DISTRUST: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-DISTRUST: :[[@LINE-3]]:8: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}

// IgnoreContextParameters=false: a context from the caller is judged too.
void FromCaller(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  auto stream = stub.Bidi(ctx);
  // CHECK-MESSAGES-PARAMS: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-PARAMS: :[[@LINE-3]]:62: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}

// TreatTryCancelAsBounded=false: cancelling is not a deadline, not even from
// a watchdog thread.
void CancelledElsewhere(demo::Demo::Stub &stub, const bool &stop) {
  grpc::ClientContext ctx;
  std::thread watchdog([&] {
    while (!stop) {
    }
    ctx.TryCancel();
  });
  auto stream = stub.Bidi(&ctx);
  // CHECK-MESSAGES-NOCANCEL: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-MESSAGES-NOCANCEL: :[[@LINE-8]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  watchdog.join();
}
