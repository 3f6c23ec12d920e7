// RUN: %check_grpc_leak %s grpc-leak-channel-per-request %t -- -header-filter=.* -- %grpc_flags -I%S/Inputs
//
// Channels made for each request by a per-request object: a reactor or a
// client wrapper built per request whose members make the channel, an async
// call-data object (its methods run once per request step, wherever the
// completion-queue loop is), a heap object that the completion callback
// frees. Real gRPC 1.51 headers and generated stubs; ledger_client.h is a
// header of the user's own project.

#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"
#include "ledger_client.h"

// ===== Members that make a channel ==========================================

// A default member initialiser in a reactor that deletes itself: runs in the
// constructor, which does not initialise that member itself.
class AuditReactor : public grpc::ServerReadReactor<demo::Req> {
public:
  explicit AuditReactor(demo::Resp *resp) : resp_(resp) { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (ok)
      StartRead(&req_);
    else
      Finish(grpc::Status::OK);
  }
  void OnDone() override { delete this; }

private:
  std::shared_ptr<grpc::Channel> audit_ =
      grpc::CreateChannel("audit:50051", grpc::InsecureChannelCredentials());
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
  // CHECK-NOTES: :[[@LINE+9]]:16: note: 'AuditReactor' is constructed here
  // CHECK-NOTES: :[[@LINE-7]]:28: note: 'AuditReactor' keeps it and deletes itself here
  // CHECK-NOTES: :[[@LINE+5]]:39: note: 'ClientStream' handles each request
  demo::Req req_;
  demo::Resp *resp_;
};
class Uploads final : public demo::Demo::CallbackService {
  grpc::ServerReadReactor<demo::Req> *ClientStream(grpc::CallbackServerContext *,
                                                   demo::Resp *resp) override {
    return new AuditReactor(resp);
  }
};

// A client wrapper made on the stack of a sync handler, whose default member
// initialiser makes the channel.
class Session {
public:
  bool Ready() { return channel_->GetState(false) == GRPC_CHANNEL_READY; }

private:
  std::shared_ptr<grpc::Channel> channel_ =
      grpc::CreateChannel("sessions:50051", grpc::InsecureChannelCredentials());
      // CHECK-NOTES: :[[@LINE-1]]:7: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
      // CHECK-NOTES: :[[@LINE+5]]:13: note: 'Session' is constructed here
      // CHECK-NOTES: :[[@LINE+3]]:16: note: 'Unary' handles each request
};
class Sessions final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override {
    Session session;
    return session.Ready() ? grpc::Status::OK : grpc::Status::CANCELLED;
  }
};

// ===== Async call data: every method is a request step ======================
// The completion-queue loop that runs Proceed() is in another file.

// A step makes a channel that dies with it; the object re-arms with
// RequestUnary(..., this), creates its successor and deletes itself.
class LookupCall {
public:
  LookupCall(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq)
      : service_(service), cq_(cq), responder_(&ctx_) {
    Proceed();
  }
  void Proceed() {
    if (state_ == kCreate) {
      state_ = kProcess;
      service_->RequestUnary(&ctx_, &req_, &responder_, cq_, cq_, this);
    } else if (state_ == kProcess) {
      new LookupCall(service_, cq_);
      auto catalog = grpc::CreateChannel("catalog:50051", grpc::InsecureChannelCredentials());
      // CHECK-NOTES: :[[@LINE-1]]:22: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
      // CHECK-NOTES: :[[@LINE-8]]:8: note: 'Proceed' handles each request
      catalog->GetState(true);
      state_ = kFinish;
      responder_.Finish(resp_, grpc::Status::OK, this);
    } else {
      delete this;
    }
  }

private:
  enum State { kCreate, kProcess, kFinish };
  State state_ = kCreate;
  demo::Demo::AsyncService *service_;
  grpc::ServerCompletionQueue *cq_;
  grpc::ServerContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder_;
};

