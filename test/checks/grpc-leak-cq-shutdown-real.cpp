// RUN: %check_grpc_leak %s grpc-leak-cq-shutdown %t -- -- %grpc_flags
//
// Completion-queue lifecycles in the shapes real gRPC C++ code gives them
// (docs/real-code.md): queues in a base class, server queues held by
// std::unique_ptr (alone or in a vector) and polled by threads through a
// pointer, stop methods that join before they shut down, pollers that leave
// on a flag, a local queue abandoned on an AsyncNext() timeout, and
// assertion macros around a single Next(). Real gRPC 1.51 headers and
// generated stubs.

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

static std::chrono::system_clock::time_point In(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

// ===== Reported ==============================================================

// An async server polls its unique_ptr<ServerCompletionQueue> from a thread
// that runs a method taking the queue by pointer; nothing shuts it down.
class PointerPoller {
public:
  void Run(demo::Demo::AsyncService *service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
    worker_ = std::thread(&PointerPoller::HandleRpcs, this, cq_.get());
  }
  ~PointerPoller() {
    server_->Shutdown(In(1000));
    worker_.join();
  }

private:
  void HandleRpcs(grpc::ServerCompletionQueue *cq) {
    void *tag;
    bool ok;
    while (cq->Next(&tag, &ok)) {
    }
    // CHECK-NOTES: :[[@LINE-2]]:16: warning: completion queue 'cq_' is polled here but never shut down; Next() will never return false, so this loop cannot end and a thread joining it hangs [grpc-leak-cq-shutdown]
    // CHECK-NOTES: :[[@LINE-14]]:15: note: 'HandleRpcs' runs here on 'cq_'
    // CHECK-NOTES: :[[@LINE+2]]:48: note: 'cq_' is declared here; call Shutdown() on it when stopping, then drain it
  }
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread worker_;
};

// One queue per thread, in a vector; the threads poll their element, and
// the destructor only shuts the server down.
class QueuePerThread {
public:
  void Run(demo::Demo::AsyncService *service, int threads) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    for (int i = 0; i < threads; ++i)
      cqs_.push_back(builder.AddCompletionQueue());
    server_ = builder.BuildAndStart();
    for (int i = 0; i < threads; ++i)
      pollers_.emplace_back([this, i] {
        void *tag;
        bool ok;
        while (cqs_[i]->Next(&tag, &ok)) {
        }
        // CHECK-NOTES: :[[@LINE-2]]:25: warning: completion queue 'cqs_' is polled here but never shut down; Next() will never return false, so this loop cannot end and a thread joining it hangs [grpc-leak-cq-shutdown]
        // CHECK-NOTES: :[[@LINE+10]]:61: note: 'cqs_' is declared here; call Shutdown() on it when stopping, then drain it
      });
  }
  ~QueuePerThread() {
    server_->Shutdown(In(1000));
    for (auto &poller : pollers_)
      poller.join();
  }

private:
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::thread> pollers_;
};

// A stop method that joins the poller before it shuts the queue down: the
// poller's Next() loop only ends after the shutdown, so join() never
// returns.
class JoinFirst {
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
    server_->Shutdown(In(1000));
    poller_.join();
    // CHECK-NOTES: :[[@LINE-1]]:13: warning: this thread polls completion queue 'cq_' until it is shut down, but it is joined before 'cq_' is shut down; join() never returns [grpc-leak-cq-shutdown]
    // CHECK-NOTES: :[[@LINE-8]]:19: note: the thread's loop ends only when Next() reports the queue shut down
    cq_->Shutdown();
    // CHECK-NOTES: :[[@LINE-1]]:10: note: 'cq_' is shut down only here, after the join; shut it down first
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
};

// A poller that leaves on a flag (a timed AsyncNext), and a stop method that
// shuts the queue down and joins it: nobody drains the queue, whose killed
// request tags are still in it.
class FlagPoller {
public:
  void Start() {
    poller_ = std::thread([this] {
      void *tag;
      bool ok;
      while (running_) {
        if (cq_->AsyncNext(&tag, &ok, In(100)) ==
            grpc::CompletionQueue::SHUTDOWN)
          break;
      }
    });
  }
  void Stop() {
    running_ = false;
    server_->Shutdown(In(1000));
    cq_->Shutdown();
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: completion queue 'cq_' is shut down here but no code of its class drains it; call Next() until it returns false before it is destroyed (events left in it abort the process) [grpc-leak-cq-shutdown]
    poller_.join();
    // CHECK-NOTES: :[[@LINE-1]]:13: note: joining this thread does not drain 'cq_': its polling loop can end first
    // CHECK-NOTES: :[[@LINE-14]]:14: note: the polling loop can end here, with events left in the queue
  }

private:
  std::atomic<bool> running_{true};
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
};

