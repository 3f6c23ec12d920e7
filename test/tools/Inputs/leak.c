/* A C translation unit: the C core is used from C too. stddef.h comes from
   Clang's resource directory, which the driver must find by itself. */
#include <stddef.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

void Leak(const char *target) {
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  grpc_channel *ch = grpc_channel_create(target, creds, NULL);
  grpc_channel_credentials_release(creds);
  size_t unused = 0;
  (void)unused;
  (void)ch;
}
