// RUN: %check_grpc_leak -check-suffix=DEFAULT %s grpc-leak-channel-per-request %t -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=HANDLERS %s grpc-leak-channel-per-request %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-per-request.HandlerFunctionRegex: '^HandleJob$'}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=NOREACTIONS %s grpc-leak-channel-per-request %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-per-request.TreatReactionsAsHandlers: false, grpc-leak-channel-per-request.TreatCqLoopCalleesAsHandlers: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=STUBS %s grpc-leak-channel-per-request %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-per-request.IncludeStubs: true, grpc-leak-channel-per-request.TreatReactionsAsHandlers: false, grpc-leak-channel-per-request.TreatCqLoopCalleesAsHandlers: false}}" -- -- %grpc_flags
// RUN: %check_grpc_leak -check-suffix=SHALLOW %s grpc-leak-channel-per-request %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-per-request.CallDepth: 0, grpc-leak-channel-per-request.TreatReactionsAsHandlers: false, grpc-leak-channel-per-request.TreatCqLoopCalleesAsHandlers: false}}" -- -- %grpc_flags

// RUN: %check_grpc_leak -check-suffix=TRIPS %s grpc-leak-channel-per-request %t \
// RUN:   -config="{CheckOptions: {grpc-leak-channel-per-request.MinLoopTripCount: 4}}" -- -- %grpc_flags

#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// HandlerFunctionRegex: a team's own per-request entry point.
void HandleJob(int job) {
  auto channel = grpc::CreateChannel("jobs:1", grpc::InsecureChannelCredentials());
  // CHECK-MESSAGES-HANDLERS: :[[@LINE-1]]:18: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
  channel->GetState(true);
}

// TreatReactionsAsHandlers / TreatCqLoopCalleesAsHandlers.
class Reader : public grpc::ServerReadReactor<demo::Req> {
public:
  void OnReadDone(bool) override {
    auto channel = grpc::CreateChannel("audit:1", grpc::InsecureChannelCredentials());
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-MESSAGES-HANDLERS: :[[@LINE-2]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-MESSAGES-TRIPS: :[[@LINE-3]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    channel->GetState(true);
  }
  void OnDone() override {}
};

// IncludeStubs: a stub per request on a shared channel; CallDepth: how far
// the helper is.
class Svc final : public demo::Demo::Service {
public:
  explicit Svc(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *req, demo::Resp *resp) override {
    auto stub = demo::Demo::NewStub(channel_);
    // CHECK-MESSAGES-STUBS: :[[@LINE-1]]:17: warning: gRPC stub created by 'NewStub' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    Audit();
    grpc::ClientContext ctx;
    return stub->Unary(&ctx, *req, resp);
  }
  static void Audit() {
    auto channel = grpc::CreateChannel("audit:1", grpc::InsecureChannelCredentials());
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-MESSAGES-HANDLERS: :[[@LINE-2]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-MESSAGES-NOREACTIONS: :[[@LINE-3]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-MESSAGES-STUBS: :[[@LINE-4]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    // CHECK-MESSAGES-TRIPS: :[[@LINE-5]]:20: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
    channel->GetState(true);
  }

private:
  std::shared_ptr<grpc::Channel> channel_;
};

// MinLoopTripCount: a handler that tries three channels. By default the loop
// repeats it (grpc-leak-channel-in-loop's finding); with 4 the loop does not
// count and the handler repeats it.
class Retrying final : public demo::Demo::Service {
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *, demo::Resp *) override {
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto channel = grpc::CreateChannel("retry:1", grpc::InsecureChannelCredentials());
      // CHECK-MESSAGES-TRIPS: :[[@LINE-1]]:22: warning: gRPC channel created by 'CreateChannel' for every request is destroyed when the request ends; create it once (for example in the service's constructor) and reuse it [grpc-leak-channel-per-request]
      if (channel->GetState(true) == GRPC_CHANNEL_READY)
        return grpc::Status::OK;
    }
    return grpc::Status::CANCELLED;
  }
};
