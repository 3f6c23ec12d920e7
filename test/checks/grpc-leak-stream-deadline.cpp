// RUN: %check_grpc_leak %s grpc-leak-stream-deadline %t \
// RUN:   -config="{CheckOptions: {grpc-leak-stream-deadline.FixItTimeoutSeconds: 0}}" -- -- %grpc_flags
//
// (The fix-it is tested in grpc-leak-stream-deadline-fixit.cpp.)
//
// A streaming RPC must not start on a local ClientContext that has no
// deadline on some path to the call. Real gRPC 1.51 headers; stubs generated
// by protoc + grpc_cpp_plugin from test/protos/demo.proto and from gRPC's own
// health.proto (grpc-proto package).

#include <chrono>
#include <memory>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

using Clock = std::chrono::system_clock;
static Clock::time_point In(int Seconds) {
  return Clock::now() + std::chrono::seconds(Seconds);
}

// ===== Every way gRPC 1.51 starts a stream, without a deadline ==============

int SyncServerStream(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = stub.ServerStream(&ctx, req);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'ServerStream' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return reader->Finish().ok() ? n : -1;
}

void SyncClientStream(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  demo::Resp resp;
  auto writer = stub.ClientStream(&ctx, &resp);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'ClientStream' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  writer->WritesDone();
  writer->Finish();
}

void SyncBidi(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  auto stream = stub.Bidi(&ctx);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-3]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  stream->WritesDone();
  stream->Finish();
}

// gRPC's own health service: Watch is server-streaming.
void HealthWatch(grpc::health::v1::Health::Stub &health) {
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  auto watch = health.Watch(&ctx, req);
  // CHECK-NOTES: :[[@LINE-1]]:23: warning: streaming RPC 'Watch' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  grpc::health::v1::HealthCheckResponse resp;
  while (watch->Read(&resp)) {
  }
}

// Async and prepared-async streams: the stub call creates the call and reads
// the deadline, so it must be set before it, not just before StartCall().
void AsyncBidi(demo::Demo::Stub &stub, grpc::CompletionQueue *cq) {
  grpc::ClientContext ctx;
  auto stream = stub.AsyncBidi(&ctx, cq, reinterpret_cast<void *>(1));
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'AsyncBidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-3]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}
void PreparedServerStream(demo::Demo::Stub &stub, grpc::CompletionQueue *cq) {
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = stub.PrepareAsyncServerStream(&ctx, req, cq);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'PrepareAsyncServerStream' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  ctx.set_deadline(In(5));
  // CHECK-NOTES: :[[@LINE-1]]:7: note: a deadline set after the RPC has started has no effect on it
  reader->StartCall(reinterpret_cast<void *>(1));
}

// The generic stub.
void Generic(grpc::GenericStub &stub, grpc::CompletionQueue *cq) {
  grpc::ClientContext ctx;
  auto call = stub.PrepareCall(&ctx, "/demo.Demo/Bidi", cq);
  // CHECK-NOTES: :[[@LINE-1]]:20: warning: streaming RPC 'PrepareCall' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-3]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  call->StartCall(reinterpret_cast<void *>(1));
}

// The callback API: a bidi reactor started on a local context.
class Chat : public grpc::ClientBidiReactor<demo::Req, demo::Resp> {
public:
  void Begin(demo::Demo::Stub *stub) {
    grpc::ClientContext local;
    stub->async()->Bidi(&local, this);
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: streaming RPC 'Bidi' is started on 'local' with no deadline set on some path to it [grpc-leak-stream-deadline]
    // CHECK-NOTES: :[[@LINE-3]]:25: note: 'local' is declared here; call 'set_deadline' on it before the RPC starts
    StartCall();
  }
};

// Set on one branch only.
void OneBranch(demo::Demo::Stub &stub, bool interactive) {
  grpc::ClientContext ctx;
  if (interactive)
    ctx.set_deadline(In(1));
  auto stream = stub.Bidi(&ctx);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-5]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  stream->Finish();
}

// A helper that only adds metadata does not bound the call.
static void AddAuth(grpc::ClientContext &ctx) { ctx.AddMetadata("authorization", "t"); }
void HelperWithoutDeadline(demo::Demo::Stub &stub) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  AddAuth(*ctx);
  auto stream = stub.Bidi(ctx.get());
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:8: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}

// Through a shared_ptr (get() returns element_type*) and a type alias.
void SharedContext(demo::Demo::Stub &stub) {
  auto ctx = std::make_shared<grpc::ClientContext>();
  auto stream = stub.Bidi(ctx.get());
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-3]]:8: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}
using Context = grpc::ClientContext;
void AliasedContext(demo::Demo::Stub &stub) {
  Context ctx;
  auto stream = stub.Bidi(&ctx);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-3]]:11: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}

// A child of a server call that turned deadline propagation off.
void NoPropagation(demo::Demo::Stub &stub, grpc::ServerContext &server) {
  auto ctx = grpc::ClientContext::FromServerContext(
      server, grpc::PropagationOptions().disable_deadline_propagation());
  auto stream = stub.Bidi(ctx.get());
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'Bidi' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:8: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
}

// ===== Bounded contexts: not reported ======================================

void SetDirectly(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(30));
  auto stream = stub.Bidi(&ctx);
  stream->Finish();
}

void SetOnBothBranches(demo::Demo::Stub &stub, bool interactive) {
  grpc::ClientContext ctx;
  if (interactive)
    ctx.set_deadline(In(1));
  else
    ctx.set_deadline(In(60));
  auto stream = stub.Bidi(&ctx);
  stream->Finish();
}

