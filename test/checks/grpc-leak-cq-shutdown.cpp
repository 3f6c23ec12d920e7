// RUN: %check_grpc_leak %s grpc-leak-cq-shutdown %t -- -- %grpc_flags
//
// grpc::CompletionQueue lifecycles: polled but never shut down; shut down
// but not drained before it is destroyed; shut down before its server.
// Real gRPC 1.51 headers and generated stubs.

#include <chrono>
#include <memory>
#include <thread>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// ===== Reported ==============================================================

// The widely copied async server shape: shut down, never drained.
class AsyncServer {
public:
  void Run(demo::Demo::AsyncService *service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
  }
  ~AsyncServer() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    cq_->Shutdown();
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: completion queue 'cq_' is shut down here but not drained before it is destroyed; call Next() until it returns false (events left in it abort the process) [grpc-leak-cq-shutdown]
  }
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'cq_' is destroyed here

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};

// The queue shut down before the server that still enqueues on it.
class WrongOrder {
public:
  ~WrongOrder() {
    cq_->Shutdown();
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: completion queue 'cq_' is shut down before the server that uses it; shut the server down first, then the queue, then drain it [grpc-leak-cq-shutdown]
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    // CHECK-NOTES: :[[@LINE-1]]:14: note: the server is shut down here, after its queue
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};

// A poller thread whose queue nobody shuts down: join() hangs.
class Poller {
public:
  Poller()
      : thread_([this] {
          void *tag;
          bool ok;
          while (cq_.Next(&tag, &ok)) {
            // CHECK-NOTES: :[[@LINE-1]]:22: warning: completion queue 'cq_' is polled here but never shut down; Next() will never return false, so this loop cannot end and a thread joining it hangs [grpc-leak-cq-shutdown]
            // CHECK-NOTES: :[[@LINE+7]]:25: note: 'cq_' is declared here; call Shutdown() on it when stopping, then drain it
          }
        }) {}
  ~Poller() { thread_.join(); }
  grpc::CompletionQueue *cq() { return &cq_; }

private:
  grpc::CompletionQueue cq_;
  std::thread thread_;
};

// The async client's poller: RPCs post tags on the queue, nothing shuts it
// down (handing the queue to a stub does not).
class AsyncClient {
public:
  void Send(demo::Demo::Stub &stub, grpc::ClientContext *ctx, const demo::Req &req) {
    auto reader = stub.PrepareAsyncUnary(ctx, req, &cq_);
    reader->StartCall();
  }
  void Poll() {
    void *tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
      // CHECK-NOTES: :[[@LINE-1]]:16: warning: completion queue 'cq_' is polled here but never shut down; Next() will never return false, so this loop cannot end and a thread joining it hangs [grpc-leak-cq-shutdown]
      // CHECK-NOTES: :[[@LINE+5]]:25: note: 'cq_' is declared here; call Shutdown() on it when stopping, then drain it
    }
  }

private:
  grpc::CompletionQueue cq_;
};

// A local queue shut down on the way out, never drained.
void LocalShutdown(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  demo::Req req;
  auto reader = stub.AsyncUnary(&ctx, req, &cq);
  cq.Shutdown();
  // CHECK-NOTES: :[[@LINE-1]]:6: warning: completion queue 'cq' is shut down here but not drained before it is destroyed; call Next() until it returns false (events left in it abort the process) [grpc-leak-cq-shutdown]
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'cq' is destroyed here

// ===== Not reported ==========================================================

// Server, then queue, then drain.
class GoodServer {
public:
  ~GoodServer() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    cq_->Shutdown();
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};

// The poller thread drains it; it is joined after the shutdown.
class GoodPoller {
public:
  GoodPoller()
      : thread_([this] {
          void *tag;
          bool ok;
          while (cq_.Next(&tag, &ok)) {
          }
        }) {}
  ~GoodPoller() {
    cq_.Shutdown();
    thread_.join();
  }

private:
  grpc::CompletionQueue cq_;
  std::thread thread_;
};

// The drain loop written with AsyncNext.
void DrainWithAsyncNext(grpc::CompletionQueue &shared) {
  grpc::CompletionQueue cq;
  cq.Shutdown();
  void *tag;
  bool ok;
  while (cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now()) !=
         grpc::CompletionQueue::SHUTDOWN) {
  }
}

// The official async client: every tag consumed, no Shutdown() needed.
bool AsyncClient(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.AsyncUnary(&ctx, req, &cq);
  rpc->Finish(&resp, &status, reinterpret_cast<void *>(1));
  void *tag;
  bool ok;
  return cq.Next(&tag, &ok) && ok && status.ok();
}

// Shut down and drained by a helper; a stop method the destructor calls.
static void ShutdownAndDrain(grpc::CompletionQueue *cq) {
  cq->Shutdown();
  void *tag;
  bool ok;
  while (cq->Next(&tag, &ok)) {
  }
}
class StoppedByHelper {
public:
  void Poll() {
    void *tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }
  ~StoppedByHelper() { ShutdownAndDrain(&cq_); }

private:
  grpc::CompletionQueue cq_;
};

// A queue owned elsewhere (a pointer member): its owner's concern.
class Borrowed {
public:
  void Poll() {
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  grpc::CompletionQueue *cq_ = nullptr;
};

// A queue reached through a structured binding is part of another object
// (here the caller's): its owner shuts it down.
struct QueueAndCount {
  grpc::CompletionQueue cq;
  int count = 0;
};
void PollBound(QueueAndCount &state) {
  auto &[cq, count] = state;
  void *tag;
  bool ok;
  while (cq.Next(&tag, &ok))
    ++count;
}
