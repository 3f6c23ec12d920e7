// RUN: %check_grpc_leak %s grpc-leak-context-lifetime %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=FIX --fix-notes %s grpc-leak-context-lifetime %t.fix -- -- %grpc_flags
// RUN: clang++-22 -fsyntax-only %grpc_flags %t.fix.cpp
// RUN: %tidy_frontend -checks='-*,grpc-leak-context-lifetime' %t.fix.cpp -- %grpc_flags 2>&1 | FileCheck %s --check-prefix=AFTER
//
// A grpc::ClientContext (or an object whose address an RPC keeps) that can
// be destroyed before the async or callback RPC using it completes; one
// context used for two RPCs; an async call member declared before the
// context member it was started on, with a fix-it note that moves the
// context up where that is safe: the FIX run applies it, the fixed file
// compiles, and the finding it fixed is gone while the others stay:
// AFTER-NOT: 'reader_' holds an async RPC
// AFTER: 'stream_' holds an async RPC started on ClientContext 'ctx_'
// AFTER: 'stream' holds an async RPC started on ClientContext 'ctx'

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <absl/synchronization/notification.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

using namespace std::chrono_literals;

// ===== (a) Locals that can die before the RPC completes ======================

// Fire and forget: the call is still running when the function returns, and
// its completion writes into the dead stack frame.
void Prefetch(demo::Demo::Stub *stub, const std::string &name) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 1s);
  demo::Req req;
  req.set_name(name);
  demo::Resp resp;
  stub->async()->Unary(&ctx, &req, &resp, [](grpc::Status) {});
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: ClientContext 'ctx' can be destroyed before the callback RPC 'Unary' started on it completes [grpc-leak-context-lifetime]
  // CHECK-MESSAGES: :[[@LINE+1]]:1: note: reaches the end of the function without waiting for the RPC to complete
}

// An async call whose queue another thread polls: returning frees the
// context the poller's tag still refers to.
class Warmer {
 public:
  void Warm(const demo::Req &req) {
    grpc::ClientContext ctx;
    auto call = stub_->AsyncUnary(&ctx, req, &cq_);
    // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: ClientContext 'ctx' can be destroyed before the asynchronous RPC 'AsyncUnary' started on it completes [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE+2]]:3: note: reaches the end of the function without waiting for the RPC to complete
    call->Finish(&resp_, &status_, this);
  }

 private:
  std::unique_ptr<demo::Demo::Stub> stub_;
  grpc::CompletionQueue cq_;
  demo::Resp resp_;
  grpc::Status status_;
};

// The error path leaves before the wait.
bool Fetch(demo::Demo::Stub *stub, const demo::Req &req, demo::Resp *resp,
           bool quick) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  std::promise<grpc::Status> done;
  stub->async()->Unary(ctx.get(), &req, resp,
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: ClientContext 'ctx' can be destroyed before the callback RPC 'Unary' started on it completes [grpc-leak-context-lifetime]
  // CHECK-MESSAGES: :[[@LINE+3]]:5: note: returns here without waiting for the RPC to complete
                       [&done](grpc::Status s) { done.set_value(s); });
  if (quick)
    return false;
  return done.get_future().get().ok();
}

// One context per item, but each dies at the end of its iteration; waiting
// after the loop is too late.
void FanOut(demo::Demo::Stub *stub, const std::vector<demo::Req> &reqs,
            std::vector<demo::Resp> &resps, absl::Notification &all_done) {
  for (size_t i = 0; i < reqs.size(); ++i) {
    grpc::ClientContext ctx;
    stub->async()->Unary(&ctx, &reqs[i], &resps[i], [](grpc::Status) {});
    // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: ClientContext 'ctx' can be destroyed before the callback RPC 'Unary' started on it completes [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE+1]]:3: note: 'ctx' is destroyed here, at the end of its scope, without waiting for the RPC to complete
  }
  all_done.WaitForNotification();
}