// The constructor keeps a stub on a new channel; each step creates the
// successor, so every request builds one.
class PricingCall {
public:
  PricingCall(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq)
      : service_(service), cq_(cq), responder_(&ctx_),
        pricing_(demo::Demo::NewStub(
            grpc::CreateChannel("pricing:50051", grpc::InsecureChannelCredentials()))) {
    // CHECK-NOTES: :[[@LINE-1]]:13: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE+10]]:9: note: 'PricingCall' is constructed here
    // CHECK-NOTES: :[[@LINE+6]]:7: note: 'PricingCall' keeps it and deletes itself here
    // CHECK-NOTES: :[[@LINE+3]]:8: note: 'Proceed' handles each request
    service_->RequestUnary(&ctx_, &req_, &responder_, cq_, cq_, this);
  }
  void Proceed(bool ok) {
    if (done_ || !ok) {
      delete this;
      return;
    }
    new PricingCall(service_, cq_);
    done_ = true;
    responder_.Finish(resp_, grpc::Status::OK, this);
  }

private:
  demo::Demo::AsyncService *service_;
  grpc::ServerCompletionQueue *cq_;
  grpc::ServerContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder_;
  std::unique_ptr<demo::Demo::Stub> pricing_;
  bool done_ = false;
};

// The request call reached through a std::function that the object is given:
// the lambda passes its tag on, the object passes `this`.
class RoutedCall {
public:
  using Arm = std::function<void(grpc::ServerContext *, demo::Req *,
                                 grpc::ServerAsyncResponseWriter<demo::Resp> *, void *)>;
  explicit RoutedCall(Arm arm) : arm_(std::move(arm)), responder_(&ctx_) {
    arm_(&ctx_, &req_, &responder_, this);
  }
  void Process() {
    auto route = grpc::CreateChannel("routes:50051", grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:18: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE-3]]:8: note: 'Process' handles each request
    route->GetState(true);
    responder_.Finish(resp_, grpc::Status::OK, this);
  }

private:
  Arm arm_;
  grpc::ServerContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder_;
};
void StartRouting(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq) {
  new RoutedCall([service, cq](grpc::ServerContext *ctx, demo::Req *req,
                               grpc::ServerAsyncResponseWriter<demo::Resp> *responder,
                               void *tag) {
    service->RequestUnary(ctx, req, responder, cq, cq, tag);
  });
}

// The request call made through a member-function pointer by a factory,
// with the new call object as its tag.
class TicketCall {
public:
  TicketCall() : responder(&ctx) {}
  void Handle() {
    auto tickets = grpc::CreateChannel("tickets:50051", grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE-3]]:8: note: 'Handle' handles each request
    tickets->GetState(true);
    responder.Finish(resp, grpc::Status::OK, this);
  }
  grpc::ServerContext ctx;
  demo::Req req;
  demo::Resp resp;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder;
};
using RequestMethod = void (demo::Demo::AsyncService::*)(
    grpc::ServerContext *, demo::Req *, grpc::ServerAsyncResponseWriter<demo::Resp> *,
    grpc::CompletionQueue *, grpc::ServerCompletionQueue *, void *);
struct TicketFactory {
  demo::Demo::AsyncService *service;
  RequestMethod request = &demo::Demo::AsyncService::RequestUnary;
  void Arm(grpc::ServerCompletionQueue *cq) {
    auto *call = new TicketCall;
    (service->*request)(&call->ctx, &call->req, &call->responder, cq, cq, call);
  }
};

// ===== Heap objects that live for one request ================================

// The stub goes into a heap object that the completion callback deletes.
struct Outbound {
  std::unique_ptr<demo::Demo::Stub> stub;
  grpc::ClientContext ctx;
  demo::Req req;
  demo::Resp resp;
};
class Fanout final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx, const demo::Req *req,
                                  demo::Resp *) override {
    auto *reactor = ctx->DefaultReactor();
    auto *call = new Outbound;
    call->stub = demo::Demo::NewStub(
        grpc::CreateChannel("mirror:50051", grpc::InsecureChannelCredentials()));
    // CHECK-NOTES: :[[@LINE-1]]:9: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE+6]]:34: note: the object 'call' points to keeps it and is deleted here
    // CHECK-NOTES: :[[@LINE-8]]:29: note: 'Unary' handles each request
    call->req = *req;
    call->stub->async()->Unary(&call->ctx, &call->req, &call->resp,
                               [call, reactor](grpc::Status status) {
                                 reactor->Finish(status);
                                 delete call;
                               });
    return reactor;
  }
};

