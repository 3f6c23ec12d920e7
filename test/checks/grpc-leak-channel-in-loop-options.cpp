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
