// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-blocking-reaction %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=USER %s grpc-leak-blocking-reaction %t \
// RUN:   -config="{CheckOptions: {grpc-leak-blocking-reaction.BlockingFunctions: '::store::Flush;Queue::Pop'}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOHANDLERS %s grpc-leak-blocking-reaction %t \
// RUN:   -config="{CheckOptions: {grpc-leak-blocking-reaction.CheckCallbackHandlers: false, grpc-leak-blocking-reaction.CheckCompletionCallbacks: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=SHALLOW %s grpc-leak-blocking-reaction %t \
// RUN:   -config="{CheckOptions: {grpc-leak-blocking-reaction.CallDepth: 0}}" -- -- %grpc_flags

#include <chrono>
#include <thread>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

namespace store {
// Writes everything buffered to disk: blocks, but the check cannot tell
// (defined in another file).
void Flush();
struct Queue {
  demo::Req Pop(); // waits for the next item
};
} // namespace store

// BlockingFunctions: the user's own blocking functions, by qualified name or
// by a name's last components.
class Journal final : public grpc::ServerReadReactor<demo::Req> {
 public:
  explicit Journal(store::Queue *queue) : queue_(queue) { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    store::Flush();
    // CHECK-MESSAGES-USER: :[[@LINE-1]]:5: warning: 'Flush' blocks a gRPC callback thread in reaction 'OnReadDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES-USER: :[[@LINE-7]]:8: note: 'OnReadDone' is a reaction; gRPC runs it on its callback threads
    StartRead(&req_);
  }
  void OnCancel() override {
    req_ = queue_->Pop();
    // CHECK-MESSAGES-USER: :[[@LINE-1]]:20: warning: 'Pop' blocks a gRPC callback thread in reaction 'OnCancel'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES-USER: :[[@LINE-3]]:8: note: 'OnCancel' is a reaction; gRPC runs it on its callback threads
  }
  void OnDone() override { delete this; }

 private:
  store::Queue *queue_;
  demo::Req req_;
};

// CheckCallbackHandlers, CheckCompletionCallbacks: handlers and completion
// callbacks can be left out (reactions are always judged).
class Slow final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx,
                                  const demo::Req *, demo::Resp *) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: 'sleep_for' blocks a gRPC callback thread in callback service handler 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-4]]:29: note: 'Unary' is a callback service handler; gRPC runs it on its callback threads
    // CHECK-MESSAGES-USER: :[[@LINE-3]]:5: warning: 'sleep_for' blocks a gRPC callback thread in callback service handler 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES-SHALLOW: :[[@LINE-4]]:5: warning: 'sleep_for' blocks a gRPC callback thread in callback service handler 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    auto *reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};
void Fetch(demo::Demo::Stub *stub, grpc::ClientContext *ctx, const demo::Req *req,
           demo::Resp *resp) {
  stub->async()->Unary(ctx, req, resp, [](grpc::Status) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: 'sleep_for' blocks a gRPC callback thread in the completion callback of 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-3]]:18: note: the callback passed to 'Unary' here runs on gRPC's callback threads
    // CHECK-MESSAGES-USER: :[[@LINE-3]]:5: warning: 'sleep_for' blocks a gRPC callback thread in the completion callback of 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES-SHALLOW: :[[@LINE-4]]:5: warning: 'sleep_for' blocks a gRPC callback thread in the completion callback of 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
  });
}

// CallDepth: how many calls away from the reaction to look; 0 is the
// reaction's own body.
static void Backoff() {
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'sleep_for' blocks a gRPC callback thread in reaction 'OnDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
  // CHECK-MESSAGES-DEFAULT: :[[@LINE+6]]:48: note: 'Backoff' is called here
  // CHECK-MESSAGES-DEFAULT: :[[@LINE+5]]:8: note: 'OnDone' is a reaction; gRPC runs it on its callback threads
  // CHECK-MESSAGES-USER: :[[@LINE-4]]:3: warning: 'sleep_for' blocks a gRPC callback thread in reaction 'OnDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
  // CHECK-MESSAGES-NOHANDLERS: :[[@LINE-5]]:3: warning: 'sleep_for' blocks a gRPC callback thread in reaction 'OnDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
}
class Retrier final : public grpc::ClientUnaryReactor {
  void OnDone(const grpc::Status &) override { Backoff(); }
};
