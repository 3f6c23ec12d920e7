// RUN: %check_grpc_leak %s grpc-leak-blocking-reaction %t -- -- %grpc_flags
// RUN: %check_grpc_leak --fix-notes %s grpc-leak-blocking-reaction %t.fix -- -- %grpc_flags
// RUN: diff %t.fix.orig %t.fix.cpp
//
// Blocking calls in code that gRPC runs on its callback threads: reactions,
// callback service handlers, completion callbacks, and the functions of the
// file they call. Work handed to another thread, non-blocking forms and
// synchronous handlers are not reported. No fix-it is offered (moving the
// work off the callback thread is a design change): the second run applies
// every note's fix (--fix-notes) and the file must come out unchanged.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

using namespace std::chrono_literals;

// ===== Reported ==============================================================

// A relay that makes a synchronous call to its backend for every message it
// reads (mixed mode: the handler threads wait on the backend).
class Relay final : public grpc::ServerReadReactor<demo::Req> {
 public:
  Relay(demo::Demo::Stub *backend, demo::Resp *resp) : backend_(backend), resp_(resp) {
    StartRead(&req_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 1s);
    backend_->Unary(&ctx, req_, resp_);
    // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: synchronous RPC 'Unary' blocks a gRPC callback thread in reaction 'OnReadDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES: :[[@LINE-9]]:8: note: 'OnReadDone' is a reaction; gRPC runs it on its callback threads
    StartRead(&req_);
  }
  void OnDone() override { delete this; }

 private:
  demo::Demo::Stub *backend_;
  demo::Resp *resp_;
  demo::Req req_;
};

// A writer that waits for the next item of a shared queue from its
// constructor and from OnWriteDone: the wait parks a callback thread until
// another thread produces.
struct Feed {
  std::mutex mu;
  std::condition_variable ready;
  std::deque<demo::Resp> items;
};
class Follower final : public grpc::ServerWriteReactor<demo::Resp> {
 public:
  explicit Follower(Feed *feed) : feed_(feed) { NextWrite(); }
  void OnWriteDone(bool ok) override {
    if (ok)
      NextWrite();
    else
      Finish(grpc::Status::CANCELLED);
  }
  void OnDone() override { delete this; }

 private:
  void NextWrite() {
    std::unique_lock<std::mutex> lock(feed_->mu);
    feed_->ready.wait(lock, [this] { return !feed_->items.empty(); });
    // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: 'wait' blocks a gRPC callback thread in reaction 'OnWriteDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES: :[[@LINE-11]]:7: note: 'NextWrite' is called here
    // CHECK-MESSAGES: :[[@LINE-14]]:8: note: 'OnWriteDone' is a reaction; gRPC runs it on its callback threads
    current_ = feed_->items.front();
    feed_->items.pop_front();
    StartWrite(&current_);
  }
  Feed *feed_;
  demo::Resp current_;
};

class FeedService final : public demo::Demo::CallbackService {
 public:
  // The handler itself runs on a callback thread too.
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx,
                                  const demo::Req *, demo::Resp *) override {
    std::this_thread::sleep_for(50ms);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'sleep_for' blocks a gRPC callback thread in callback service handler 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES: :[[@LINE-4]]:29: note: 'Unary' is a callback service handler; gRPC runs it on its callback threads
    auto *reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerWriteReactor<demo::Resp> *ServerStream(
      grpc::CallbackServerContext *, const demo::Req *) override {
    return new Follower(&feed_);
  }

 private:
  Feed feed_;
};

// Tearing down from a reaction: wait for another RPC's OnDone, then join the
// thread that ran it.
class Uploader final : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
 public:
  Uploader() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok)
      Terminate();
    else
      StartRead(&req_);
  }
  void OnDone() override { delete this; }

 private:
  void Terminate() {
    std::unique_lock<std::mutex> lock(mu_);
    peer_done_.wait(lock, [this] { return peer_finished_; });
    // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: 'wait' blocks a gRPC callback thread in reaction 'OnReadDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES: :[[@LINE-11]]:7: note: 'Terminate' is called here
    // CHECK-MESSAGES: :[[@LINE-14]]:8: note: 'OnReadDone' is a reaction; gRPC runs it on its callback threads
    worker_.join();
    Finish(grpc::Status::OK);
  }
  demo::Req req_;
  std::mutex mu_;
  std::condition_variable peer_done_;
  bool peer_finished_ = false;
  std::thread worker_;
};

// The completion callback of one callback call waits for another one.
void Chain(demo::Demo::Stub *stub, grpc::ClientContext *first,
           grpc::ClientContext *second, const demo::Req *req, demo::Resp *a,
           demo::Resp *b) {
  auto other = std::make_shared<std::promise<grpc::Status>>();
  stub->async()->Unary(second, req, b,
                       [other](grpc::Status s) { other->set_value(s); });
  stub->async()->Unary(first, req, a, [other](grpc::Status) {
    grpc::Status s = other->get_future().get();
    // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: 'get' blocks a gRPC callback thread in the completion callback of 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES: :[[@LINE-3]]:18: note: the callback passed to 'Unary' here runs on gRPC's callback threads
  });
}

