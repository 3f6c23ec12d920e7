// CI recipes' input: nothing to report.
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

void ProbeAndClose(const char* target) {
  grpc_channel_credentials* creds = grpc_insecure_credentials_create();
  grpc_channel* channel = grpc_channel_create(target, creds, nullptr);
  grpc_channel_credentials_release(creds);
  grpc_channel_destroy(channel);
}
