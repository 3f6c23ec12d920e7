// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-channel-in-loop %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=EXTRA %s grpc-leak-channel-in-loop %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-in-loop.ExtraChannelFactories: 'mylib::MakeChannel'}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=TRIPS %s grpc-leak-channel-in-loop %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-in-loop.MinLoopTripCount: 4}}" -- -- %grpc_flags

#include <string>
#include <vector>
#include <grpcpp/grpcpp.h>

// ExtraChannelFactories: a team's own factory that returns a new channel.
namespace mylib {
std::shared_ptr<grpc::Channel> MakeChannel(const std::string &target);
}

void Poll(const std::vector<std::string> &targets) {
  for (const auto &target : targets) {
    auto channel = mylib::MakeChannel(target);
    // CHECK-NOTES-EXTRA: :[[@LINE-1]]:20: warning: gRPC channel created by 'MakeChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-EXTRA: :[[@LINE-3]]:3: note: the loop that repeats it is here
    channel->GetState(true);
  }
}

// RUN: %check_grpc_leak -check-suffix=STUBS %s grpc-leak-channel-in-loop %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-in-loop.IncludeStubs: true}}" -- -- %grpc_flags
#include <algorithm>
#include <grpcpp/generic/generic_stub.h>
#include "demo.grpc.pb.h"

// IncludeStubs: stubs built per iteration on a channel made once before.
void StubsOnSharedChannel(const std::vector<std::string> &targets) {
  auto channel = grpc::CreateChannel("shared:1", grpc::InsecureChannelCredentials());
  for (const auto &target : targets) {
    auto stub = demo::Demo::NewStub(channel);
    // CHECK-NOTES-STUBS: :[[@LINE-1]]:17: warning: gRPC stub created by 'NewStub' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-STUBS: :[[@LINE-3]]:3: note: the loop that repeats it is here
    grpc::GenericStub generic(channel);
    // CHECK-NOTES-STUBS: :[[@LINE-1]]:23: warning: gRPC stub created by 'TemplatedGenericStub' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-STUBS: :[[@LINE-6]]:3: note: the loop that repeats it is here
  }
  // A named lambda given to an algorithm.
  auto probe = [](const std::string &target) {
    auto stub = demo::Demo::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    // CHECK-NOTES-DEFAULT: :[[@LINE-1]]:37: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-DEFAULT: :[[@LINE+9]]:3: note: the algorithm call that repeats it is here
    // CHECK-NOTES-STUBS: :[[@LINE-3]]:37: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-STUBS: :[[@LINE+7]]:3: note: the algorithm call that repeats it is here
    // CHECK-NOTES-EXTRA: :[[@LINE-5]]:37: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-EXTRA: :[[@LINE+5]]:3: note: the algorithm call that repeats it is here
    // CHECK-NOTES-TRIPS: :[[@LINE-7]]:37: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-TRIPS: :[[@LINE+3]]:3: note: the algorithm call that repeats it is here
    return stub != nullptr;
  };
  std::for_each(targets.begin(), targets.end(), probe);
}

// MinLoopTripCount: a retry loop with a constant bound of 3 builds a client
// per attempt. With the default (2) it is a loop; with 4 it is not.
class RetryClient {
public:
  explicit RetryClient(const std::string &target)
      : channel_(grpc::CreateChannel(target, grpc::InsecureChannelCredentials())) {}
  // CHECK-NOTES-DEFAULT: :[[@LINE-1]]:18: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES-DEFAULT: :[[@LINE+15]]:17: note: 'RetryClient' is constructed here
  // CHECK-NOTES-DEFAULT: :[[@LINE+13]]:3: note: the loop that repeats it is here
  // CHECK-NOTES-EXTRA: :[[@LINE-4]]:18: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES-EXTRA: :[[@LINE+12]]:17: note: 'RetryClient' is constructed here
  // CHECK-NOTES-EXTRA: :[[@LINE+10]]:3: note: the loop that repeats it is here
  // CHECK-NOTES-STUBS: :[[@LINE-7]]:18: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
  // CHECK-NOTES-STUBS: :[[@LINE+9]]:17: note: 'RetryClient' is constructed here
  // CHECK-NOTES-STUBS: :[[@LINE+7]]:3: note: the loop that repeats it is here
  bool Ok() { return channel_->GetState(true) == GRPC_CHANNEL_READY; }

private:
  std::shared_ptr<grpc::Channel> channel_;
};
int Connect(const std::string &target) {
  for (int attempt = 1; attempt <= 3; ++attempt) {
    RetryClient client(target);
    if (client.Ok())
      return attempt;
  }
  return 0;
}

// A loop that runs once is never a loop.
void Once(const std::string &target) {
  for (int i = 0; i < 1; ++i) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    channel->GetState(true);
  }
}

// A small loop inside a loop that is not: the outer loop repeats it.
void Watch(const std::string &target, const bool &running) {
  while (running) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
      // CHECK-NOTES-DEFAULT: :[[@LINE-1]]:22: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
      // CHECK-NOTES-DEFAULT: :[[@LINE-3]]:5: note: the loop that repeats it is here
      // CHECK-NOTES-EXTRA: :[[@LINE-3]]:22: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
      // CHECK-NOTES-EXTRA: :[[@LINE-5]]:5: note: the loop that repeats it is here
      // CHECK-NOTES-STUBS: :[[@LINE-5]]:22: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
      // CHECK-NOTES-STUBS: :[[@LINE-7]]:5: note: the loop that repeats it is here
      // CHECK-NOTES-TRIPS: :[[@LINE-7]]:22: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
      // CHECK-NOTES-TRIPS: :[[@LINE-10]]:3: note: the loop that repeats it is here
      if (channel->GetState(true) == GRPC_CHANNEL_READY)
        break;
    }
  }
}
