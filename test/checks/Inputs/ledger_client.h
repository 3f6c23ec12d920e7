// A header of the user's own project (not a system header): client wrappers
// that the per-request tests build. Included by
// grpc-leak-channel-per-request-objects.cpp and grpc-leak-channel-in-loop-indirect.cpp.
#ifndef LEDGER_CLIENT_H
#define LEDGER_CLIENT_H

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// Its default member initialisers make a channel and a stub on it each time
// a LedgerClient is made.
class LedgerClient {
public:
  LedgerClient() = default;
  explicit LedgerClient(std::shared_ptr<grpc::Channel> shared)
      : channel_(std::move(shared)) {}
  demo::Demo::Stub *stub() { return stub_.get(); }

private:
  std::shared_ptr<grpc::Channel> channel_ =
      grpc::CreateChannel("ledger:50051", grpc::InsecureChannelCredentials());
  std::unique_ptr<demo::Demo::Stub> stub_ = demo::Demo::NewStub(channel_);
};

// One channel per target for the whole process: a helper with a cache.
inline std::shared_ptr<grpc::Channel> SharedChannel(const std::string &target) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::lock_guard<std::mutex> lock(mu);
  auto found = channels.find(target);
  if (found != channels.end())
    return found->second;
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  channels.emplace(target, channel);
  return channel;
}

// A wrapper that takes its channel from that cache: cheap to make.
class CachedLedgerClient {
public:
  explicit CachedLedgerClient(const std::string &target)
      : stub_(demo::Demo::NewStub(SharedChannel(target))) {}
  demo::Demo::Stub *stub() { return stub_.get(); }

private:
  std::unique_ptr<demo::Demo::Stub> stub_;
};

#endif
