// RUN: %check_grpc_leak %s grpc-leak-reactor-finish %t -- -- %grpc_flags
//
// Callback-API RPCs that never complete: DefaultReactor() returned without
// Finish(), server reactor classes that never finish, the `if (!ok) return;`
// shape with nothing finishing after it, and client reactors never started
// or holding a hold for ever.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

struct Executor {
  void Run(std::function<void()> task);
};
Executor &Pool();

// ===== Reported: DefaultReactor() =============================================

class EarlyReturn final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *context,
                                  const demo::Req *request,
                                  demo::Resp *response) override {
    auto *reactor = context->DefaultReactor();
    // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: reactor 'reactor' from DefaultReactor() is returned without Finish() on some path; that RPC never completes: OnDone never runs, its call stays, and Server::Shutdown() waits for it [grpc-leak-reactor-finish]
    if (request->name().empty())
      return reactor;
    // CHECK-MESSAGES: :[[@LINE-1]]:7: note: returned here without Finish() on 'reactor'
    response->set_value(request->name());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class NeverFinished final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *context,
                                  const demo::Req *, demo::Resp *) override {
    return context->DefaultReactor();
    // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: reactor from DefaultReactor() is returned without Finish() on some path; that RPC never completes: OnDone never runs, its call stays, and Server::Shutdown() waits for it [grpc-leak-reactor-finish]
    // CHECK-MESSAGES: :[[@LINE-2]]:5: note: returned here without Finish()
  }
};

// ===== Reported: a server reactor class that never finishes ===================

// Writes what a queue gives it; nothing ever calls Finish().
class Lister : public grpc::ServerWriteReactor<demo::Resp> {
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: server reactor 'Lister' never calls Finish() or StartWriteAndFinish(); its RPCs never complete: OnDone never runs, each call and its reactor stay, and Server::Shutdown() waits for them [grpc-leak-reactor-finish]
public:
  explicit Lister(std::vector<demo::Resp> items) : items_(std::move(items)) { Next(); }
  void OnWriteDone(bool ok) override {
    if (ok)
      Next();
  }
  void OnDone() override { delete this; }

private:
  void Next() {
    if (next_ < items_.size())
      StartWrite(&items_[next_++]);
  }
  std::vector<demo::Resp> items_;
  size_t next_ = 0;
};
class ListerService final : public demo::Demo::CallbackService {
  grpc::ServerWriteReactor<demo::Resp> *
  ServerStream(grpc::CallbackServerContext *, const demo::Req *) override {
    return new Lister({demo::Resp(), demo::Resp()});
    // CHECK-MESSAGES: :[[@LINE-1]]:12: note: an RPC's reactor is created here
  }
};

// A class template: reported once, at the template.
template <typename Resp> class Ticker : public grpc::ServerWriteReactor<Resp> {
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: server reactor 'Ticker' never calls Finish() or StartWriteAndFinish(); its RPCs never complete: OnDone never runs, each call and its reactor stay, and Server::Shutdown() waits for them [grpc-leak-reactor-finish]
public:
  Ticker() { this->StartWrite(&resp_); }
  void OnWriteDone(bool) override { this->StartWrite(&resp_); }
  void OnDone() override { delete this; }

private:
  Resp resp_;
};
class TickerService final : public demo::Demo::CallbackService {
  grpc::ServerWriteReactor<demo::Resp> *
  ServerStream(grpc::CallbackServerContext *, const demo::Req *) override {
    return new Ticker<demo::Resp>();
    // CHECK-MESSAGES: :[[@LINE-1]]:12: note: an RPC's reactor is created here
  }
};

// ===== Reported: `if (!ok) return;` with nothing finishing after it ===========

// A read fails when the client half-closes: nothing is in flight then (a
// write is only started after a read, a read only after a write), and the
// only Finish() is on a failed write.
class Echo final : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  Echo() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok)
      return;
    // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'OnReadDone' returns when its operation failed without calling Finish(), and nothing finishes the RPC after that: OnDone never runs and the call and its reactor stay [grpc-leak-reactor-finish]
    // CHECK-MESSAGES: :[[@LINE+8]]:7: note: Finish() is called here, but not after 'OnReadDone' returned on failure
    resp_.set_value(req_.name());
    StartWrite(&resp_);
  }
  void OnWriteDone(bool ok) override {
    if (ok)
      StartRead(&req_);
    else
      Finish(grpc::Status::CANCELLED);
  }
  void OnDone() override { delete this; }

private:
  demo::Req req_;
  demo::Resp resp_;
};