// A client reactor made per request that deletes itself when its call ends.
class Forwarder : public grpc::ClientUnaryReactor {
public:
  Forwarder(const demo::Req &req, grpc::ServerUnaryReactor *server)
      : stub_(demo::Demo::NewStub(
            grpc::CreateChannel("upstream:50051", grpc::InsecureChannelCredentials()))),
        // CHECK-NOTES: :[[@LINE-1]]:13: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
        // CHECK-NOTES: :[[@LINE+23]]:9: note: 'Forwarder' is constructed here
        // CHECK-NOTES: :[[@LINE+8]]:5: note: 'Forwarder' keeps it and deletes itself here
        // CHECK-NOTES: :[[@LINE+18]]:29: note: 'Unary' handles each request
        req_(req), server_(server) {
    stub_->async()->Unary(&ctx_, &req_, &resp_, this);
    StartCall();
  }
  void OnDone(const grpc::Status &status) override {
    server_->Finish(status);
    delete this;
  }

private:
  std::unique_ptr<demo::Demo::Stub> stub_;
  grpc::ClientContext ctx_;
  demo::Req req_;
  demo::Resp resp_;
  grpc::ServerUnaryReactor *server_;
};
class Proxy final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx, const demo::Req *req,
                                  demo::Resp *) override {
    auto *reactor = ctx->DefaultReactor();
    new Forwarder(*req, reactor);
    return reactor;
  }
};

// A server reactor that deletes itself keeps a channel in a member, replaced
// on every message.
class Relay : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  Relay() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    peer_ = grpc::CreateChannel(req_.name(), grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:13: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE+4]]:28: note: 'Relay' keeps it and deletes itself here
    // CHECK-NOTES: :[[@LINE-8]]:8: note: 'OnReadDone' handles each request
    StartRead(&req_);
  }
  void OnDone() override { delete this; }

private:
  std::shared_ptr<grpc::Channel> peer_;
  demo::Req req_;
};

// ===== Not reported ==========================================================

// A pool of call objects built once and reused: their constructors run once,
// and a member set lazily in a step is kept across requests.
class PooledCall {
public:
  PooledCall(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq)
      : service_(service), cq_(cq),
        backend_(grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials())) {
    Reset();
  }
  void Reset() {
    ctx_ = std::make_unique<grpc::ServerContext>();
    responder_ = std::make_unique<grpc::ServerAsyncResponseWriter<demo::Resp>>(ctx_.get());
    service_->RequestUnary(ctx_.get(), &req_, responder_.get(), cq_, cq_, this);
  }
  void Step() {
    if (!audit_)
      audit_ = grpc::CreateChannel("audit:50051", grpc::InsecureChannelCredentials());
    responder_->Finish(resp_, grpc::Status::OK, this);
  }

private:
  demo::Demo::AsyncService *service_;
  grpc::ServerCompletionQueue *cq_;
  std::shared_ptr<grpc::Channel> backend_;
  std::shared_ptr<grpc::Channel> audit_;
  std::unique_ptr<grpc::ServerContext> ctx_;
  std::unique_ptr<grpc::ServerAsyncResponseWriter<demo::Resp>> responder_;
  demo::Req req_;
  demo::Resp resp_;
};
class PooledServer {
public:
  PooledServer(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq) {
    for (int i = 0; i < 64; ++i)
      pool_.emplace_back(new PooledCall(service, cq));
  }

private:
  std::vector<std::unique_ptr<PooledCall>> pool_;
};

// The first call object, made once by Run(); it re-arms itself instead of
// making a successor. Its constructor's channel and the one its set-up
// method probes are made once.
class ReusedCall {
public:
  ReusedCall(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq)
      : service_(service), cq_(cq),
        stub_(demo::Demo::NewStub(
            grpc::CreateChannel("inventory:50051", grpc::InsecureChannelCredentials()))) {
    WarmUp();
    Arm();
  }
  void WarmUp() {
    auto probe = grpc::CreateChannel("inventory:50051", grpc::InsecureChannelCredentials());
    probe->GetState(true);
  }
  void Arm() {
    ctx_ = std::make_unique<grpc::ServerContext>();
    responder_ = std::make_unique<grpc::ServerAsyncResponseWriter<demo::Resp>>(ctx_.get());
    service_->RequestUnary(ctx_.get(), &req_, responder_.get(), cq_, cq_, this);
  }

private:
  demo::Demo::AsyncService *service_;
  grpc::ServerCompletionQueue *cq_;
  std::unique_ptr<demo::Demo::Stub> stub_;
  std::unique_ptr<grpc::ServerContext> ctx_;
  std::unique_ptr<grpc::ServerAsyncResponseWriter<demo::Resp>> responder_;
  demo::Req req_;
};
void Run(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq) {
  new ReusedCall(service, cq);
}