// The call state is on the heap, but Finish writes the status into a local
// and nothing waits for the tag.
struct PendingCall {
  grpc::ClientContext ctx;
  demo::Resp resp;
  std::unique_ptr<grpc::ClientAsyncResponseReader<demo::Resp>> reader;
};
void Cancel(demo::Demo::Stub *stub, grpc::CompletionQueue *cq,
            PendingCall *call, const demo::Req &req) {
  grpc::Status status;
  call->reader = stub->AsyncUnary(&call->ctx, req, cq);
  call->reader->Finish(&call->resp, &status, call);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'status' is passed by address to the asynchronous RPC 'AsyncUnary' and can be destroyed before the RPC completes [grpc-leak-context-lifetime]
  // CHECK-MESSAGES: :[[@LINE+2]]:1: note: reaches the end of the function without waiting for the RPC to complete
  call->ctx.TryCancel();
}

// A keep-alive stream started by the constructor; stopping it finishes the
// stream into a local status and shuts the queue down without waiting for
// the Finish tag (the completion writes the status after Stop returned).
class KeepAlive {
 public:
  KeepAlive(demo::Demo::Stub *stub) : stream_(stub->AsyncBidi(&ctx_, &cq_, this)) {}
  void Stop() {
    stream_->WritesDone(this);
    grpc::Status status;
    stream_->Finish(&status, this);
    // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: 'status' is passed by address to 'Finish' of an asynchronous call and can be destroyed before the operation completes [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE+2]]:3: note: reaches the end of the function without waiting for the RPC to complete
    cq_.Shutdown();
  }
  // The same, waiting for the tags first: not reported.
  void StopAndDrain() {
    stream_->WritesDone(this);
    grpc::Status status;
    stream_->Finish(&status, this);
    void *tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

 private:
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
};

// A client reactor on the stack whose constructor starts the call, and no
// wait for its OnDone.
class Lister final : public grpc::ClientReadReactor<demo::Resp> {
 public:
  Lister(demo::Demo::Stub *stub, const demo::Req &req) : req_(req) {
    ctx_.set_deadline(std::chrono::system_clock::now() + 5s);
    stub->async()->ServerStream(&ctx_, &req_, this);
    StartRead(&resp_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (ok)
      StartRead(&resp_);
  }
  void OnDone(const grpc::Status &status) override {
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

 private:
  grpc::ClientContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
};
void ListAndForget(demo::Demo::Stub *stub, const demo::Req &req) {
  Lister lister(stub, req);
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: client reactor 'lister' can be destroyed before its RPC completes and gRPC calls its OnDone [grpc-leak-context-lifetime]
  // CHECK-MESSAGES: :[[@LINE+1]]:1: note: reaches the end of the function without waiting for the RPC to complete
}

// ===== (b) One context for two RPCs ==========================================

// The context outlives the loop that uses it.
void PollPrices(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  for (int i = 0; i < 3; ++i) {
    demo::Req req;
    demo::Resp resp;
    stub.Unary(&ctx, req, &resp);
    // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: ClientContext 'ctx' is reused by RPC 'Unary' when the loop comes round again; a ClientContext must not be used for more than one RPC [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE-6]]:23: note: 'ctx' is declared here, outside the loop; create a new ClientContext for each RPC
  }
}

// Retrying a failed call on the context of the failed one.
grpc::Status GetWithRetry(demo::Demo::Stub &stub, const demo::Req &req,
                          demo::Resp *resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 2s);
  grpc::Status status = stub.Unary(&ctx, req, resp);
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE)
    status = stub.Unary(&ctx, req, resp);
    // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: RPC 'Unary' reuses ClientContext 'ctx', already used by an earlier RPC; a ClientContext must not be used for more than one RPC [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE-4]]:30: note: RPC 'Unary' is started on 'ctx' here
  return status;
}

// A member context for a stream that is restarted.
class Watcher {
 public:
  void Restart(const demo::Req &req) {
    reader_ = stub_->ServerStream(&ctx_, req);
    demo::Resp resp;
    while (reader_->Read(&resp)) {
    }
    reader_->Finish();
    reader_ = stub_->ServerStream(&ctx_, req);
    // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: RPC 'ServerStream' reuses ClientContext 'ctx_', already used by an earlier RPC; a ClientContext must not be used for more than one RPC [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE-7]]:22: note: RPC 'ServerStream' is started on 'ctx_' here
  }

