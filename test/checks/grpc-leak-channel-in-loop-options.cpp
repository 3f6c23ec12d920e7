// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-channel-in-loop %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=EXTRA %s grpc-leak-channel-in-loop %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-in-loop.ExtraChannelFactories: 'mylib::MakeChannel'}}" -- -- %grpc_flags

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
    // CHECK-NOTES-DEFAULT: :[[@LINE+7]]:3: note: the algorithm call that repeats it is here
    // CHECK-NOTES-STUBS: :[[@LINE-3]]:37: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-STUBS: :[[@LINE+5]]:3: note: the algorithm call that repeats it is here
    // CHECK-NOTES-EXTRA: :[[@LINE-5]]:37: warning: gRPC channel created by 'CreateChannel' in every loop iteration is destroyed before the next one; create it once outside the loop and reuse it [grpc-leak-channel-in-loop]
    // CHECK-NOTES-EXTRA: :[[@LINE+3]]:3: note: the algorithm call that repeats it is here
    return stub != nullptr;
  };
  std::for_each(targets.begin(), targets.end(), probe);
}