// An async client library's "action" base: the derived actions start their
// calls on the inherited queue; the base's destructor cancels and shuts the
// queue down, and never drains the cancelled call's event.
class ActionBase {
public:
  virtual ~ActionBase() {
    context_.TryCancel();
    cq_.Shutdown();
    // CHECK-NOTES: :[[@LINE-1]]:9: warning: completion queue 'cq_' is shut down here but not drained before it is destroyed; call Next() until it returns false (events left in it abort the process) [grpc-leak-cq-shutdown]
  }
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'cq_' is destroyed here

protected:
  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
};

class PutAction : public ActionBase {
public:
  PutAction(demo::Demo::Stub &stub, const demo::Req &req) {
    context_.set_deadline(In(5000));
    reader_ = stub.AsyncUnary(&context_, req, &cq_);
    reader_->Finish(&resp_, &status_, this);
  }

private:
  demo::Resp resp_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<demo::Resp>> reader_;
};

// A unary call waited for with a timeout: on TIMEOUT the function returns
// and destroys the queue while the Finish() event is still to come.
bool CallWithTimeout(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5000));
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.AsyncUnary(&ctx, req, &cq);
  rpc->Finish(&resp, &status, reinterpret_cast<void *>(1));
  void *tag;
  bool ok;
  if (cq.AsyncNext(&tag, &ok, In(1000)) == grpc::CompletionQueue::TIMEOUT)
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: on a timeout of this AsyncNext(), completion queue 'cq' is destroyed while an operation on it is still pending (events left in it abort the process); cancel the call (TryCancel()) and call Next() for its tag first [grpc-leak-cq-shutdown]
    return false;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 'cq' is destroyed after this return on the timeout path
  return ok && status.ok();
}

// The same through a status variable, tested for "not an event".
bool CallWithStatus(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.PrepareAsyncUnary(&ctx, req, &cq);
  rpc->StartCall();
  rpc->Finish(&resp, &status, reinterpret_cast<void *>(1));
  void *tag;
  bool ok;
  grpc::CompletionQueue::NextStatus next = cq.AsyncNext(&tag, &ok, In(1000));
  // CHECK-NOTES: :[[@LINE-1]]:47: warning: on a timeout of this AsyncNext(), completion queue 'cq' is destroyed while an operation on it is still pending (events left in it abort the process); cancel the call (TryCancel()) and call Next() for its tag first [grpc-leak-cq-shutdown]
  if (next != grpc::CompletionQueue::GOT_EVENT) {
    ctx.TryCancel(); // cancelled, but its event is never taken
    return false;
  }
  // CHECK-NOTES: :[[@LINE-2]]:5: note: 'cq' is destroyed after this return on the timeout path
  return ok && status.ok();
}

// The official async server's shape: the dispatch loop asserts on Next();
// the destructor shuts the server and the queue down but never drains it.
class GreeterLikeServer {
public:
  ~GreeterLikeServer() {
    server_->Shutdown(In(1000));
    cq_->Shutdown();
    // CHECK-NOTES: :[[@LINE-1]]:10: warning: completion queue 'cq_' is shut down here but not drained before it is destroyed; call Next() until it returns false (events left in it abort the process) [grpc-leak-cq-shutdown]
  }
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'cq_' is destroyed here
  void HandleRpcs() {
    void *tag;
    bool ok;
    while (true) {
      GPR_ASSERT(cq_->Next(&tag, &ok));
      GPR_ASSERT(ok);
    }
  }

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
};

// ===== Not reported ==========================================================

// A single Next() inside an assertion macro is one wait, not a loop; the
// local queue's only event was consumed, so destroying it without Shutdown()
// is fine (grpc_completion_queue_destroy shuts it down itself).
bool OneCall(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(1000));
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.AsyncUnary(&ctx, req, &cq);
  rpc->Finish(&resp, &status, reinterpret_cast<void *>(1));
  void *tag;
  bool ok = false;
  GPR_ASSERT(cq.Next(&tag, &ok));
  return ok && status.ok();
}

