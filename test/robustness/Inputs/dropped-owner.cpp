// The owner that releases the channel is declared in a header that was not
// included, so Clang drops the whole declaration statement: no trace of the
// error, or of the hand-over, stays in the function body.
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

void HandedToOwner(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *owned = grpc_channel_create(target, creds, nullptr);
  grpc::ChannelOwner owner(owned);
}

void CompleteLeak(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}