// A deadline as gpr_timespec converts too.
void SetAsTimespec(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                gpr_time_from_seconds(5, GPR_TIMESPAN)));
  auto stream = stub.Bidi(&ctx);
  stream->Finish();
}

// Set by a helper of this file, directly or two calls down.
static void ApplyTimeout(grpc::ClientContext *ctx) { ctx->set_deadline(In(10)); }
static void Configure(grpc::ClientContext &ctx) {
  ctx.AddMetadata("k", "v");
  ApplyTimeout(&ctx);
}
void SetByHelper(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  Configure(ctx);
  auto stream = stub.Bidi(&ctx);
  stream->Finish();
}

// Set by a function we cannot see into: it may set the deadline.
void ConfigureElsewhere(grpc::ClientContext *ctx);
void SetByUnknownFunction(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  ConfigureElsewhere(&ctx);
  auto stream = stub.Bidi(&ctx);
  stream->Finish();
}

// Through a smart pointer.
void OwnedContext(demo::Demo::Stub &stub) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(In(3));
  auto stream = stub.Bidi(ctx.get());
  stream->Finish();
}

// A child of a server call inherits its deadline.
class Frontend final : public demo::Demo::Service {
  grpc::Status ServerStream(grpc::ServerContext *server, const demo::Req *req,
                            grpc::ServerWriter<demo::Resp> *out) override {
    auto ctx = grpc::ClientContext::FromServerContext(*server);
    auto reader = backend_->ServerStream(ctx.get(), *req);
    demo::Resp resp;
    while (reader->Read(&resp))
      out->Write(resp);
    return reader->Finish();
  }
  std::unique_ptr<demo::Demo::Stub> backend_;
};

// A context received as a parameter is the caller's responsibility.
void ContextFromCaller(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  auto stream = stub.Bidi(ctx);
  stream->Finish();
}

// Member contexts (call-data, reactors, watchers) are bounded by their class:
// a constructor or any method setting the deadline or cancelling the call.
class Watcher {
public:
  void Start(demo::Demo::Stub &stub) { stream_ = stub.Bidi(&ctx_); }
  // CHECK-NOTES: :[[@LINE-1]]:55: warning: streaming RPC 'Bidi' is started on 'ctx_' with no deadline set on some path to it [grpc-leak-stream-deadline]
  grpc::ClientContext ctx_;
  // CHECK-NOTES: :[[@LINE-1]]:23: note: 'ctx_' is a member of 'Watcher'; no method of 'Watcher' sets a deadline on it or cancels it without waiting for the peer
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

class BoundedInConstructor : public grpc::ClientBidiReactor<demo::Req, demo::Resp> {
public:
  explicit BoundedInConstructor(demo::Demo::Stub *stub) {
    ctx_.set_deadline(In(60));
    stub->async()->Bidi(&ctx_, this);
    StartCall();
  }
  void OnDone(const grpc::Status &) override { delete this; }

private:
  grpc::ClientContext ctx_;
};

class CancelledOnStop {
public:
  void Start(demo::Demo::Stub &stub) { stream_ = stub.Bidi(&ctx_); }
  void Stop() { ctx_.TryCancel(); }

private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

// A method defined in another file may set it: not judged.
class DefinedElsewhere {
public:
  void Prepare();
  void Start(demo::Demo::Stub &stub) { stream_ = stub.Bidi(&ctx_); }

private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

// The async client's call-data shape: the deadline is set on the member
// right before the call, in the same function.
struct AsyncCall {
  grpc::ClientContext context;
  demo::Resp reply;
  grpc::Status status;
};
void AsyncCallData(demo::Demo::Stub &stub, grpc::CompletionQueue *cq) {
  auto *call = new AsyncCall;
  call->context.set_deadline(In(5));
  auto reader = stub.AsyncClientStream(&call->context, &call->reply, cq, call);
}

// A local watch stream ended by TryCancel() from another thread.
#include <thread>
void WatchUntilStopped(demo::Demo::Stub &stub, const bool &stop) {
  grpc::ClientContext ctx;
  std::thread canceller([&] {
    while (!stop) {
    }
    ctx.TryCancel();
  });
  auto stream = stub.Bidi(&ctx);
  stream->Finish();
  canceller.join();
}

// A context captured by a lambda: its deadline may be set before the lambda
// runs, in the enclosing function; not judged.
void CapturedByLambda(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5));
  auto start = [&] { return stub.Bidi(&ctx); };
  auto stream = start();
}

// A pointer member points at a context someone else owns.
class Borrower {
public:
  explicit Borrower(grpc::ClientContext *ctx) : ctx_(ctx) {}
  void Start(demo::Demo::Stub &stub) { stream_ = stub.Bidi(ctx_); }

private:
  grpc::ClientContext *ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

// A member child of a server call inherits its deadline.
class Relay {
public:
  void Begin(grpc::ServerContext &server, demo::Demo::Stub &stub) {
    ctx_ = grpc::ClientContext::FromServerContext(server);
    stream_ = stub.Bidi(ctx_.get());
  }

private:
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

// Unary calls are only checked with CheckUnary (see the options test).
void UnaryCall(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  stub.Unary(&ctx, req, &resp);
}

// The user's own judgement wins.
void WatchForever(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  auto stream = stub.Bidi(&ctx); // NOLINT(grpc-leak-stream-deadline): cancelled by Stop()
  stream->Finish();
}