// Finishes after the third message; a client that stops earlier half-closes
// and the read that fails returns.
class Counter final : public grpc::ServerReadReactor<demo::Req> {
public:
  Counter() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      ++failures_;
      return;
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'OnReadDone' returns when its operation failed without calling Finish(), and nothing finishes the RPC after that: OnDone never runs and the call and its reactor stay [grpc-leak-reactor-finish]
    }
    if (++count_ == 3)
      Finish(grpc::Status::OK);
    // CHECK-MESSAGES: :[[@LINE-1]]:7: note: Finish() is called here, but not after 'OnReadDone' returned on failure
    else
      StartRead(&req_);
  }
  void OnDone() override { delete this; }

private:
  demo::Req req_;
  int count_ = 0;
  int failures_ = 0;
};

class StreamsService final : public demo::Demo::CallbackService {
  grpc::ServerBidiReactor<demo::Req, demo::Resp> *
  Bidi(grpc::CallbackServerContext *) override {
    return new Echo();
  }
  grpc::ServerReadReactor<demo::Req> *ClientStream(grpc::CallbackServerContext *,
                                                   demo::Resp *) override {
    return new Counter();
  }
};

// ===== Reported: client reactors ==============================================

// Reads are posted, but the call is never started.
class Reader : public grpc::ClientReadReactor<demo::Resp> {
public:
  explicit Reader(demo::Demo::Stub *stub) {
    stub->async()->ServerStream(&ctx_, &req_, this);
    // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: client reactor 'Reader' is given to 'ServerStream' but nothing calls StartCall() on it; the RPC never starts and OnDone never runs [grpc-leak-reactor-finish]
    // CHECK-MESSAGES: :[[@LINE-5]]:7: note: 'Reader' is declared here; call StartCall() once the reactor is set up
    StartRead(&resp_);
  }
  void OnReadDone(bool ok) override {
    if (ok)
      StartRead(&resp_);
  }
  void OnDone(const grpc::Status &) override {}

private:
  grpc::ClientContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
};

// A hold is added for extra work and never removed.
class Pusher : public grpc::ClientWriteReactor<demo::Req> {
public:
  explicit Pusher(demo::Demo::Stub *stub) {
    stub->async()->ClientStream(&ctx_, &resp_, this);
    // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: client reactor 'Pusher' is given to 'ClientStream' and adds a hold that nothing removes; OnDone never runs, so the RPC and the reactor stay [grpc-leak-reactor-finish]
    AddHold();
    // CHECK-MESSAGES: :[[@LINE-1]]:5: note: a hold is added here; call RemoveHold() when the extra work is done
    StartWrite(&req_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnDone(const grpc::Status &) override {}

private:
  grpc::ClientContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
};

// ===== Not reported ===========================================================

// DefaultReactor() finished on every path, in a lambda another executor
// runs, by a helper, or before a throw.
static void Reply(grpc::ServerUnaryReactor *reactor, bool ok) {
  reactor->Finish(ok ? grpc::Status::OK : grpc::Status::CANCELLED);
}
class Finished final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *context,
                                  const demo::Req *request,
                                  demo::Resp *) override {
    auto *reactor = context->DefaultReactor();
    if (request->name().empty()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no name"));
      return reactor;
    }
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};
class Deferred final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *context,
                                  const demo::Req *request,
                                  demo::Resp *response) override {
    grpc::ServerUnaryReactor *reactor = context->DefaultReactor();
    Pool().Run([reactor, request, response] {
      response->set_value(request->name());
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }
};
class Helped final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *context,
                                  const demo::Req *request, demo::Resp *) override {
    auto *reactor = context->DefaultReactor();
    if (request->name() == "throw")
      throw std::runtime_error("bad request");
    Reply(reactor, !request->name().empty());
    return reactor;
  }
};

// A base class's FinishWithError helper finishes for the derived class.
template <typename Req, typename Resp>
class BidiBase : public grpc::ServerBidiReactor<Req, Resp> {
protected:
  void FinishWithError(const std::string &why) {
    this->Finish(grpc::Status(grpc::StatusCode::INTERNAL, why));
  }
};
class Relay final : public BidiBase<demo::Req, demo::Resp> {
public:
  Relay() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      FinishWithError("client left");
      return;
    }
    StartRead(&req_);
  }
  void OnDone() override { delete this; }

private:
  demo::Req req_;
};

// Finish() in a helper called from the constructor and from OnWriteDone;
// self-deleting in OnDone.
class Feed final : public grpc::ServerWriteReactor<demo::Resp> {
public:
  Feed() { Next(); }
  void OnWriteDone(bool ok) override {
    if (!ok)
      return;
    Next();
  }
  void OnDone() override { delete this; }

private:
  void Next() {
    if (sent_ < 3)
      StartWrite(&resp_), ++sent_;
    else
      Finish(grpc::Status::OK);
  }
  demo::Resp resp_;
  int sent_ = 0;
};

