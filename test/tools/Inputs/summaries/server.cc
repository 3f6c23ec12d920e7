// The server's file: every helper it calls is defined in clients.cc.
#include "clients.h"
#include <vector>

class Front final : public demo::Demo::Service {
 public:
  // Per request: a new backend client (channel) each time.
  grpc::Status Unary(grpc::ServerContext *, const demo::Req *req,
                     demo::Resp *resp) override {
    auto backend = MakeBackendClient("127.0.0.1:50051");
    grpc::ClientContext ctx;
    WithDeadline(&ctx, std::chrono::milliseconds(500));
    return backend->Unary(&ctx, *req, resp);
  }
};

// In a loop: one client per target and attempt.
int ProbeAll(const std::vector<std::string> &targets) {
  int alive = 0;
  for (const std::string &target : targets) {
    auto client = MakeBackendClient(target);
    grpc::ClientContext ctx;
    WithDeadline(&ctx, std::chrono::milliseconds(200));
    demo::Req req;
    demo::Resp resp;
    if (client->Unary(&ctx, req, &resp).ok())
      ++alive;
  }
  return alive;
}

// The deadline comes from a helper: no finding.
int ReadFeedBounded(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  WithDeadline(&ctx, std::chrono::seconds(2));
  demo::Req req;
  auto reader = stub->ServerStream(&ctx, req);
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return reader->Finish().ok() ? n : -1;
}

// A helper that only tags the call: the stream has no deadline.
int ReadFeedTraced(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  TagCall(&ctx);
  demo::Req req;
  auto reader = stub->ServerStream(&ctx, req);
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return reader->Finish().ok() ? n : -1;
}

// The stream is started by a helper, on a context with no deadline.
int ReadFeedViaHelper(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = OpenFeed(stub, &ctx, req);
  demo::Resp resp;
  int n = 0;
  while (reader->Read(&resp))
    ++n;
  return reader->Finish().ok() ? n : -1;
}

// Released by a helper: no finding.
void CoreReleased() {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create("127.0.0.1:50051", creds, nullptr);
  grpc_channel_credentials_release(creds);
  CloseCoreChannel(channel);
}

// Given to a helper that only describes it: leaked.
void CoreDescribed() {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create("127.0.0.1:50051", creds, nullptr);
  grpc_channel_credentials_release(creds);
  DescribeCoreChannel(channel);
}

// Shut down and drained by a helper: no finding.
void QueueStopped() {
  grpc::CompletionQueue cq;
  StopQueue(&cq);
}

// Drained by a helper that does not finish it: the status is lost.
int FeedDrained(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  WithDeadline(&ctx, std::chrono::seconds(2));
  demo::Req req;
  auto reader = stub->ServerStream(&ctx, req);
  return DrainFeed(reader.get());
}

// Finished by a helper: no finding.
bool FeedConsumed(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  WithDeadline(&ctx, std::chrono::seconds(2));
  demo::Req req;
  auto reader = stub->ServerStream(&ctx, req);
  return ConsumeFeed(reader.get());
}

// A reaction that waits for the backend through a helper.
class Checker final : public grpc::ServerReadReactor<demo::Req> {
 public:
  explicit Checker(demo::Demo::Stub *stub) : stub_(stub) { StartRead(&req_); }
  void OnReadDone(bool ok) override {
    if (!ok || !AwaitBackend(stub_)) {
      Finish(grpc::Status::OK);
      return;
    }
    StartRead(&req_);
  }
  void OnDone() override { delete this; }

 private:
  demo::Demo::Stub *stub_;
  demo::Req req_;
};