// A heap object that is kept when it connects: it outlives the request.
struct Link {
  std::unique_ptr<demo::Demo::Stub> stub;
};
class Linker final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *req, demo::Resp *) override {
    auto *link = new Link;
    link->stub = demo::Demo::NewStub(
        grpc::CreateChannel(req->name(), grpc::InsecureChannelCredentials()));
    if (link->stub == nullptr) {
      delete link;
      return grpc::Status::CANCELLED;
    }
    links_.push_back(link);
    return grpc::Status::OK;
  }
  std::vector<Link *> links_;
};

// A tunnel that closes itself, made lazily and kept in a member of the
// service: made once, not per request.
class Tunnel {
public:
  explicit Tunnel(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}
  void Close() { delete this; }

private:
  std::shared_ptr<grpc::Channel> channel_;
};
class Tunnels final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override {
    if (!tunnel_)
      tunnel_ = new Tunnel(grpc::CreateChannel("tunnel:50051", grpc::InsecureChannelCredentials()));
    return grpc::Status::OK;
  }
  Tunnel *tunnel_ = nullptr;
};

// A client reactor for a long-lived stream sets its channel once; a client
// reactor is not an object per request.
class Subscriber : public grpc::ClientReadReactor<demo::Resp> {
public:
  void OnReadDone(bool ok) override {
    if (!notify_)
      notify_ = grpc::CreateChannel("notify:50051", grpc::InsecureChannelCredentials());
    if (ok)
      StartRead(&resp_);
  }
  void OnDone(const grpc::Status &) override { delete this; }

private:
  std::shared_ptr<grpc::Channel> notify_;
  demo::Resp resp_;
};

// A wrapper whose channel comes from a cache (a helper with a static map),
// made per request: the cache keeps the channel.
class Cached final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *req, demo::Resp *) override {
    CachedLedgerClient client(req->name());
    return client.stub() ? grpc::Status::OK : grpc::Status::CANCELLED;
  }
};

// A client wrapper with a default member initialiser that makes a channel,
// and a constructor that takes a channel instead.
class Directory {
public:
  Directory() = default;
  explicit Directory(std::shared_ptr<grpc::Channel> shared) : channel_(std::move(shared)) {}
  bool Ready() { return channel_->GetState(false) == GRPC_CHANNEL_READY; }

private:
  std::shared_ptr<grpc::Channel> channel_ =
      grpc::CreateChannel("directory:50051", grpc::InsecureChannelCredentials());
};

// The service builds its client once: a member of the service, which main()
// builds once.
class Owner final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override {
    return directory_.Ready() ? grpc::Status::OK : grpc::Status::CANCELLED;
  }
  Directory directory_;
};

// Per request, a wrapper given the service's channel: that constructor does
// not use the default member initialiser.
class Shared final : public demo::Demo::Service {
public:
  explicit Shared(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override {
    Directory directory(channel_);
    return directory.Ready() ? grpc::Status::OK : grpc::Status::CANCELLED;
  }

private:
  std::shared_ptr<grpc::Channel> channel_;
};

// A framework's client template whose constructor makes the channel,
// constructed once in main().
template <typename Service> class RpcClient {
public:
  explicit RpcClient(const std::string &target)
      : stub_(Service::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}
  typename Service::Stub *stub() { return stub_.get(); }

private:
  std::unique_ptr<typename Service::Stub> stub_;
};
int main() {
  RpcClient<demo::Demo> client("backend:50051");
  Owner owner;
  return client.stub() ? 0 : 1;
}

// ===== A header's wrapper in a per-request reactor ===========================
// (last: the header's finding is printed after this file's)

// The reactor's member is a LedgerClient (ledger_client.h), whose default
// member initialisers make a channel: one per RPC.
class Backup : public grpc::ServerBidiReactor<demo::Req, demo::Resp> {
public:
  Backup() { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (ok)
      StartRead(&req_);
    else
      Finish(grpc::Status::OK);
  }
  void OnDone() override { delete this; }

private:
  LedgerClient ledger_;
  demo::Req req_;
};
class Backups final : public demo::Demo::CallbackService {
  grpc::ServerBidiReactor<demo::Req, demo::Resp> *Bidi(grpc::CallbackServerContext *) override {
    return new Backup();
  }
};
// CHECK-NOTES: ledger_client.h:25:7: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
// CHECK-NOTES: :[[@LINE-9]]:16: note: member 'ledger_' is constructed here, by the constructor of 'Backup'
// CHECK-NOTES: :[[@LINE-5]]:16: note: 'Backup' is constructed here
// CHECK-NOTES: :[[@LINE-14]]:28: note: 'Backup' keeps it and deletes itself here
// CHECK-NOTES: :[[@LINE-8]]:51: note: 'Bidi' handles each request
