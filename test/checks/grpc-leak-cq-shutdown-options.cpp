// RUN: %check_grpc_leak -check-suffix=ALL %s grpc-leak-cq-shutdown %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOJOIN %s grpc-leak-cq-shutdown %t \
// RUN:   -config="{CheckOptions: {grpc-leak-cq-shutdown.CheckJoinOrder: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOABANDON %s grpc-leak-cq-shutdown %t \
// RUN:   -config="{CheckOptions: {grpc-leak-cq-shutdown.CheckAbandonedOperations: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOPOLLER %s grpc-leak-cq-shutdown %t \
// RUN:   -config="{CheckOptions: {grpc-leak-cq-shutdown.CheckPollerWithoutShutdown: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NODRAIN %s grpc-leak-cq-shutdown %t \
// RUN:   -config="{CheckOptions: {grpc-leak-cq-shutdown.CheckShutdownWithoutDrain: false, grpc-leak-cq-shutdown.CheckServerOrder: false}}" -- -- %grpc_flags
//
// Each kind of finding of grpc-leak-cq-shutdown is turned off by its own
// option; the others stay. NOLINT silences one line.

#include <chrono>
#include <memory>
#include <thread>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

static std::chrono::system_clock::time_point Soon() {
  return std::chrono::system_clock::now() + std::chrono::seconds(1);
}

class Poller {
public:
  void Start() {
    poller_ = std::thread([this] {
      void *tag;
      bool ok;
      while (cq_->Next(&tag, &ok)) {
      }
    });
  }
  void Stop() {
    poller_.join();
    // CHECK-MESSAGES-ALL: :[[@LINE-1]]:13: warning: this thread polls completion queue 'cq_' until it is shut down, but it is joined before 'cq_' is shut down; join() never returns [grpc-leak-cq-shutdown]
    // CHECK-MESSAGES-NOABANDON: :[[@LINE-2]]:13: warning: this thread polls completion queue 'cq_' until it is shut down
    // CHECK-MESSAGES-NOPOLLER: :[[@LINE-3]]:13: warning: this thread polls completion queue 'cq_' until it is shut down
    // CHECK-MESSAGES-NODRAIN: :[[@LINE-4]]:13: warning: this thread polls completion queue 'cq_' until it is shut down
    cq_->Shutdown();
  }

private:
  std::unique_ptr<grpc::CompletionQueue> cq_ = std::make_unique<grpc::CompletionQueue>();
  std::thread poller_;
};

class Forever {
public:
  void Run() {
    void *tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
    // CHECK-MESSAGES-ALL: :[[@LINE-2]]:16: warning: completion queue 'cq_' is polled here but never shut down
    // CHECK-MESSAGES-NOJOIN: :[[@LINE-3]]:16: warning: completion queue 'cq_' is polled here but never shut down
    // CHECK-MESSAGES-NOABANDON: :[[@LINE-4]]:16: warning: completion queue 'cq_' is polled here but never shut down
    // CHECK-MESSAGES-NODRAIN: :[[@LINE-5]]:16: warning: completion queue 'cq_' is polled here but never shut down
  }

private:
  grpc::CompletionQueue cq_;
};

bool Timed(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.AsyncUnary(&ctx, req, &cq);
  rpc->Finish(&resp, &status, nullptr);
  void *tag;
  bool ok;
  if (cq.AsyncNext(&tag, &ok, Soon()) == grpc::CompletionQueue::TIMEOUT)
    // CHECK-MESSAGES-ALL: :[[@LINE-1]]:10: warning: on a timeout of this AsyncNext(), completion queue 'cq' is destroyed
    // CHECK-MESSAGES-NOJOIN: :[[@LINE-2]]:10: warning: on a timeout of this AsyncNext(), completion queue 'cq' is destroyed
    // CHECK-MESSAGES-NOPOLLER: :[[@LINE-3]]:10: warning: on a timeout of this AsyncNext(), completion queue 'cq' is destroyed
    // CHECK-MESSAGES-NODRAIN: :[[@LINE-4]]:10: warning: on a timeout of this AsyncNext(), completion queue 'cq' is destroyed
    return false;
  return ok;
}

void ShutDownOnly(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(Soon());
  demo::Req req;
  auto reader = stub.AsyncUnary(&ctx, req, &cq);
  cq.Shutdown();
  // CHECK-MESSAGES-ALL: :[[@LINE-1]]:6: warning: completion queue 'cq' is shut down here but not drained before it is destroyed
  // CHECK-MESSAGES-NOJOIN: :[[@LINE-2]]:6: warning: completion queue 'cq' is shut down here but not drained before it is destroyed
  // CHECK-MESSAGES-NOABANDON: :[[@LINE-3]]:6: warning: completion queue 'cq' is shut down here but not drained before it is destroyed
  // CHECK-MESSAGES-NOPOLLER: :[[@LINE-4]]:6: warning: completion queue 'cq' is shut down here but not drained before it is destroyed
}

// Silenced: the same bug, NOLINT on the warning's line.
bool TimedSilenced(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.AsyncUnary(&ctx, req, &cq);
  rpc->Finish(&resp, &status, nullptr);
  void *tag;
  bool ok;
  if (cq.AsyncNext(&tag, &ok, Soon()) == grpc::CompletionQueue::TIMEOUT) // NOLINT(grpc-leak-cq-shutdown)
    return false;
  return ok;
}
