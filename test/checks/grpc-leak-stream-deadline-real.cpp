// RUN: %check_grpc_leak %s grpc-leak-stream-deadline %t -- -- %grpc_flags
//
// Streams without deadlines in the shapes real gRPC C++ code gives them
// (docs/real-code.md): contexts in a base class, class and function
// templates that wrap a stub, and TryCancel() calls that only run once the
// peer has answered. Real gRPC 1.51 headers and generated stubs.

#include <chrono>
#include <memory>
#include <thread>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

static std::chrono::system_clock::time_point Soon() {
  return std::chrono::system_clock::now() + std::chrono::seconds(5);
}

// ===== Members of a base class ===============================================

// An async client library's "call" base holds the context and the queue;
// each derived call starts its own stream on them in its constructor.
class CallBase {
public:
  virtual ~CallBase() = default;

protected:
  grpc::ClientContext context_; // (the note below points here)
  grpc::CompletionQueue cq_;
};

class ListCall : public CallBase {
public:
  ListCall(demo::Demo::Stub &stub, const demo::Req &req) {
    reader_ = stub.PrepareAsyncServerStream(&context_, req, &cq_);
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: streaming RPC 'PrepareAsyncServerStream' is started on 'context_' with no deadline set on some path to it [grpc-leak-stream-deadline]
    // CHECK-NOTES: :[[@LINE-9]]:23: note: 'context_' is a member of 'CallBase'; no method of 'CallBase' or of a class derived from it sets a deadline on it or cancels it without waiting for the peer
    reader_->StartCall(this);
  }

private:
  std::unique_ptr<grpc::ClientAsyncReader<demo::Resp>> reader_;
};

// The same base, bounded by a sibling's method: a derived class's other
// method sets the deadline before the stream starts.
class TimedBase {
protected:
  grpc::ClientContext ctx_;
};