// A client reactor that reads a second, synchronous stream in OnReadDone.
class Mirror final : public grpc::ClientReadReactor<demo::Resp> {
 public:
  Mirror(grpc::ClientReader<demo::Resp> *source) : source_(source) {}
  void OnReadDone(bool ok) override {
    if (ok)
      source_->Read(&copy_);
      // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: 'Read' blocks a gRPC callback thread in reaction 'OnReadDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
      // CHECK-MESSAGES: :[[@LINE-4]]:8: note: 'OnReadDone' is a reaction; gRPC runs it on its callback threads
  }
  void OnDone(const grpc::Status &) override {}

 private:
  grpc::ClientReader<demo::Resp> *source_;
  demo::Resp copy_;
};

// An alarm's callback runs on a callback thread too.
void Later(grpc::Alarm *alarm) {
  alarm->Set(std::chrono::system_clock::now() + 1s,
             [](bool) { std::this_thread::sleep_for(1s); });
             // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'sleep_for' blocks a gRPC callback thread in the completion callback of 'Set'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
             // CHECK-MESSAGES: :[[@LINE-3]]:10: note: the callback passed to 'Set' here runs on gRPC's callback threads
}

// Shutting the server down from its own handler waits for that handler.
class Stopper final : public demo::Demo::CallbackService {
 public:
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx,
                                  const demo::Req *, demo::Resp *) override {
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
    // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: 'Shutdown' blocks a gRPC callback thread in callback service handler 'Unary'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES: :[[@LINE-4]]:29: note: 'Unary' is a callback service handler; gRPC runs it on its callback threads
    auto *reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::Server *server_ = nullptr;
};

// Polling a completion queue in OnDone.
class Drainer final : public grpc::ClientUnaryReactor {
 public:
  explicit Drainer(grpc::CompletionQueue *cq) : cq_(cq) {}
  void OnDone(const grpc::Status &) override {
    void *tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'Next' blocks a gRPC callback thread in reaction 'OnDone'; other callback RPCs of the process stall while it waits [grpc-leak-blocking-reaction]
    // CHECK-MESSAGES: :[[@LINE-5]]:8: note: 'OnDone' is a reaction; gRPC runs it on its callback threads
    }
  }

 private:
  grpc::CompletionQueue *cq_;
};

// ===== Not reported ==========================================================

// A short critical section is not a wait.
class Chatter final : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
 public:
  Chatter() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      resp_.set_value(req_.name());
    }
    if (mu_.try_lock())
      mu_.unlock();
    StartWrite(&resp_);
  }
  void OnWriteDone(bool) override { StartRead(&req_); }
  void OnDone() override { delete this; }

 private:
  std::mutex mu_;
  demo::Req req_;
  demo::Resp resp_;
};

// Work handed to another executor: a detached thread, a pool of the user's,
// a std::async whose future is kept.
struct Pool {
  void Post(std::function<void()> job);
};
class Offloader final : public grpc::ServerReadReactor<demo::Req> {
 public:
  Offloader(Pool *pool, demo::Demo::Stub *backend) : pool_(pool), backend_(backend) {
    StartRead(&req_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    std::thread([] { std::this_thread::sleep_for(1s); }).detach();
    pool_->Post([this] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 1s);
      demo::Resp resp;
      backend_->Unary(&ctx, req_, &resp);
    });
    pending_ = std::async(std::launch::async, [] { std::this_thread::sleep_for(1s); });
    StartRead(&req_);
  }
  void OnDone() override { delete this; }

 private:
  Pool *pool_;
  demo::Demo::Stub *backend_;
  demo::Req req_;
  std::future<void> pending_;
};

// Non-blocking forms: a zero timeout, a deadline of now.
class Poller final : public grpc::ClientBidiReactor<demo::Req, demo::Resp> {
 public:
  void OnWriteDone(bool) override {
    if (result_.valid() &&
        result_.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      result_.get();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 0ms);
    void *tag;
    bool ok;
    cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now());
  }
  void OnDone(const grpc::Status &) override {}

 private:
  std::future<int> result_;
  std::mutex mu_;
  std::condition_variable cv_;
  grpc::CompletionQueue cq_;
};

// A synchronous handler runs on its own thread: blocking there is by design
// (a proxy making a synchronous call to its backend).
class SyncProxy final : public demo::Demo::Service {
 public:
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *req,
                     demo::Resp *resp) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 1s);
    std::this_thread::sleep_for(1ms);
    return backend_->Unary(&ctx, *req, resp);
  }
  demo::Demo::Stub *backend_ = nullptr;
};

// A callback the user hands in is opaque: its body is not visible here.
class Notifier final : public grpc::ClientReadReactor<demo::Resp> {
 public:
  explicit Notifier(std::function<void(const demo::Resp &)> on_message)
      : on_message_(std::move(on_message)) {}
  void OnReadDone(bool ok) override {
    if (ok)
      on_message_(resp_);
  }
  void OnDone(const grpc::Status &) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  // Waits for OnDone: called by the thread that started the call, not by a
  // reaction.
  void Await() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  std::function<void(const demo::Resp &)> on_message_;
  demo::Resp resp_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};
void UseNotifier(Notifier *notifier) { notifier->Await(); }

// Blocking in code that only main runs; a class that is not a reactor.
void Backoff() { std::this_thread::sleep_for(100ms); }
struct Job {
  void OnDone() { std::this_thread::sleep_for(1ms); }
};
int main() {
  Backoff();
  Job().OnDone();
}

// Suppressed.
class Quiet final : public grpc::ServerUnaryReactor {
 public:
  void OnDone() override {
    std::this_thread::sleep_for(1ms); // NOLINT(grpc-leak-blocking-reaction)
  }
};
