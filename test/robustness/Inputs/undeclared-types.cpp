// gRPC names that do not exist, next to real ones.
#include <chrono>
#include <memory>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/grpcpp.h>
#include "demo.grpc.pb.h"

// A variable of an undeclared gRPC type.
void UndeclaredLocal(const char *target, grpc_channel_credentials *creds) {
  grpc::NoSuchThing thing;
  grpc_channel *unused = grpc_channel_create(target, creds, nullptr);
  (void)unused;
}

// An undeclared type in the signature.
void UndeclaredParam(grpc::NoSuchThing &thing, const char *target,
                     grpc_channel_credentials *creds) {
  grpc_channel *param = grpc_channel_create(target, creds, nullptr);
  (void)param;
}

// An undeclared member function, a made-up method on a stub, an undeclared
// namespace.
void UndeclaredCalls(demo::Demo::Stub &stub, const char *target,
                     grpc_channel_credentials *creds) {
  grpc::ClientContext ctx;
  ctx.set_no_such_deadline(std::chrono::seconds(1));
  demo::Req req;
  demo::Resp resp;
  stub.NoSuchMethod(&ctx, req, &resp);
  auto reader = stub.ServerStream(&ctx, req);
  grpc_channel *calls = grpc_nosuch::grpc_channel_create(target, creds, nullptr);
  (void)calls;
}

// A real function, using a real API: still reported.
void CompleteLeak(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}
