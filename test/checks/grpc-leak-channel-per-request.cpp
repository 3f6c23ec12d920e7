// RUN: %check_grpc_leak %s grpc-leak-channel-per-request %t -- -- %grpc_flags
//
// A channel created for each request a server handles and destroyed when
// the request ends. Real gRPC 1.51 headers and generated stubs.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

using Clock = std::chrono::system_clock;

// ===== A new channel per request =============================================

// A sync handler builds its backend client inline.
class Frontend final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *server, const demo::Req *req,
                     demo::Resp *resp) override {
    auto channel = grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE-4]]:16: note: 'Unary' handles each request
    auto stub = demo::Demo::NewStub(channel);
    auto ctx = grpc::ClientContext::FromServerContext(*server);
    return stub->Unary(ctx.get(), *req, resp);
  }
};

// Through a helper, two calls down from the handler.
static std::unique_ptr<demo::Demo::Stub> BackendStub() {
  return demo::Demo::NewStub(
      grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials()));
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
  // CHECK-NOTES: :[[@LINE+6]]:15: note: 'BackendStub' is called here
  // CHECK-NOTES: :[[@LINE+12]]:12: note: 'Forward' is called here
  // CHECK-NOTES: :[[@LINE+9]]:16: note: 'Unary' handles each request
}
static grpc::Status Forward(grpc::ServerContext *server, const demo::Req &req,
                            demo::Resp *resp) {
  auto stub = BackendStub();
  auto ctx = grpc::ClientContext::FromServerContext(*server);
  return stub->Unary(ctx.get(), req, resp);
}
class ViaHelper final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *server, const demo::Req *req,
                     demo::Resp *resp) override {
    return Forward(server, *req, resp);
  }
};

// A client wrapper constructed in a callback-API handler.
class BackendClient {
public:
  BackendClient()
      : stub_(demo::Demo::NewStub(
            grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials()))) {}
  // CHECK-NOTES: :[[@LINE-1]]:13: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
  // CHECK-NOTES: :[[@LINE+10]]:19: note: 'BackendClient' is constructed here
  // CHECK-NOTES: :[[@LINE+7]]:29: note: 'Unary' handles each request
  bool Ping() { return stub_ != nullptr; }

private:
  std::unique_ptr<demo::Demo::Stub> stub_;
};
class Callback final : public demo::Demo::CallbackService {
  grpc::ServerUnaryReactor *Unary(grpc::CallbackServerContext *ctx, const demo::Req *,
                                  demo::Resp *) override {
    BackendClient client;
    client.Ping();
    auto *reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// A reactor reaction runs once per message.
class Upload : public grpc::ServerReadReactor<demo::Req> {
public:
  void OnReadDone(bool ok) override {
    auto channel = grpc::CreateChannel("audit:50051", grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE-3]]:8: note: 'OnReadDone' handles each request
    channel->GetState(true);
  }
  void OnDone() override { delete this; }
};

// The async server's CallData step, run from the completion-queue loop.
class CallData {
public:
  void Proceed() {
    auto channel = grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-NOTES: :[[@LINE+9]]:5: note: 'Proceed' is called here
    // CHECK-NOTES: :[[@LINE+7]]:3: note: this completion-queue loop runs it for every request step
    channel->GetState(true);
  }
};
void HandleRpcs(grpc::ServerCompletionQueue *cq) {
  void *tag;
  bool ok;
  while (cq->Next(&tag, &ok))
    static_cast<CallData *>(tag)->Proceed();
}

// ===== Not reported ==========================================================

// Made once, in the service's constructor.
class Reused final : public demo::Demo::Service {
public:
  Reused()
      : backend_(demo::Demo::NewStub(
            grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials()))) {}
  grpc::Status Unary(grpc::ServerContext *server, const demo::Req *req,
                     demo::Resp *resp) override {
    auto ctx = grpc::ClientContext::FromServerContext(*server);
    return backend_->Unary(ctx.get(), *req, resp);
  }

private:
  std::unique_ptr<demo::Demo::Stub> backend_;
};

// Made lazily on the first request, then kept in a member.
class Lazy final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *server, const demo::Req *req,
                     demo::Resp *resp) override {
    std::call_once(once_, [this] {
      backend_ = demo::Demo::NewStub(
          grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials()));
    });
    if (!other_)
      other_ = grpc::CreateChannel("other:50051", grpc::InsecureChannelCredentials());
    auto ctx = grpc::ClientContext::FromServerContext(*server);
    return backend_->Unary(ctx.get(), *req, resp);
  }
  std::once_flag once_;
  std::unique_ptr<demo::Demo::Stub> backend_;
  std::shared_ptr<grpc::Channel> other_;
};

// A process-wide channel in a function-local static.
class Static final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override {
    static auto channel =
        grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials());
    channel->GetState(true);
    return grpc::Status::OK;
  }
};

// main() makes one client; a class that is not a gRPC service.
int main() {
  auto channel = grpc::CreateChannel("backend:50051", grpc::InsecureChannelCredentials());
  channel->GetState(true);
  return 0;
}
struct NotAService {
  virtual void Unary() {}
};
struct Fixture : NotAService {
  void Unary() override {
    auto channel = grpc::CreateChannel("x:1", grpc::InsecureChannelCredentials());
    channel->GetState(true);
  }
};

// A channel per loop iteration inside a handler is grpc-leak-channel-in-loop's.
class LoopInHandler final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override {
    for (int i = 0; i < 3; ++i) {
      auto channel = grpc::CreateChannel("x:1", grpc::InsecureChannelCredentials());
      channel->GetState(true);
    }
    return grpc::Status::OK;
  }
};

// Only service method overrides are handlers: not the destructor, not an
// override of another base's virtual.
struct Startable {
  virtual ~Startable() = default;
  virtual void Start() = 0;
};
class Mixed final : public demo::Demo::Service, public Startable {
public:
  ~Mixed() override {
    auto channel = grpc::CreateChannel("x:1", grpc::InsecureChannelCredentials());
    channel->GetState(true);
  }
  void Start() override {
    auto channel = grpc::CreateChannel("x:1", grpc::InsecureChannelCredentials());
    channel->GetState(true);
  }
};
