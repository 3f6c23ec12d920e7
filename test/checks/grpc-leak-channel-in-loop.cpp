// RUN: %check_grpc_leak %s grpc-leak-channel-in-loop %t -- -- %grpc_flags
//
// A channel created in a loop body and destroyed in the same iteration.
// Real gRPC 1.51 headers and generated stubs.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

using Clock = std::chrono::system_clock;

// ===== A new channel per iteration ==========================================

// The incident's discovery poller: a channel and a stub per target per poll.
void PollTargets(const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES: :[[@LINE-3]]:3: note: the loop that repeats it is here
    auto stub = demo::Demo::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(Clock::now() + std::chrono::milliseconds(500));
    demo::Req req;
    demo::Resp resp;
    stub->Unary(&ctx, req, &resp);
  }
}

// Created inline as the stub's argument, in a while loop.
void Retry(const std::string &target, int attempts) {
  while (attempts-- > 0) {
    auto stub = demo::Demo::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    // CHECK-NOTES: :[[@LINE-1]]:9: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES: :[[@LINE-4]]:3: note: the loop that repeats it is here
    grpc::ClientContext ctx;
    ctx.set_deadline(Clock::now() + std::chrono::seconds(1));
    demo::Req req;
    demo::Resp resp;
    if (stub->Unary(&ctx, req, &resp).ok())
      return;
  }
}

// A custom channel in a do-while, used only through a temporary stub.
void Probe(const std::string &target) {
  grpc::ChannelArguments args;
  do {
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateCustomChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES: :[[@LINE-3]]:3: note: the loop that repeats it is here
    if (channel->GetState(true) == GRPC_CHANNEL_READY)
      break;
  } while (true);
}

// ===== Channels that outlive the iteration: not reported ====================

class Pool {
public:
  // A pool filled once, in a constructor loop.
  explicit Pool(const std::vector<std::string> &targets) {
    for (const auto &target : targets)
      stubs_.push_back(demo::Demo::NewStub(
          grpc::CreateChannel(target, grpc::InsecureChannelCredentials())));
  }

  // A lazy cache: created on the first miss, then reused.
  demo::Demo::Stub *For(const std::string &target) {
    auto it = cache_.find(target);
    if (it == cache_.end())
      it = cache_.emplace(target, demo::Demo::NewStub(grpc::CreateChannel(
                                      target, grpc::InsecureChannelCredentials())))
               .first;
    return it->second.get();
  }

  // A reconnect loop whose channel is kept on success.
  void Connect(const std::string &target) {
    while (true) {
      auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
      if (channel->WaitForConnected(Clock::now() + std::chrono::seconds(5))) {
        channel_ = channel;
        return;
      }
    }
  }

  // A channel handed to a function that may keep it.
  void Register(const std::vector<std::string> &targets) {
    for (const auto &target : targets)
      Adopt(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }
  void Adopt(std::shared_ptr<grpc::Channel> channel);

private:
  std::vector<std::unique_ptr<demo::Demo::Stub>> stubs_;
  std::map<std::string, std::unique_ptr<demo::Demo::Stub>> cache_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Created once, before the loop; only stubs per iteration (cheap).
void Hoisted(const std::string &target, int n) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  for (int i = 0; i < n; ++i) {
    auto stub = demo::Demo::NewStub(channel);
    (void)stub;
  }
}

// The init statement of a for loop runs once.
void InitStatement(const std::string &target, int n) {
  for (auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
       n > 0; --n) {
    auto stub = demo::Demo::NewStub(channel);
    (void)stub;
  }
}

// A function-local static is created once per process.
void StaticLocal(const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    static auto shared = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    (void)shared;
  }
}

// Created under std::call_once inside the loop: once.
void CallOnce(const std::vector<std::string> &targets) {
  static std::once_flag once;
  static std::shared_ptr<grpc::Channel> channel;
  for (const auto &target : targets)
    std::call_once(once, [&] {
      channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    });
}

// Returned from the loop to the caller.
std::shared_ptr<grpc::Channel> FirstReady(const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    if (channel->GetState(true) == GRPC_CHANNEL_READY)
      return channel;
  }
  return nullptr;
}

