// Opened in grpc-leak-clangd by clangd-lsp.test.
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

void Leak(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  grpc_channel_credentials_release(creds);
  (void)ch;
}