 private:
  std::unique_ptr<demo::Demo::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<demo::Resp>> reader_;
};

// ===== (c) Async call members declared before their context ==================

// The call data of an async client: the reader is destroyed after the
// context that frees the call it lives in.
class UnaryCallData {
 public:
  UnaryCallData(demo::Demo::Stub *stub, const demo::Req &req,
                grpc::CompletionQueue *cq) {
    reader_ = stub->PrepareAsyncUnary(&context_, req, cq);
    // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: 'reader_' holds an async RPC started on ClientContext 'context_' but is declared before it, so it is destroyed after the context that frees the call; declare 'context_' first [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE+8]]:64: note: 'reader_' is declared here
    // CHECK-MESSAGES: :[[@LINE+9]]:23: note: declare 'context_' before 'reader_'
    reader_->StartCall();
    reader_->Finish(&reply_, &status_, this);
  }

 private:
  demo::Resp reply_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<demo::Resp>> reader_;
  grpc::Status status_;
  grpc::ClientContext context_; // the call's context
};
// CHECK-FIXES-FIX: demo::Resp reply_;
// CHECK-FIXES-FIX-NEXT: grpc::ClientContext context_; // the call's context
// CHECK-FIXES-FIX-NEXT: std::unique_ptr<grpc::ClientAsyncResponseReader<demo::Resp>> reader_;
// CHECK-FIXES-FIX-NEXT: grpc::Status status_;
// CHECK-FIXES-FIX-NEXT: };

// A bidi stream member started in a method, and an aggregate (no fix-it:
// brace initialisation depends on the order).
class Session {
 public:
  Session() = default;
  void Open(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    stream_ = stub->PrepareAsyncBidi(ctx_.get(), cq);
    // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: 'stream_' holds an async RPC started on ClientContext 'ctx_' but is declared before it, so it is destroyed after the context that frees the call; declare 'ctx_' first [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE+4]]:73: note: 'stream_' is declared here
  }