// StartWriteAndFinish ends the RPC too.
class OneShot final : public grpc::ServerWriteReactor<demo::Resp> {
public:
  OneShot() { StartWriteAndFinish(&resp_, grpc::WriteOptions(), grpc::Status::OK); }
  void OnDone() override { delete this; }

private:
  demo::Resp resp_;
};

// gRPC's own FinishOnlyReactor finishes in its constructor.
class Unsupported final
    : public grpc::internal::FinishOnlyReactor<grpc::ServerUnaryReactor> {
public:
  Unsupported()
      : FinishOnlyReactor(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no")) {}
};

// Finished by another object it is handed to (another executor).
class Session;
struct Hub {
  void Join(Session *session);
};
class Session final : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  explicit Session(Hub &hub) { hub.Join(this); }
  void OnDone() override { delete this; }
};

// Finished when the read fails, or on cancellation.
class Sink final : public grpc::ServerReadReactor<demo::Req> {
public:
  Sink() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok)
      return;
    StartRead(&req_);
  }
  void OnCancel() override { Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }

private:
  demo::Req req_;
};

// Reads run alongside writes: a write that fails returns, and the read in
// flight fails too and finishes.
class Duplex final : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  Duplex() {
    StartRead(&req_);
    StartWrite(&resp_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    StartRead(&req_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok)
      return;
    StartWrite(&resp_);
  }
  void OnDone() override { delete this; }

private:
  demo::Req req_;
  demo::Resp resp_;
};

// A public method another thread calls finishes it.
class Waiter final : public grpc::ServerReadReactor<demo::Req> {
public:
  Waiter() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok)
      return;
    StartRead(&req_);
  }
  void Stop() { Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }

private:
  demo::Req req_;
};

// A base for reactors written elsewhere: never created here.
class AbstractBase : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  void OnDone() override { delete this; }
  virtual void Handle(const demo::Req &) = 0;
};

class Registry final : public demo::Demo::CallbackService {
public:
  explicit Registry(Hub &hub) : hub_(hub) {}
  grpc::ServerBidiReactor<demo::Req, demo::Resp> *
  Bidi(grpc::CallbackServerContext *) override {
    static int n = 0;
    switch (n++ % 4) {
    case 0: return new Relay();
    case 1: return new Session(hub_);
    case 2: return new Duplex();
    default: return new Echo();
    }
  }
  grpc::ServerWriteReactor<demo::Resp> *
  ServerStream(grpc::CallbackServerContext *, const demo::Req *) override {
    static bool odd = false;
    odd = !odd;
    if (odd)
      return new Feed();
    return new OneShot();
  }
  grpc::ServerReadReactor<demo::Req> *ClientStream(grpc::CallbackServerContext *,
                                                   demo::Resp *) override {
    static bool odd = false;
    odd = !odd;
    if (odd)
      return new Sink();
    return new Waiter();
  }
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *, const demo::Req *,
                                  demo::Resp *) override {
    return new Unsupported();
  }

private:
  Hub &hub_;
};

// StartCall() in a base class, and one called by the code that made the
// reactor; holds removed from an alarm's callback.
template <typename Resp> class StartedReader : public grpc::ClientReadReactor<Resp> {
protected:
  void Go() { this->StartCall(); }
};
class Lines final : public StartedReader<demo::Resp> {
public:
  explicit Lines(demo::Demo::Stub *stub) {
    stub->async()->ServerStream(&ctx_, &req_, this);
    StartRead(&resp_);
    Go();
  }
  void OnDone(const grpc::Status &) override {}

private:
  grpc::ClientContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
};
class Chat final : public grpc::ClientBidiReactor<demo::Req, demo::Resp> {
public:
  void OnDone(const grpc::Status &) override {}
};
void StartChat(demo::Demo::Stub *stub, grpc::ClientContext *ctx, Chat &chat) {
  stub->async()->Bidi(ctx, &chat);
  chat.StartCall();
}
class Recorder final : public grpc::ClientWriteReactor<demo::Req> {
public:
  explicit Recorder(demo::Demo::Stub *stub) {
    stub->async()->ClientStream(&ctx_, &resp_, this);
    AddHold();
    alarm_.Set(std::chrono::system_clock::now() + std::chrono::seconds(1),
               [this](bool) { RemoveHold(); });
    StartCall();
  }
  void OnDone(const grpc::Status &) override {}

private:
  grpc::ClientContext ctx_;
  demo::Resp resp_;
  grpc::Alarm alarm_;
};

// NOLINT silences a finding on its line.
class Quiet final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *context,
                                  const demo::Req *, demo::Resp *) override {
    return context->DefaultReactor(); // NOLINT(grpc-leak-reactor-finish)
  }
};
