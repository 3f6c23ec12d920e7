#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// An editor sends half-written code: this body has errors and is skipped.
void HalfWritten(demo::Demo::Stub &stub, grpc_channel_credentials *creds) {
  grpc::ClientContext ctx;
  grpc_channel *channel = grpc_channel_create("x", creds, nullptr);
  auto stream = stub.Bidi(&ctx, undeclared_thing);
  stub.NoSuchMethod(&ctx);
}

// This one is complete and still reported.
void Complete(grpc_channel_credentials *creds) {
  grpc_channel *channel = grpc_channel_create("y", creds, nullptr);
  (void)channel;
}