// On TIMEOUT the call is cancelled and its event taken before returning.
bool CancelThenTake(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.AsyncUnary(&ctx, req, &cq);
  rpc->Finish(&resp, &status, reinterpret_cast<void *>(1));
  void *tag;
  bool ok;
  if (cq.AsyncNext(&tag, &ok, In(1000)) == grpc::CompletionQueue::TIMEOUT) {
    ctx.TryCancel();
    cq.Next(&tag, &ok);
    return false;
  }
  return ok && status.ok();
}

// Waiting in a loop until the event comes: no path leaves on a timeout.
bool WaitUntilDone(demo::Demo::Stub &stub) {
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(1000));
  demo::Req req;
  demo::Resp resp;
  grpc::Status status;
  auto rpc = stub.AsyncUnary(&ctx, req, &cq);
  rpc->Finish(&resp, &status, reinterpret_cast<void *>(1));
  void *tag;
  bool ok;
  while (cq.AsyncNext(&tag, &ok, In(100)) == grpc::CompletionQueue::TIMEOUT) {
  }
  return ok && status.ok();
}

// A base class polls; its subclass shuts the queue down and joins.
class PollingBase {
protected:
  std::unique_ptr<grpc::CompletionQueue> cq_ =
      std::make_unique<grpc::CompletionQueue>();
  std::thread thread_;

public:
  void Start() {
    thread_ = std::thread([this] {
      void *tag;
      bool ok;
      while (cq_->Next(&tag, &ok)) {
      }
    });
  }
};

class StoppingPoller : public PollingBase {
public:
  ~StoppingPoller() {
    cq_->Shutdown();
    thread_.join();
  }
};

// Flag-exit pollers, then shutdown, join, and a drain after the join (a
// benchmark server's order): correct.
class FlagPollerDrained {
public:
  void Start() {
    poller_ = std::thread([this] {
      void *tag;
      bool ok;
      while (!stopping_) {
        if (cq_->AsyncNext(&tag, &ok, In(100)) ==
            grpc::CompletionQueue::SHUTDOWN)
          break;
      }
    });
  }
  ~FlagPollerDrained() {
    stopping_ = true;
    server_->Shutdown(In(3000));
    cq_->Shutdown();
    poller_.join();
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  std::atomic<bool> stopping_{false};
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
};

// Server, then every queue, then joining the pollers, which drain them.
class ServerThenQueues {
public:
  void Run(demo::Demo::AsyncService *service, int threads) {
    grpc::ServerBuilder builder;
    builder.RegisterService(service);
    for (int i = 0; i < threads; ++i)
      cqs_.push_back(builder.AddCompletionQueue());
    server_ = builder.BuildAndStart();
    for (auto &cq : cqs_)
      threads_.emplace_back(&ServerThenQueues::Poll, cq.get());
  }
  void Shutdown() {
    server_->Shutdown(In(0));
    for (auto &cq : cqs_)
      cq->Shutdown();
    for (auto &t : threads_)
      t.join();
  }

private:
  static void Poll(grpc::ServerCompletionQueue *cq) {
    void *tag;
    bool ok;
    while (cq->Next(&tag, &ok)) {
    }
  }
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> cqs_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::thread> threads_;
};

// A handler whose Stop() only joins: the queues are raw pointers to queues
// its owner shuts down before calling Stop().
class Handler {
public:
  explicit Handler(grpc::ServerCompletionQueue *cq) : cq_(cq) {}
  void Start() {
    thread_ = std::thread([this] {
      void *tag;
      bool ok;
      while (cq_->Next(&tag, &ok)) {
      }
    });
  }
  void Stop() { thread_.join(); }

private:
  grpc::ServerCompletionQueue *cq_;
  std::thread thread_;
};

// A poller that stops on a failed operation: after the server shuts down,
// its pending requests come back with ok == false and the thread ends, so
// joining before the queue's shutdown returns.
class StopsOnFailure {
public:
  void Start() {
    poller_ = std::thread([this] {
      void *tag;
      bool ok;
      while (cq_->Next(&tag, &ok)) {
        if (!ok)
          break;
      }
    });
  }
  void Stop() {
    server_->Shutdown(In(1000));
    poller_.join();
    cq_->Shutdown();
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }

private:
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
};

// A stop method that shuts down a queue nothing ever posted on.
class IdleQueue {
public:
  void Stop() { cq_.Shutdown(); }

private:
  grpc::CompletionQueue cq_;
};
