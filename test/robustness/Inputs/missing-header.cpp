// An #include that does not resolve is a fatal error: Clang stops reading
// further headers, so everything that needed grpcpp is undeclared.
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include "does_not_exist.h"
#include <grpcpp/grpcpp.h>

void UsesMissingHeader(const std::shared_ptr<grpc::Channel> &channel) {
  grpc::ClientContext ctx;
  auto stub = demo::Demo::NewStub(channel);
  NotDeclaredAnywhere(ctx, stub);
}

// Needs only the C core headers, which were included before the error.
void CompleteLeak(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}
