#pragma once
#include <grpc/grpc.h>
inline void HandwrittenHelper(const char *target, grpc_channel_credentials *creds) {
  grpc_channel *ch = grpc_channel_create(target, creds, nullptr);
  (void)ch;
}