// The user's own judgement wins.
void Churn(const std::string &target) {
  for (int i = 0; i < 3; ++i) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials()); // NOLINT(grpc-leak-channel-in-loop)
    (void)channel;
  }
}

// ===== Through helpers, lambdas, algorithms and wrappers =====================

// A helper two calls down makes the channel; it dies in the helper.
static bool PingOnce(const std::string &target) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  // CHECK-NOTES: :[[@LINE-1]]:18: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES: :[[@LINE+10]]:10: note: 'PingOnce' is called here
  // CHECK-NOTES: :[[@LINE+13]]:5: note: 'CheckTarget' is called here
  // CHECK-NOTES: :[[@LINE+11]]:3: note: the loop that repeats it is here
  grpc::ClientContext ctx;
  ctx.set_deadline(Clock::now() + std::chrono::seconds(1));
  demo::Req req;
  demo::Resp resp;
  return demo::Demo::NewStub(channel)->Unary(&ctx, req, &resp).ok();
}
static bool CheckTarget(const std::string &target) {
  return PingOnce(target);
}
void Discover(const std::vector<std::string> &targets) {
  for (const auto &target : targets)
    CheckTarget(target);
}

// A helper that returns a new stub, used once per iteration.
static std::unique_ptr<demo::Demo::Stub> MakeStub(const std::string &target) {
  return demo::Demo::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES: :[[@LINE+5]]:17: note: 'MakeStub' is called here
  // CHECK-NOTES: :[[@LINE+3]]:3: note: the loop that repeats it is here
}
void UseFreshStubs(const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    auto stub = MakeStub(target);
    (void)stub;
  }
}

// A client wrapper whose constructor builds the channel (grpc/grpc#22053),
// constructed per iteration, directly or through std::make_unique.
class GreeterClient {
public:
  explicit GreeterClient(const std::string &target)
      : stub_(demo::Demo::NewStub(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {}
  // CHECK-NOTES: :[[@LINE-1]]:13: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES: :[[@LINE+9]]:19: note: 'GreeterClient' is constructed here
  // CHECK-NOTES: :[[@LINE+7]]:3: note: the loop that repeats it is here
  bool Greet() { return stub_ != nullptr; }

private:
  std::unique_ptr<demo::Demo::Stub> stub_;
};
void GreetAll(const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    GreeterClient client(target);
    client.Greet();
  }
}
void GreetAllOnHeap(const std::vector<std::string> &targets) {
  for (const auto &target : targets)
    std::make_unique<GreeterClient>(target)->Greet();
}

// A lambda run by a std algorithm.
#include <algorithm>
void ForEachTarget(const std::vector<std::string> &targets) {
  std::for_each(targets.begin(), targets.end(), [](const std::string &target) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES: :[[@LINE-3]]:3: note: the algorithm call that repeats it is here
    channel->GetState(true);
  });
}

// A lambda called in a loop.
void LambdaInLoop(const std::vector<std::string> &targets) {
  auto probe = [](const std::string &target) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    // CHECK-NOTES: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES: :[[@LINE+5]]:5: note: 'probe' is called here
    // CHECK-NOTES: :[[@LINE+3]]:3: note: the loop that repeats it is here
    return channel->GetState(true);
  };
  for (const auto &target : targets)
    probe(target);
}

// A wrapper kept in a member container: built once, not per iteration.
class ClientPool {
public:
  explicit ClientPool(const std::vector<std::string> &targets) {
    for (const auto &target : targets)
      clients_.push_back(std::make_unique<GreeterClient>(target));
  }

private:
  std::vector<std::unique_ptr<GreeterClient>> clients_;
};

// A reference to a cache slot: the map keeps the channel.
void CacheSlot(std::map<std::string, std::shared_ptr<grpc::Channel>> &cache,
               const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    auto &slot = cache[target];
    if (!slot)
      slot = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  }
}

// A wrapper whose channel is handed out and kept elsewhere.
class Handle {
public:
  explicit Handle(const std::string &target)
      : channel_(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())) {}
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

private:
  std::shared_ptr<grpc::Channel> channel_;
};
void Collect(const std::vector<std::string> &targets,
             std::vector<std::shared_ptr<grpc::Channel>> &out) {
  for (const auto &target : targets) {
    Handle handle(target);
    out.push_back(handle.channel());
  }
}