 private:
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
  std::unique_ptr<grpc::ClientContext> ctx_{new grpc::ClientContext};
};
struct Exchange {
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream;
  grpc::ClientContext ctx;
  void Open(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    stream = stub->PrepareAsyncBidi(&ctx, cq);
    // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: 'stream' holds an async RPC started on ClientContext 'ctx' but is declared before it, so it is destroyed after the context that frees the call; declare 'ctx' first [grpc-leak-context-lifetime]
    // CHECK-MESSAGES: :[[@LINE-5]]:73: note: 'stream' is declared here
  }
};

// ===== Not reported ==========================================================

// The official async client: Next on the call's own queue.
std::string SayHello(demo::Demo::Stub *stub, const std::string &name) {
  demo::Req req;
  req.set_name(name);
  demo::Resp reply;
  grpc::ClientContext context;
  grpc::CompletionQueue cq;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<demo::Resp>> rpc(
      stub->PrepareAsyncUnary(&context, req, &cq));
  rpc->StartCall();
  rpc->Finish(&reply, &status, (void *)1);
  void *got_tag;
  bool ok = false;
  cq.Next(&got_tag, &ok);
  return status.ok() ? reply.value() : "failed";
}

// The official callback client: a flag the callback sets guards the wait.
std::string SayHelloCallback(demo::Demo::Stub *stub, const std::string &name) {
  demo::Req req;
  req.set_name(name);
  demo::Resp reply;
  grpc::ClientContext context;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub->async()->Unary(&context, &req, &reply,
                       [&mu, &cv, &done, &status](grpc::Status s) {
                         status = std::move(s);
                         std::lock_guard<std::mutex> lock(mu);
                         done = true;
                         cv.notify_one();
                       });
  std::unique_lock<std::mutex> lock(mu);
  while (!done)
    cv.wait(lock);
  return status.ok() ? reply.value() : "failed";
}

// Call state on the heap, freed by the completion; a context owner the
// callback keeps alive.
struct CallState {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
};
void Detached(demo::Demo::Stub *stub) {
  auto *state = new CallState;
  stub->async()->Unary(&state->ctx, &state->req, &state->resp,
                       [state](grpc::Status) { delete state; });
  auto shared = std::make_shared<grpc::ClientContext>();
  auto req = std::make_shared<demo::Req>();
  auto resp = std::make_shared<demo::Resp>();
  stub->async()->Unary(shared.get(), req.get(), resp.get(),
                       [shared, req, resp](grpc::Status) {});
}

// A client reactor on the stack, waited for (the route guide's shape).
grpc::Status ListAll(demo::Demo::Stub *stub, const demo::Req &req) {
  Lister lister(stub, req);
  return lister.Await();
}

// A helper that drains the queue; a notification the callback sets.
void Drain(grpc::CompletionQueue *cq);
void DrainedByHelper(demo::Demo::Stub *stub, const demo::Req &req) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  demo::Resp resp;
  grpc::Status status;
  auto call = stub->AsyncUnary(&ctx, req, &cq);
  call->Finish(&resp, &status, nullptr);
  Drain(&cq);
}
void Notified(demo::Demo::Stub *stub, const demo::Req &req) {
  grpc::ClientContext ctx;
  demo::Resp resp;
  absl::Notification done;
  stub->async()->Unary(&ctx, &req, &resp, [&done](grpc::Status) { done.Notify(); });
  done.WaitForNotification();
}

// One context per RPC: declared in the loop body, or made anew.
void OnePerCall(demo::Demo::Stub &stub) {
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    demo::Req req;
    demo::Resp resp;
    stub.Unary(&ctx, req, &resp);
  }
  auto ctx = std::make_unique<grpc::ClientContext>();
  for (int i = 0; i < 3; ++i) {
    demo::Req req;
    demo::Resp resp;
    stub.Unary(ctx.get(), req, &resp);
    ctx = std::make_unique<grpc::ClientContext>();
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  for (int i = 0; i < 3; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    demo::Req req;
    demo::Resp resp;
    stub.Unary(contexts.back().get(), req, &resp);
  }
}

// Two starts on one context on different paths.
void EitherOr(demo::Demo::Stub &stub, bool stream) {
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  if (stream) {
    auto reader = stub.ServerStream(&ctx, req);
    reader->Finish();
  } else {
    stub.Unary(&ctx, req, &resp);
  }
}

// The context declared first; a synchronous stream (it only points at its
// context); a destructor that lets go of the stream first.
class Streamer {
 public:
  Streamer(demo::Demo::Stub *stub, grpc::CompletionQueue *cq)
      : stream_(stub->PrepareAsyncBidi(&context_, cq)) {}

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
};
class SyncChat {
 public:
  explicit SyncChat(demo::Demo::Stub *stub) { stream_ = stub->Bidi(&ctx_); }

 private:
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
  grpc::ClientContext ctx_;
};
class Careful {
 public:
  Careful(demo::Demo::Stub *stub, grpc::CompletionQueue *cq) {
    stream_ = stub->PrepareAsyncBidi(&ctx_, cq);
  }
  ~Careful() { stream_.reset(); }

 private:
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
  grpc::ClientContext ctx_;
};

// Suppressed.
void Quiet(demo::Demo::Stub *stub, const demo::Req &req, demo::Resp *resp) {
  grpc::ClientContext ctx;
  stub->async()->Unary(&ctx, &req, resp, [](grpc::Status) {}); // NOLINT(grpc-leak-context-lifetime)
}
