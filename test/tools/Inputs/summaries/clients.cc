#include "clients.h"
#include <grpc/support/alloc.h>
#include <cstdio>

std::unique_ptr<demo::Demo::Stub> MakeBackendClient(const std::string &target) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  return demo::Demo::NewStub(channel);
}

void WithDeadline(grpc::ClientContext *ctx, std::chrono::milliseconds timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
}

void TagCall(grpc::ClientContext *ctx) { ctx->AddMetadata("x-trace", "1"); }

std::unique_ptr<grpc::ClientReader<demo::Resp>>
OpenFeed(demo::Demo::Stub *stub, grpc::ClientContext *ctx, const demo::Req &req) {
  return stub->ServerStream(ctx, req);
}

void CloseCoreChannel(grpc_channel *channel) { grpc_channel_destroy(channel); }

void DescribeCoreChannel(grpc_channel *channel) {
  char *target = grpc_channel_get_target(channel);
  std::printf("%s\n", target);
  gpr_free(target);
}

void StopQueue(grpc::CompletionQueue *cq) {
  cq->Shutdown();
  void *tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
  }
}

int DrainFeed(grpc::ClientReader<demo::Resp> *feed) {
  demo::Resp resp;
  int n = 0;
  while (feed->Read(&resp))
    ++n;
  return n;
}

bool ConsumeFeed(grpc::ClientReader<demo::Resp> *feed) {
  DrainFeed(feed);
  return feed->Finish().ok();
}

bool AwaitBackend(demo::Demo::Stub *stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  demo::Req req;
  demo::Resp resp;
  return stub->Unary(&ctx, req, &resp).ok();
}
