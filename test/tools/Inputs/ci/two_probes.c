/* CI recipes' input: one function leaks its channel (a finding from before
   the change), the other releases it. */
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

void ProbeOnce(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, creds, NULL);
  grpc_channel_credentials_release(creds);
  (void)channel;
}

void ProbeAndClose(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *channel = grpc_channel_create(target, creds, NULL);
  grpc_channel_credentials_release(creds);
  grpc_channel_destroy(channel);
}
