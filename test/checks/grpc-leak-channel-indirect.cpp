// RUN: %check_grpc_leak -check-suffix=LOOP %s grpc-leak-channel-in-loop %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=REQ %s grpc-leak-channel-per-request %t -- -- %grpc_flags
//
// Channels made through calls the AST does not name directly: a
// std::function holding a lambda, a virtual method and its overrides, a
// wrapper whose default member initialiser makes the channel, a class
// template. Such a call repeats a creation only if every function it may run
// makes a new channel on each call. Real gRPC 1.51 headers and generated
// stubs.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// ===== Through a std::function ===============================================

// A local std::function holding a lambda that makes the channel.
void PollAll(const std::vector<std::string> &targets) {
  std::function<std::shared_ptr<grpc::Channel>(const std::string &)> make =
      [](const std::string &target) {
        return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
      // CHECK-NOTES-LOOP: :[[@LINE-1]]:16: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
      // CHECK-NOTES-LOOP: :[[@LINE+4]]:37: note: 'make' is called here; it holds the lambda that creates the channel
      // CHECK-NOTES-LOOP: :[[@LINE+2]]:3: note: the loop that repeats it is here
      };
  for (const auto &target : targets) {
    auto stub = demo::Demo::NewStub(make(target));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    demo::Req req;
    demo::Resp resp;
    stub->Unary(&ctx, req, &resp);
  }
}

// A std::function member, given a lambda in the constructor, that calls a
// helper returning a new channel.
static std::shared_ptr<grpc::Channel> Dial(const std::string &target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  // CHECK-NOTES-LOOP: :[[@LINE-1]]:10: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES-LOOP: :[[@LINE+6]]:62: note: 'Dial' is called here
  // CHECK-NOTES-LOOP: :[[@LINE+8]]:7: note: 'connect_' is called here; it holds the lambda that calls 'Dial'
  // CHECK-NOTES-LOOP: :[[@LINE+6]]:5: note: the loop that repeats it is here
}
class Prober {
public:
  Prober() : connect_([](const std::string &target) { return Dial(target); }) {}
  void ProbeAll(const std::vector<std::string> &targets) {
    for (const auto &target : targets)
      connect_(target)->GetState(true);
  }

private:
  std::function<std::shared_ptr<grpc::Channel>(const std::string &)> connect_;
};

// ===== Through a virtual method ==============================================

// The only override makes a channel on each call.
class ChannelSource {
public:
  virtual ~ChannelSource() = default;
  virtual std::shared_ptr<grpc::Channel> Get(const std::string &target) = 0;
};
class FreshChannels : public ChannelSource {
public:
  std::shared_ptr<grpc::Channel> Get(const std::string &target) override {
    return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  // CHECK-NOTES-LOOP: :[[@LINE-1]]:12: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES-LOOP: :[[@LINE+6]]:5: note: 'Get' is called here and may dispatch to 'FreshChannels::Get'
  // CHECK-NOTES-LOOP: :[[@LINE+4]]:3: note: the loop that repeats it is here
  }
};
void Sweep(ChannelSource &source, const std::vector<std::string> &targets) {
  for (const auto &target : targets)
    source.Get(target)->GetState(true);
}

// Per request, through a virtual factory whose every override makes one.
class StubFactory {
public:
  virtual ~StubFactory() = default;
  virtual std::unique_ptr<demo::Demo::Stub> Open() = 0;
};
class DialingFactory : public StubFactory {
public:
  std::unique_ptr<demo::Demo::Stub> Open() override {
    return demo::Demo::NewStub(
        grpc::CreateChannel("orders:50051", grpc::InsecureChannelCredentials()));
  // CHECK-NOTES-REQ: :[[@LINE-1]]:9: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
  // CHECK-NOTES-REQ: :[[@LINE+9]]:17: note: 'Open' is called here and may dispatch to 'DialingFactory::Open'
  // CHECK-NOTES-REQ: :[[@LINE+6]]:16: note: 'Unary' handles each request
  }
};
class Orders final : public demo::Demo::Service {
public:
  explicit Orders(StubFactory *factory) : factory_(factory) {}
  grpc::Status Unary(grpc::ServerContext *server, const demo::Req *req,
                     demo::Resp *resp) override {
    auto stub = factory_->Open();
    auto ctx = grpc::ClientContext::FromServerContext(*server);
    return stub->Unary(ctx.get(), *req, resp);
  }

private:
  StubFactory *factory_;
};

// ===== Members that make a channel ===========================================

// A wrapper whose default member initialiser makes a channel, built per
// iteration.
class Pinger {
public:
  bool Ping() { return channel_->GetState(true) != GRPC_CHANNEL_SHUTDOWN; }

private:
  std::shared_ptr<grpc::Channel> channel_ =
      grpc::CreateChannel("health:50051", grpc::InsecureChannelCredentials());
      // CHECK-NOTES-LOOP: :[[@LINE-1]]:7: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
      // CHECK-NOTES-LOOP: :[[@LINE+6]]:12: note: 'Pinger' is constructed here
      // CHECK-NOTES-LOOP: :[[@LINE+4]]:3: note: the loop that repeats it is here
};
int CountHealthy(int rounds) {
  int healthy = 0;
  for (int i = 0; i < rounds; ++i) {
    Pinger pinger;
    healthy += pinger.Ping();
  }
  return healthy;
}

