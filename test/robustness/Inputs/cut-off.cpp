// A complete leaking function, then a function body cut off at end of file
// (in the middle of a stream loop, after a channel was created).
#include <chrono>
#include <memory>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

void CompleteLeak(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}

int CutOff(demo::Demo::Stub &stub, const char *target,
           grpc_channel_credentials *creds) {
  grpc_channel *cut = grpc_channel_create(target, creds, nullptr);
  grpc::ClientContext ctx;
  demo::Req req;
  auto reader = stub.ServerStream(&ctx, req);
  demo::Resp resp;
  while (reader->Read(&resp)) {
    if (resp.ByteSizeLong() == 0) {
      grpc_channel_destroy(cut);