class TimedWatch : public TimedBase {
public:
  void Configure() { ctx_.set_deadline(Soon()); }
  void Go(demo::Demo::Stub &stub) { stream_ = stub.Bidi(&ctx_); }

private:
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

// The base's destructor cancels an unfinished call: a stop path that needs
// no answer from the peer bounds every stream of every derived action.
class ActionBase {
public:
  virtual ~ActionBase() { context_.TryCancel(); }

protected:
  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
};

class WatchAction : public ActionBase {
public:
  explicit WatchAction(demo::Demo::Stub &stub) {
    stream_ = stub.AsyncBidi(&context_, &cq_, this);
  }

private:
  std::unique_ptr<grpc::ClientAsyncReaderWriter<demo::Req, demo::Resp>> stream_;
};

// A benchmark's per-call objects are cancelled through a virtual method of
// their abstract base, from the driver's stop path.
class RpcContextBase {
public:
  virtual ~RpcContextBase() = default;
  virtual void Cancel() = 0;
};

class PingPongContext : public RpcContextBase {
public:
  void Start(demo::Demo::Stub &stub) { stream_ = stub.Bidi(&context_); }
  void Cancel() override { context_.TryCancel(); }

private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

// ===== Templates and library wrappers =========================================

// A framework's class template that wraps any service's stub and starts a
// stream on a context it creates itself: reported once, in the template,
// with a note where the user's code instantiates it.
template <typename Service, typename Req, typename Resp, int Variant = 0>
class StreamingCall {
public:
  explicit StreamingCall(typename Service::Stub *stub) : stub_(stub) {}
  void Start() { stream_ = stub_->Bidi(&context_); }
  // CHECK-NOTES: :[[@LINE-1]]:35: warning: streaming RPC 'Bidi' is started on 'context_' with no deadline set on some path to it [grpc-leak-stream-deadline]

private:
  typename Service::Stub *stub_;
  grpc::ClientContext context_;
  // CHECK-NOTES: :[[@LINE-1]]:23: note: 'context_' is a member of 'StreamingCall'; no method of 'StreamingCall' sets a deadline on it or cancels it without waiting for the peer
  std::unique_ptr<grpc::ClientReaderWriter<Req, Resp>> stream_;
};

void UseStreamingCall(demo::Demo::Stub *stub) {
  StreamingCall<demo::Demo, demo::Req, demo::Resp> first(stub);
  first.Start();
  // CHECK-NOTES: :[[@LINE-1]]:9: note: in the instance 'StreamingCall<demo::Demo, demo::Req, demo::Resp>::Start' of a template, used here
}

// A second instance of the same template: no second finding.
void UseStreamingCallAgain(demo::Demo::Stub *stub) {
  StreamingCall<demo::Demo, demo::Req, demo::Resp, 1> second(stub);
  second.Start();
}

// A function template: the finding is in the template; no fix-it is
// offered there (its text is shared by every instance).
template <typename Stub>
int CountReplies(Stub &stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = stub.ServerStream(&ctx, req);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'ServerStream' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return n;
}

int UseCountReplies(demo::Demo::Stub &stub) { return CountReplies(stub); }
// CHECK-NOTES: :[[@LINE-1]]:54: note: in the instance 'CountReplies<demo::Demo::Stub>' of a template, used here

// A template whose instances are configured by an init callback that sets
// the deadline: bounded.
template <typename Service>
class ConfiguredCall {
public:
  template <typename Init>
  ConfiguredCall(typename Service::Stub *stub, Init init) : stub_(stub) {
    init(context_);
  }
  void Start() { stream_ = stub_->Bidi(&context_); }

private:
  typename Service::Stub *stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<demo::Req, demo::Resp>> stream_;
};

void UseConfiguredCall(demo::Demo::Stub *stub) {
  ConfiguredCall<demo::Demo> call(
      stub, [](grpc::ClientContext &ctx) { ctx.set_deadline(Soon()); });
  call.Start();
}

// ===== TryCancel: only a cancel that runs without the peer bounds a call ====

// A callback reader that cancels after the tenth message: if the server
// stalls before it, the cancel never runs.
class TenReader : public grpc::ClientReadReactor<demo::Resp> {
public:
  TenReader(demo::Demo::Stub *stub, const demo::Req &req) {
    stub->async()->ServerStream(&ctx_, &req, this);
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: streaming RPC 'ServerStream' is started on 'ctx_' with no deadline set on some path to it [grpc-leak-stream-deadline]
    StartRead(&resp_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (ok && ++count_ == 10)
      ctx_.TryCancel();
    if (ok)
      StartRead(&resp_);
  }
  void OnDone(const grpc::Status &) override {}

private:
  grpc::ClientContext ctx_;
  // CHECK-NOTES: :[[@LINE-1]]:23: note: 'ctx_' is a member of 'TenReader'; no method of 'TenReader' sets a deadline on it or cancels it without waiting for the peer
  // CHECK-NOTES: :[[@LINE-9]]:12: note: this TryCancel() runs only after the peer has answered; it does not end a call the peer has stalled
  demo::Resp resp_;
  int count_ = 0;
};

// The same with a sync stream: the cancel follows a Read() that blocks.
int ReadTen(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = stub.ServerStream(&ctx, req);
  // CHECK-NOTES: :[[@LINE-1]]:22: warning: streaming RPC 'ServerStream' is started on 'ctx' with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  // CHECK-NOTES: :[[@LINE+6]]:11: note: this TryCancel() runs only after the peer has answered; it does not end a call the peer has stalled
  // CHECK-NOTES: :[[@LINE-4]]:3: note: set a 30 s deadline on 'ctx'
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    if (++n == 10)
      ctx.TryCancel();
  reader->Finish();
  return n;
}

// A watchdog thread cancels it: bounded without the peer.
int ReadWithWatchdog(demo::Demo::Stub &stub, const bool &stop) {
  grpc::ClientContext ctx;
  std::thread watchdog([&ctx, &stop] {
    while (!stop)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ctx.TryCancel();
  });
  demo::Req req;
  auto reader = stub.ServerStream(&ctx, req);
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  reader->Finish();
  watchdog.join();
  return n;
}

// An alarm's callback cancels a reactor's call: a timer bounds it.
class AlarmedReader : public grpc::ClientReadReactor<demo::Resp> {
public:
  AlarmedReader(demo::Demo::Stub *stub, const demo::Req &req) {
    stub->async()->ServerStream(&ctx_, &req, this);
    alarm_.Set(Soon(), [this](bool fired) {
      if (fired)
        ctx_.TryCancel();
    });
    StartRead(&resp_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (ok)
      StartRead(&resp_);
  }
  void OnDone(const grpc::Status &) override {}

private:
  grpc::ClientContext ctx_;
  grpc::Alarm alarm_;
  demo::Resp resp_;
};

// A watcher's Stop() cancels it from the owner's thread.
class Watcher {
public:
  void Run(demo::Demo::Stub &stub) {
    demo::Req req;
    auto reader = stub.ServerStream(&ctx_, req);
    demo::Resp resp;
    while (reader->Read(&resp)) {
    }
  }
  void Stop() { ctx_.TryCancel(); }

private:
  grpc::ClientContext ctx_;
};

// ===== Helpers that start the stream on the context they are given ==========

// The caller's context needs its deadline before it calls the helper: the
// finding is at the call, with a note at the start inside the helper.
static std::unique_ptr<grpc::ClientReader<demo::Resp>>
OpenFeed(demo::Demo::Stub &stub, grpc::ClientContext &ctx) {
  demo::Req req;
  return stub.ServerStream(&ctx, req);
}

static void OpenAndDrop(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  auto feed = OpenFeed(stub, *ctx);
}

int ReadFeed(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  auto feed = OpenFeed(stub, ctx);
  // CHECK-NOTES: :[[@LINE-1]]:15: warning: streaming RPC 'ServerStream' is started on 'ctx' by 'OpenFeed', called here, with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-11]]:15: note: the RPC is started here, on the context given to 'OpenFeed'
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  // CHECK-NOTES: :[[@LINE-4]]:3: note: set a 30 s deadline on 'ctx'
  demo::Resp resp;
  int n = 0;
  while (feed->Read(&resp))
    ++n;
  return n;
}

// Two helpers deep.
void OpenThroughTwo(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  OpenAndDrop(stub, &ctx);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: streaming RPC 'ServerStream' is started on 'ctx' by 'OpenAndDrop', called here, with no deadline set on some path to it [grpc-leak-stream-deadline]
  // CHECK-NOTES: :[[@LINE-26]]:15: note: the RPC is started here, on the context given to 'OpenAndDrop'
  // CHECK-NOTES: :[[@LINE-4]]:23: note: 'ctx' is declared here; call 'set_deadline' on it before the RPC starts
  // CHECK-NOTES: :[[@LINE-4]]:3: note: set a 30 s deadline on 'ctx'
}

// The caller set the deadline first: bounded.
int ReadFeedBounded(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(Soon());
  auto feed = OpenFeed(stub, ctx);
  demo::Resp resp;
  return feed->Read(&resp) ? 1 : 0;
}

// The helper sets the deadline itself before starting: bounded.
static std::unique_ptr<grpc::ClientReader<demo::Resp>>
OpenTimedFeed(demo::Demo::Stub &stub, grpc::ClientContext *ctx) {
  ctx->set_deadline(Soon());
  demo::Req req;
  return stub.ServerStream(ctx, req);
}

int ReadTimedFeed(demo::Demo::Stub &stub) {
  grpc::ClientContext ctx;
  auto feed = OpenTimedFeed(stub, &ctx);
  demo::Resp resp;
  return feed->Read(&resp) ? 1 : 0;
}