// A framework's client template whose constructor makes the channel, built
// per iteration (its instantiation is analysed).
template <typename Service> class RpcClient {
public:
  explicit RpcClient(const std::string &target)
      : stub_(Service::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}
  // CHECK-NOTES-LOOP: :[[@LINE-1]]:32: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES-LOOP: :[[@LINE+9]]:27: note: 'RpcClient<demo::Demo>' is constructed here
  // CHECK-NOTES-LOOP: :[[@LINE+7]]:3: note: the loop that repeats it is here
  typename Service::Stub *stub() { return stub_.get(); }

private:
  std::unique_ptr<typename Service::Stub> stub_;
};
void CallEach(const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    RpcClient<demo::Demo> client(target);
    (void)client.stub();
  }
}

// A wrapper built by std::make_unique in each iteration: the note is on the
// make_unique call.
class Tracer {
public:
  explicit Tracer(const std::string &target)
      : channel_(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())) {}
  // CHECK-NOTES-LOOP: :[[@LINE-1]]:18: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES-LOOP: :[[@LINE+9]]:5: note: 'Tracer' is constructed here
  // CHECK-NOTES-LOOP: :[[@LINE+7]]:3: note: the loop that repeats it is here
  void Flush() { channel_->GetState(true); }

private:
  std::shared_ptr<grpc::Channel> channel_;
};
void FlushAll(const std::vector<std::string> &targets) {
  for (const auto &target : targets)
    std::make_unique<Tracer>(target)->Flush();
}

// ===== Not reported ==========================================================

// A virtual beside pools: the per-call policy makes a channel each time, the
// pools hand out channels made once. Which one runs is not known here.
class ChannelPolicy {
public:
  virtual ~ChannelPolicy() = default;
  virtual std::shared_ptr<grpc::Channel> Pick() = 0;
};
class PerCallPolicy : public ChannelPolicy {
public:
  explicit PerCallPolicy(std::function<std::shared_ptr<grpc::Channel>()> creator)
      : creator_(std::move(creator)) {}
  std::shared_ptr<grpc::Channel> Pick() override { return creator_(); }

private:
  std::function<std::shared_ptr<grpc::Channel>()> creator_;
};
class FixedPool : public ChannelPolicy {
public:
  explicit FixedPool(int size) {
    for (int i = 0; i < size; ++i)
      channels_.push_back(grpc::CreateChannel("storage:443", grpc::InsecureChannelCredentials()));
  }
  std::shared_ptr<grpc::Channel> Pick() override { return channels_[next_++ % channels_.size()]; }

private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  size_t next_ = 0;
};
class RotatingPool : public ChannelPolicy {
public:
  std::shared_ptr<grpc::Channel> Pick() override { return channels_[next_++ % channels_.size()]; }
  void Evict(size_t slot) {
    channels_[slot] = grpc::CreateChannel("storage:443", grpc::InsecureChannelCredentials());
  }

private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_{4};
  size_t next_ = 0;
};
std::unique_ptr<ChannelPolicy> MakePolicy(const std::string &name) {
  if (name == "percall")
    return std::make_unique<PerCallPolicy>(
        [] { return grpc::CreateChannel("storage:443", grpc::InsecureChannelCredentials()); });
  if (name == "rotating")
    return std::make_unique<RotatingPool>();
  return std::make_unique<FixedPool>(8);
}
void ReadObjects(ChannelPolicy &policy, int count) {
  for (int i = 0; i < count; ++i) {
    auto stub = demo::Demo::NewStub(policy.Pick());
    (void)stub;
  }
}

// A std::function given either a lambda that makes a channel or one that
// returns a channel made once.
void Refresh(bool fresh, const std::vector<std::string> &targets) {
  auto shared = grpc::CreateChannel("shared:50051", grpc::InsecureChannelCredentials());
  std::function<std::shared_ptr<grpc::Channel>(const std::string &)> pick =
      [shared](const std::string &) { return shared; };
  if (fresh)
    pick = [](const std::string &target) {
      return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    };
  for (const auto &target : targets)
    pick(target)->GetState(true);
}

// A virtual whose base version returns a channel kept in a member.
class Backend {
public:
  virtual ~Backend() = default;
  virtual std::shared_ptr<grpc::Channel> Channel() { return channel_; }

protected:
  std::shared_ptr<grpc::Channel> channel_;
};
class FreshBackend : public Backend {
public:
  std::shared_ptr<grpc::Channel> Channel() override {
    return grpc::CreateChannel("fresh:50051", grpc::InsecureChannelCredentials());
  }
};
void Touch(Backend &backend, int n) {
  for (int i = 0; i < n; ++i)
    backend.Channel()->GetState(false);
}

// The template client built once, before the loop.
void CallAllOnce(const std::vector<std::string> &targets) {
  RpcClient<demo::Demo> client("gateway:50051");
  for (const auto &target : targets) {
    demo::Req req;
    req.set_name(target);
    (void)client.stub();
  }
}

// A call object that deletes itself, made in a loop to have several requests
// pending: it outlives the iteration.
class PendingCall {
public:
  PendingCall(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq)
      : responder_(&ctx_),
        audit_(grpc::CreateChannel("audit:50051", grpc::InsecureChannelCredentials())) {
    service->RequestUnary(&ctx_, &req_, &responder_, cq, cq, this);
  }
  void Done() { delete this; }

private:
  grpc::ServerContext ctx_;
  demo::Req req_;
  grpc::ServerAsyncResponseWriter<demo::Resp> responder_;
  std::shared_ptr<grpc::Channel> audit_;
};
void Prime(demo::Demo::AsyncService *service, grpc::ServerCompletionQueue *cq) {
  for (int i = 0; i < 16; ++i)
    new PendingCall(service, cq);
}
